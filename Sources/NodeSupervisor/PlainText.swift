import Glibc

/// Text the supervisor needs without Foundation (it links FoundationEssentials only: Foundation's
/// start-up alone cost it most of a millisecond per job): trimmed file contents, a line on
/// standard error. Paths: ChessWire's `PathText`.
enum PlainText {
    /// A small text's content without the ASCII whitespace around it (a number in a file, a word).
    static func trimmed(_ bytes: some Collection<UInt8>) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        let text = Array(bytes)
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: text[first...last], as: UTF8.self)
    }

    /// A line on standard error (the supervisor's output file).
    static func complain(_ message: String) {
        let line = message + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
