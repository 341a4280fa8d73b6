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

    public init(signal: String, secondsBefore: Int, batchOnly: Bool) {
        self.signal = signal
        self.secondsBefore = secondsBefore
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
