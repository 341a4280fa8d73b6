import ChessAPI

/// A node's hardware as the agent knows it: what registration reports (`wire`), plus what
/// launching needs and the controller does not (the OS CPU numbers of each core, for binding).
struct HostTopology: Sendable, Equatable {
    var wire: AgentTopology
    /// For each core (logical index, as the controller allocates them): its hardware threads'
    /// OS CPU numbers.
    var coreCPUs: [[Int]]
    /// OS index of each NUMA domain (for memory binding), by domain id.
    var numaOSIndex: [Int: Int]

    var coreCount: Int { coreCPUs.count }
}
