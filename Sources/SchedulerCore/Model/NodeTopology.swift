/// What a node is made of, as the agent's hwloc probe reports it: the planner packs cores inside
/// NUMA domains and picks GPUs next to them, so it needs to know which is where.
public struct NodeTopology: Sendable, Hashable, Codable {
    public var sockets: Int
    /// Domains in OS order; every core belongs to exactly one.
    public var numaDomains: [NUMADomain]
    public var gpus: [GPUDevice]
    /// Hardware threads per core (CPUs = cores × threads, unless `cpus` says otherwise).
    public var threadsPerCore: Int
    /// The hardware threads of the node's cores, where cores differ (a hybrid CPU's performance
    /// and efficiency cores, an offline thread); nil: `coreCount × threadsPerCore`.
    public var cpus: Int?
    /// The leaf switch the node hangs off, for topology-aware placement (from configuration).
    public var leafSwitch: String?

    public init(sockets: Int, numaDomains: [NUMADomain], gpus: [GPUDevice] = [], threadsPerCore: Int = 1,
                leafSwitch: String? = nil) {
        self.sockets = sockets
        self.numaDomains = numaDomains
        self.gpus = gpus
        self.threadsPerCore = threadsPerCore
        self.leafSwitch = leafSwitch
    }

    /// A regular node: `sockets` sockets, one NUMA domain each, cores numbered socket by socket,
    /// memory split evenly, GPUs spread round-robin over the domains.
    public static func uniform(sockets: Int, coresPerSocket: Int, memoryMB: Int, gpus: Int = 0,
                               gpuType: String = "gpu", leafSwitch: String? = nil) -> NodeTopology {
        let domains = (0..<sockets).map { s in
            NUMADomain(id: s, cores: Array(s * coresPerSocket..<(s + 1) * coresPerSocket),
                       memoryMB: memoryMB / sockets)
        }
        let devices = (0..<gpus).map { g in GPUDevice(index: g, type: gpuType, numaDomain: g % max(sockets, 1)) }
        return NodeTopology(sockets: sockets, numaDomains: domains, gpus: devices, leafSwitch: leafSwitch)
    }

    public var coreCount: Int { numaDomains.reduce(0) { $0 + $1.cores.count } }
    /// Hardware threads (Slurm's CPUs).
    public var cpuCount: Int { cpus ?? coreCount * max(threadsPerCore, 1) }
    public var memoryMB: Int { numaDomains.reduce(0) { $0 + $1.memoryMB } }
    public var capacity: NodeCapacity { NodeCapacity(cores: coreCount, memoryMB: memoryMB, gpus: gpus.count) }
    /// GPU types present (a node normally has one).
    public var gpuTypes: Set<String> { Set(gpus.map(\.type)) }
}

public struct NUMADomain: Sendable, Hashable, Codable {
    public var id: Int
    /// Core indices (0-based, node-wide).
    public var cores: [Int]
    public var memoryMB: Int

    public init(id: Int, cores: [Int], memoryMB: Int) {
        self.id = id
        self.cores = cores
        self.memoryMB = memoryMB
    }
}

public struct GPUDevice: Sendable, Hashable, Codable {
    /// Index in PCI bus order, the order `CUDA_VISIBLE_DEVICES` uses.
    public var index: Int
    public var type: String
    /// The NUMA domain the device hangs off, when known.
    public var numaDomain: Int?

    public init(index: Int, type: String, numaDomain: Int?) {
        self.index = index
        self.type = type
        self.numaDomain = numaDomain
    }
}
