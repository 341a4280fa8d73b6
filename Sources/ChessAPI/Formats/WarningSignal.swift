/// sbatch's `--signal=[{R|B}:]SIG[@TIME]`: a signal sent to a running job TIME seconds (60 by
/// default) before its time limit, so that it can checkpoint before the TERM that ends it. `B:`
/// sends it to the batch script's shell alone; otherwise the job's whole process group gets it
/// (CHESS has no job steps: the batch script and what it started are the job). `R:` (Slurm's
/// "also when a reservation ends") is accepted and means nothing more here.
public struct WarningSignal: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The signal's name without `SIG` (`USR1`).
    public var signal: String
    public var secondsBefore: Int
    public var batchOnly: Bool

    init(signal: String, secondsBefore: Int, batchOnly: Bool) {
        self.signal = signal
        self.secondsBefore = secondsBefore
        self.batchOnly = batchOnly
    }

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
        signal = s.name
        secondsBefore = seconds
        self.batchOnly = batchOnly
    }

    /// As sbatch writes it: `B:USR1@60`.
    public var description: String { "\(batchOnly ? "B:" : "")\(signal)@\(secondsBefore)" }

    enum CodingKeys: String, CodingKey {
        case signal
        case secondsBefore = "seconds_before"
        case batchOnly = "batch_only"
    }
}
