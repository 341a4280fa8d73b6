/// Slurm's partition states: whether a partition takes new jobs and starts queued ones.
public enum PartitionState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Takes jobs and starts them.
    case up
    /// Takes jobs; starts none (they wait with reason PartitionDown); running ones go on.
    case down
    /// Takes no new jobs; starts the queued ones.
    case drain
    /// Neither takes nor starts jobs.
    case inactive

    public var takesJobs: Bool { self == .up || self == .down }
    public var startsJobs: Bool { self == .up || self == .drain }
}

/// A named set of nodes with its own limits and priority tier (Slurm's partition).
public struct Partition: Sendable, Hashable, Codable {
    public var name: String
    /// Node names, in configuration order.
    public var nodes: [String]
    /// Jobs in a higher tier are considered first, whatever their priority.
    public var priorityTier: Int
    /// Slurm's PriorityJobFactor: the partition component of multifactor priority.
    public var priorityJobFactor: Int
    /// Seconds; a job without a time limit gets `defaultTime`, else `maxTime`.
    public var defaultTime: Int?
    public var maxTime: Int?
    /// nil: any QoS/account may use the partition.
    public var allowedQoS: Set<String>?
    public var allowedAccounts: Set<String>?
    /// Jobs get whole nodes unless they ask otherwise (`OverSubscribe=EXCLUSIVE`).
    public var exclusiveByDefault: Bool
    /// `scontrol update partition … state=`: whether it takes and starts jobs.
    public var state: PartitionState
    /// Slurm's MaxNodes: the most nodes one job may have here.
    public var maxNodes: Int?
    /// Slurm's DefMemPerCPU / DefMemPerNode (MiB): the memory of a job that asks for none, so
    /// that every job's memory is reserved and limited.
    public var defMemPerCPU: Int?
    public var defMemPerNode: Int?
    /// Slurm's MaxMemPerCPU / MaxMemPerNode (MiB): more is refused at submit.
    public var maxMemPerCPU: Int?
    public var maxMemPerNode: Int?

    public init(name: String, nodes: [String], priorityTier: Int = 1, priorityJobFactor: Int = 1,
                defaultTime: Int? = nil, maxTime: Int? = nil, allowedQoS: Set<String>? = nil,
                allowedAccounts: Set<String>? = nil, exclusiveByDefault: Bool = false, state: PartitionState = .up,
                maxNodes: Int? = nil, defMemPerCPU: Int? = nil, defMemPerNode: Int? = nil, maxMemPerCPU: Int? = nil,
                maxMemPerNode: Int? = nil) {
        self.state = state
        self.maxNodes = maxNodes
        self.defMemPerCPU = defMemPerCPU
        self.defMemPerNode = defMemPerNode
        self.maxMemPerCPU = maxMemPerCPU
        self.maxMemPerNode = maxMemPerNode
        self.name = name
        self.nodes = nodes
        self.priorityTier = priorityTier
        self.priorityJobFactor = priorityJobFactor
        self.defaultTime = defaultTime
        self.maxTime = maxTime
        self.allowedQoS = allowedQoS
        self.allowedAccounts = allowedAccounts
        self.exclusiveByDefault = exclusiveByDefault
    }
}
