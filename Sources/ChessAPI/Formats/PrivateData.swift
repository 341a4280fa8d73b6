/// `private_data`, Slurm's `PrivateData=`: what a user who is not an administrator may see of
/// other users' work. Empty (the default, as in Slurm) shows everything to everyone; each
/// name hides one kind. Root and operators always see everything.
public struct PrivateData: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Other users' jobs and steps: the queue, a job, its events, its running use, priorities
    /// and accounting (squeue, scontrol show job, sstat, sprio, sacct).
    public static let jobs = PrivateData(rawValue: 1 << 0)
    /// Other users' usage: their fair-share rows and the top-usage report (sshare, sreport).
    public static let usage = PrivateData(rawValue: 1 << 1)
    /// Accounts the user may not submit under.
    public static let accounts = PrivateData(rawValue: 1 << 2)
    /// Node state (sinfo, scontrol show node).
    public static let nodes = PrivateData(rawValue: 1 << 3)
    /// Partitions the user may not submit to.
    public static let partitions = PrivateData(rawValue: 1 << 4)
    /// Reservations the user may not use.
    public static let reservations = PrivateData(rawValue: 1 << 5)
    /// Accepted so that a slurm.conf's value carries over; CHESS has no view they would hide
    /// (Slurm's node events, cloud nodes and user records).
    public static let events = PrivateData(rawValue: 1 << 6)
    public static let cloud = PrivateData(rawValue: 1 << 7)
    public static let users = PrivateData(rawValue: 1 << 8)

    public static let names: [(String, PrivateData)] = [
        ("accounts", .accounts), ("cloud", .cloud), ("events", .events), ("jobs", .jobs), ("nodes", .nodes),
        ("partitions", .partitions), ("reservations", .reservations), ("usage", .usage), ("users", .users),
    ]

    /// One of Slurm's names, any case.
    public init?(name: String) {
        guard let found = PrivateData.names.first(where: { $0.0 == name.lowercased() }) else { return nil }
        self = found.1
    }

    /// The names set, in Slurm's order (for `chessctl config` and errors).
    public var description: String {
        PrivateData.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}
