/// `chessctl report` (sreport): what the cluster delivered over a period, from the accounting
/// records and the nodes' outages. Amounts are CPU-seconds (GPU-seconds for GPUs); the CLI
/// shows them in minutes, hours or percent as sreport does.

/// `chessctl report utilization` (sreport cluster utilization).
public struct UtilizationReport: Codable, Sendable, Equatable {
    /// `[start, end)`, Unix seconds; `end` is at most the time of the report.
    public var start: Int
    public var end: Int
    /// The configured nodes and their cores.
    public var nodes: Int
    public var cpus: Int
    /// Cores times the period.
    public var reported: Int
    /// Cores held by jobs during the period.
    public var allocated: Int
    /// Cores of nodes that were out (down by an administrator or with a silent agent).
    public var down: Int
    /// What is left: reported less allocated and down.
    public var idle: Int

    public init(start: Int, end: Int, nodes: Int, cpus: Int, reported: Int, allocated: Int, down: Int, idle: Int) {
        self.start = start
        self.end = end
        self.nodes = nodes
        self.cpus = cpus
        self.reported = reported
        self.allocated = allocated
        self.down = down
        self.idle = idle
    }
}

/// One user's share of a period: what their jobs held.
public struct UserUsage: Codable, Sendable, Equatable {
    public var user: String
    /// The accounts their jobs ran under, sorted.
    public var accounts: [String]
    public var cpuSeconds: Int
    public var gpuSeconds: Int
    /// Jobs (array tasks each) that held resources in the period.
    public var jobs: Int

    public init(user: String, accounts: [String], cpuSeconds: Int, gpuSeconds: Int, jobs: Int) {
        self.user = user
        self.accounts = accounts
        self.cpuSeconds = cpuSeconds
        self.gpuSeconds = gpuSeconds
        self.jobs = jobs
    }

    enum CodingKeys: String, CodingKey {
        case user, accounts, jobs
        case cpuSeconds = "cpu_seconds"
        case gpuSeconds = "gpu_seconds"
    }
}

/// `chessctl report topusage` (sreport user topusage): the users who used most, most first.
public struct TopUsageReport: Codable, Sendable, Equatable {
    public var start: Int
    public var end: Int
    /// The period's reported CPU-seconds, for percentages.
    public var reported: Int
    public var users: [UserUsage]

    public init(start: Int, end: Int, reported: Int, users: [UserUsage]) {
        self.start = start
        self.end = end
        self.reported = reported
        self.users = users
    }
}
