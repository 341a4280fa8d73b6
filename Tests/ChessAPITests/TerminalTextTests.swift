import ChessAPI
import Testing

/// Other users' text on an administrator's terminal (`TerminalText`).
@Suite struct TerminalTextTests {
    /// What must come out: each control scalar as `?` per UTF-8 byte, tabs and line breaks kept.
    static func reference(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0x09 || v == 0x0A { out.unicodeScalars.append(scalar) }
            else if v < 0x20 || v == 0x7F { out += "?" }
            else if (0x80...0x9F).contains(v) { out += "??" }
            else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    static func neutralize(_ text: String) -> String {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { TerminalText.neutralize($0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func escapeSequencesAreShownNotActedOn() {
        #expect(Self.neutralize("ab\u{1B}[2Jcd\u{07}") == "ab?[2Jcd?")
        #expect(Self.neutralize("title\u{1B}]0;pwned\u{07}\tnext\n") == "title?]0;pwned?\tnext\n")
        #expect(Self.neutralize("csi\u{9B}31m del\u{7F} nul\u{0}") == "csi??31m del? nul?")
        // Look-alikes that are not controls stay: U+00A0 (0xC2 0xA0), é, CJK, emoji.
        #expect(Self.neutralize("\u{A0}é界😀") == "\u{A0}é界😀")
        #expect(TerminalText.neutralized("two\nlines\tand\u{1B}[A") == "two?lines?and?[A")
        #expect(TerminalText.neutralized("plain") == "plain")
    }

    /// Random text with controls at every offset (the word test skips eight bytes at a time).
    @Test func randomTextAsTheReferenceNeutralizesIt() {
        var rng = Xorshift(seed: 7)
        let pieces = ["a", "Z", " ", "~", "\t", "\n", "\u{1B}", "\u{7}", "\u{0}", "\u{7F}", "\u{9B}", "\u{85}", "\u{A0}", "é", "界", "😀", "[2J"]
        for round in 0..<2_000 {
            let text = (0..<Int(rng.next() % 40)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
            #expect(Self.neutralize(text) == Self.reference(text), "\(round): \(text.debugDescription)")
        }
    }
}
