/// squeue's `-o/--format` with `%` fields (`"%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"`), as
/// scripts written for Slurm pass it (`PercentFormat`).
public struct SqueueFormat: Sendable {
    let format: PercentFormat<QueueColumns.Column>

    /// The letters understood, with the column each shows.
    public static let letters: [Character: QueueColumns.Column] = [
        "i": .id, "A": .id, "P": .partition, "j": .name, "u": .user, "t": .state, "T": .statelong, "M": .time,
        "l": .timeLimit, "D": .nodes, "C": .cpus, "b": .gpus, "R": .reasonNodelist, "N": .nodelist, "r": .reason,
        "Q": .priority, "p": .priority, "q": .qos, "a": .account, "V": .submit, "S": .start,
        "L": .timeLeft, "e": .end, "y": .nice, "Z": .workdir, "W": .licenses,
    ]

    public init(_ text: String) throws(JobSpecSyntax.Error) {
        format = try PercentFormat(text, letters: Self.letters)
    }

    /// The header line: each field's column name, fitted like its values.
    public func header() -> String {
        format.render { QueueColumns.headers[$0.rawValue] ?? $0.rawValue.uppercased() }
    }

    public func row(_ job: JobInfo, now: Int) -> String {
        format.render { QueueColumns.cell($0, job, now: now) }
    }
}
