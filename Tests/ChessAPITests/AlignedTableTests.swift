import ChessAPI
import Testing

/// `chessctl queue`'s table layout (`AlignedTable`), held to a plain String implementation.
@Suite struct AlignedTableTests {
    /// What the table must print: every cell but a line's last padded to its column's widest
    /// cell (in Unicode scalars) and two spaces more; columns past the headers are not padded.
    static func reference(columns: Int, _ text: String) -> String {
        guard !text.isEmpty else { return "" }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        if text.hasSuffix("\n") { lines.removeLast() }
        var widths = [Int](repeating: 0, count: columns)
        for line in lines {
            for (c, cell) in line.enumerated() where c < columns { widths[c] = max(widths[c], cell.unicodeScalars.count) }
        }
        var out = ""
        for line in lines {
            for (c, cell) in line.enumerated() {
                out += cell
                if c < line.count - 1 {
                    let w = cell.unicodeScalars.count
                    out += String(repeating: " ", count: (c < columns ? widths[c] : w) - w + 2)
                }
            }
            out += "\n"
        }
        return out
    }

    static func layout(columns: Int, _ text: String, capacity: Int = 64 * 1024) -> String {
        var table = AlignedTable(columns: columns)
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { table.measure($0) }
        var printed: [UInt8] = []
        do {
            var out = ByteOutput(capacity: capacity) { printed.append(contentsOf: $0) }
            bytes.withUnsafeBytes { table.emit($0, to: &out) }
            out.finish()
        }
        return String(decoding: printed, as: UTF8.self)
    }

    @Test func aQueueLikeTableIsAligned() {
        let text = "JOBID\tPARTITION\tNAME\tNODELIST(REASON)\n1\tbatch\twrap\t(ReqNodeNotAvail, UnavailableNodes:n[0001-1000])\n1234567_[1-99%4]\tgpu\tréactions-α\tn[0001-0004]\n"
        #expect(Self.layout(columns: 4, text) == """
            JOBID             PARTITION  NAME         NODELIST(REASON)
            1                 batch      wrap         (ReqNodeNotAvail, UnavailableNodes:n[0001-1000])
            1234567_[1-99%4]  gpu        réactions-α  n[0001-0004]

            """)
    }

    /// Random cells — ASCII runs longer and shorter than a word, empty cells, multi-byte
    /// characters at every offset, ragged lines, a last line without its break — and buffers
    /// small enough to fill mid-cell and to be passed by a cell wider than them.
    @Test(arguments: [1, 7, 64, 64 * 1024]) func randomTablesComeOutAsTheReferenceLaysThemOut(capacity: Int) {
        var rng = Xorshift(seed: UInt64(capacity))
        let alphabet: [String] = ["a", "b", "Z", "0", "9", " ", "-", "(", ":", "é", "α", "→", "😀", "界"]
        for round in 0..<300 {
            let columns = Int(rng.next() % 6) + 1
            var text = ""
            for _ in 0..<Int(rng.next() % 12) {
                let cells = Int(rng.next() % UInt64(columns + 2))
                text += (0..<cells).map { _ -> String in
                    let long = rng.next() % 4 == 0
                    return (0..<Int(rng.next() % (long ? 40 : 9))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
                }.joined(separator: "\t")
                text += "\n"
            }
            if round % 3 == 0 { text += "last\tline without break" }
            #expect(Self.layout(columns: columns, text, capacity: capacity) == Self.reference(columns: columns, text), "\(round): \(text.debugDescription)")
        }
    }

    /// Bytes that are not UTF-8 pass through as they are (chessd sanitises cells; the table
    /// does not judge them).
    @Test func bytesThatAreNotUTF8PassThrough() {
        let raw: [UInt8] = [0x61, 0xFF, 0xFE, 0x09, 0x62, 0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x09, 0x63, 0x0A]
        var table = AlignedTable(columns: 2)
        raw.withUnsafeBytes { table.measure($0) }
        #expect(table.widths == [3, 1])  // lead bytes counted: 0xFF and 0xFE are, 0x80 is not
        var printed: [UInt8] = []
        do {
            var out = ByteOutput { printed.append(contentsOf: $0) }
            raw.withUnsafeBytes { table.emit($0, to: &out) }
        }
        #expect(printed == [0x61, 0xFF, 0xFE, 0x20, 0x20, 0x62, 0x0A] + [UInt8](repeating: 0x80, count: 8) + [0x20, 0x20, 0x20, 0x20, 0x20, 0x63, 0x0A])
    }
}

/// A small deterministic generator (the tests' inputs are the same on every run).
struct Xorshift {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
