import ChessWire
/// sbatch's `--signal` text read into a `WarningSignal` (in ChessWire, which the supervisor reads
/// without ChessAPI's option syntax).
extension WarningSignal {
    public init(parsing text: String) throws(JobSpecSyntax.Error) {
        var body = Substring(text)
        var batchOnly = false
        if let colon = body.firstIndex(of: ":") {
            let flags = body[..<colon]
            guard !flags.isEmpty, flags.allSatisfy({ $0 == "B" || $0 == "R" }) else {
                throw JobSpecSyntax.Error("--signal: '\(text)': before ':' only B (the batch shell) or R may stand")
            }
            batchOnly = flags.contains("B")
            body = body[body.index(after: colon)...]
        }
        var seconds = 60
        if let at = body.firstIndex(of: "@") {
            guard let t = Int(body[body.index(after: at)...]), (0...65535).contains(t) else {
                throw JobSpecSyntax.Error("--signal: '\(text)': the time after @ must be seconds from 0 to 65535")
            }
            seconds = t
            body = body[..<at]
        }
        guard let s = SignalName(String(body)) else {
            throw JobSpecSyntax.Error("--signal: '\(text)': unknown signal '\(body)'; signals: \(SignalName.names) (or their numbers)")
        }
        self.init(signal: s.name, secondsBefore: seconds, batchOnly: batchOnly)
    }
}
