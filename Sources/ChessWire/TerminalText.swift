/// Text that other users wrote (a job's name, its working directory, a node's reason as an agent
/// reported it), printed on an administrator's terminal.
///
/// Why: a terminal acts on control characters instead of showing them. A job named
/// `"\u{1B}[2J…"` cleared the screen of root's `chessctl queue`; others move the cursor over
/// rows that are there (a job hidden from the listing), set the window title, or on some
/// terminals answer with text the shell then reads as typed input. Every control character but
/// the table's own tab and line break becomes `?`, byte for byte, so that widths and offsets
/// stay what they were: C0 (U+0000–U+001F), DEL, and C1 (U+0080–U+009F, two bytes in UTF-8,
/// `??`; some terminals take U+009B as CSI). `--json` output is not touched: JSON escapes C0
/// controls and is read by programs.
public enum TerminalText {
    /// Neutralizes `bytes` in place, keeping tabs and line breaks (the table's separators).
    public static func neutralize(_ bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let end = bytes.count
        var i = 0
        while i < end {
            if end - i >= 8 && !mayHoldControls(base + i) {
                i += 8
                continue
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if (b < 0x20 && b != 0x09 && b != 0x0A) || b == 0x7F {
                base.storeBytes(of: UInt8(ascii: "?"), toByteOffset: i, as: UInt8.self)
            } else if b == 0xC2, i + 1 < end, (0x80...0x9F).contains(base.load(fromByteOffset: i + 1, as: UInt8.self)) {
                base.storeBytes(of: UInt8(ascii: "?"), toByteOffset: i, as: UInt8.self)
                base.storeBytes(of: UInt8(ascii: "?"), toByteOffset: i + 1, as: UInt8.self)
                i += 1
            }
            i += 1
        }
    }

    /// `text` with every control character, tabs and line breaks included, as `?`: for a value
    /// printed on a line of its own (`show job`'s `JobName`), where a line break would start a
    /// line of the user's making.
    public static func neutralized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { neutralize($0) }
        for i in bytes.indices where bytes[i] == 0x09 || bytes[i] == 0x0A { bytes[i] = UInt8(ascii: "?") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether any of the eight bytes at `p` is a C0 control other than tab and line break,
    /// DEL, or 0xC2 (the lead byte of U+0080–U+00BF, C1 among them): most of a table is none,
    /// tabs included, and is passed over a word at a time. Each test is exact per byte (the
    /// additions stay within seven bits: no carry into the next byte).
    @inline(__always)
    static func mayHoldControls(_ p: UnsafeRawPointer) -> Bool {
        let x = p.loadUnaligned(as: UInt64.self)
        let ones: UInt64 = 0x0101_0101_0101_0101, low7 = ones &* 0x7F, highs = ones &* 0x80
        @inline(__always) func equal(_ c: UInt64) -> UInt64 {
            let y = x ^ (ones &* c)
            return ~(((y & low7) &+ low7) | y) & highs
        }
        let below20 = ~(((x & low7) &+ ones &* 0x60) | x) & highs
        return (below20 & ~equal(0x09) & ~equal(0x0A)) | equal(0x7F) | equal(0xC2) != 0
    }
}
