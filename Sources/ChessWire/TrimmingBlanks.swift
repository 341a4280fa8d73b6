extension StringProtocol {
    /// Without leading and trailing spaces and tabs (directive lines, HTTP header values). Plain
    /// Swift: Foundation's `trimmingCharacters` bridges through NSString, which shows in a
    /// short-lived command's start-up.
    public var trimmingBlanks: Substring {
        let s = Substring(self)
        let start = s.firstIndex { $0 != " " && $0 != "\t" } ?? s.endIndex
        let end = s.lastIndex { $0 != " " && $0 != "\t" }.map { s.index(after: $0) } ?? start
        return start < end ? s[start..<end] : s[start..<start]
    }
}
