/// A compute node as the scheduler sees it.
public struct Node: Sendable, Hashable, Codable {
    public var name: String
    public var topology: NodeTopology
    public var features: Set<String>
    /// What an admin or the health checks said; idle/mixed/allocated follow from the jobs.
    public var adminState: NodeAdminState
    /// Why the node is drained, down or failed (Slurm's `Reason=`).
    public var reason: String?
    /// Slurm's node Weight: jobs are placed on the lowest-weight nodes that hold them first (the
    /// small or cheap nodes before the big ones).
    public var weight: Int

    public init(name: String, topology: NodeTopology, features: Set<String> = [],
                adminState: NodeAdminState = .up, reason: String? = nil, weight: Int = 1) {
        self.name = name
        self.topology = topology
        self.features = features
        self.adminState = adminState
        self.reason = reason
        self.weight = weight
    }

    /// True when new jobs may be placed here.
    public var acceptsJobs: Bool { adminState == .up }
}

public enum NodeAdminState: String, Sendable, Hashable, Codable {
    case up
    case drain
    case down
    case fail
}

/// The state shown to users (`sinfo`'s STATE column).
public enum NodeState: String, Sendable, Hashable, Codable, CaseIterable {
    case idle, mixed, allocated, drain, draining, down, fail

    /// Combines the admin state with how much of the node running jobs hold.
    public static func of(_ admin: NodeAdminState, usedCores: Int, totalCores: Int) -> NodeState {
        switch admin {
        case .down: return .down
        case .fail: return .fail
        case .drain: return usedCores > 0 ? .draining : .drain
        case .up:
            if usedCores == 0 { return .idle }
            return usedCores >= totalCores ? .allocated : .mixed
        }
    }
}
