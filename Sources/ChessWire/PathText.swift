/// Paths as NSString's `lastPathComponent` and `deletingLastPathComponent` give them, without
/// Foundation: for the supervisor, sbatch and srun, which link none of it.
public enum PathText {
    /// `path` without trailing slashes ("/" stays "/").
    public static func trimmed(_ path: String) -> Substring {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return p
    }

    public static func lastComponent(_ path: String) -> String {
        let p = trimmed(path)
        guard p != "/", let slash = p.lastIndex(of: "/") else { return String(p) }
        return String(p[p.index(after: slash)...])
    }

    public static func parent(_ path: String) -> String {
        let p = trimmed(path)
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }
}
