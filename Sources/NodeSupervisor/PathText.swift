import Glibc

/// Path text as NSString's `lastPathComponent` and `deletingLastPathComponent` give it, without
/// NSString: the per-job supervisor links FoundationEssentials only (Foundation's start-up alone
/// cost it most of a millisecond per job).
enum PathText {
    /// `path` without trailing slashes ("/" stays "/").
    static func trimmed(_ path: String) -> Substring {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return p
    }

    static func lastComponent(_ path: String) -> String {
        let p = trimmed(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return String(p) }
        return String(p[p.index(after: slash)...])
    }

    static func parent(_ path: String) -> String {
        let p = trimmed(path)
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// A line on standard error (the supervisor's output file).
    static func complain(_ message: String) {
        let line = message + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
