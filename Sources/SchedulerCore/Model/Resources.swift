/// Trackable resources (Slurm's TRES): what a job holds and what limits count.
/// Memory is in MiB; GPUs are counted over all types.
public struct TRES: Sendable, Hashable, Codable {
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: Int
    public var nodes: Int

    public init(cpus: Int = 0, memoryMB: Int = 0, gpus: Int = 0, nodes: Int = 0) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
        self.nodes = nodes
    }

    public static let zero = TRES()

    public static func + (a: TRES, b: TRES) -> TRES {
        TRES(cpus: a.cpus + b.cpus, memoryMB: a.memoryMB + b.memoryMB, gpus: a.gpus + b.gpus, nodes: a.nodes + b.nodes)
    }

    public static func - (a: TRES, b: TRES) -> TRES {
        TRES(cpus: a.cpus - b.cpus, memoryMB: a.memoryMB - b.memoryMB, gpus: a.gpus - b.gpus, nodes: a.nodes - b.nodes)
    }
}

/// A cap on TRES (`MaxTRESPerJob=cpu=64,gres/gpu=4`): a nil field is unlimited.
public struct TRESLimit: Sendable, Hashable, Codable {
    public var cpus: Int?
    public var memoryMB: Int?
    public var gpus: Int?
    public var nodes: Int?

    public init(cpus: Int? = nil, memoryMB: Int? = nil, gpus: Int? = nil, nodes: Int? = nil) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
        self.nodes = nodes
    }

    public var isUnlimited: Bool { cpus == nil && memoryMB == nil && gpus == nil && nodes == nil }

    /// True when `usage` stays within every set cap.
    public func allows(_ usage: TRES) -> Bool {
        (cpus.map { usage.cpus <= $0 } ?? true) && (memoryMB.map { usage.memoryMB <= $0 } ?? true)
            && (gpus.map { usage.gpus <= $0 } ?? true) && (nodes.map { usage.nodes <= $0 } ?? true)
    }
}

/// Free or needed capacity on one node, the amount a node's `StepProfile` tracks.
public struct NodeCapacity: ProfileAmount, Hashable, Codable {
    public var cores: Int
    public var memoryMB: Int
    public var gpus: Int

    public init(cores: Int, memoryMB: Int, gpus: Int) {
        self.cores = cores
        self.memoryMB = memoryMB
        self.gpus = gpus
    }

    public static let zero = NodeCapacity(cores: 0, memoryMB: 0, gpus: 0)

    public static func + (a: NodeCapacity, b: NodeCapacity) -> NodeCapacity {
        NodeCapacity(cores: a.cores + b.cores, memoryMB: a.memoryMB + b.memoryMB, gpus: a.gpus + b.gpus)
    }

    public static func - (a: NodeCapacity, b: NodeCapacity) -> NodeCapacity {
        NodeCapacity(cores: a.cores - b.cores, memoryMB: a.memoryMB - b.memoryMB, gpus: a.gpus - b.gpus)
    }

    @inline(__always)
    public func covers(_ need: NodeCapacity) -> Bool {
        cores >= need.cores && memoryMB >= need.memoryMB && gpus >= need.gpus
    }
}
