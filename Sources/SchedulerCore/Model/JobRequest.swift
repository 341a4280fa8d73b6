/// What a job asks for, as `#SBATCH`/`#CHESS` directives and flags express it.
public struct JobRequest: Sendable, Hashable, Codable {
    /// `--nodes`; nil lets the scheduler choose from the task count.
    public var nodes: Int?
    /// `--ntasks`.
    public var tasks: Int?
    /// `--ntasks-per-node`.
    public var tasksPerNode: Int?
    public var cpusPerTask: Int
    /// `--cpus-per-gpu`: a node's cores are at least its GPUs times this.
    public var cpusPerGPU: Int?
    public var memory: MemoryRequest?
    public var gpus: GPURequest?
    /// Seconds; nil takes the partition's default.
    public var timeLimit: Int?
    /// `--exclusive`; nil follows the partition.
    public var exclusive: Bool?
    /// `--constraint`, e.g. `ib&avx512` or `a100|h100`.
    public var constraint: FeatureExpression?
    /// `--reservation`.
    public var reservation: String?
    /// `--nodelist`: nodes the allocation must include (with `nodes` above their count, others
    /// are added). nil or empty: any.
    public var requiredNodes: [String]?
    /// `--exclude`: nodes the job must not be given.
    public var excludedNodes: [String]?
    /// `--licenses`: how many of each cluster license the job holds while it runs.
    public var licenses: [String: Int]?

    public init(nodes: Int? = nil, tasks: Int? = nil, tasksPerNode: Int? = nil, cpusPerTask: Int = 1,
                memory: MemoryRequest? = nil, gpus: GPURequest? = nil, timeLimit: Int? = nil,
                exclusive: Bool? = nil, constraint: FeatureExpression? = nil, reservation: String? = nil) {
        self.nodes = nodes
        self.tasks = tasks
        self.tasksPerNode = tasksPerNode
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.gpus = gpus
        self.timeLimit = timeLimit
        self.exclusive = exclusive
        self.constraint = constraint
        self.reservation = reservation
    }
}

public enum MemoryRequest: Sendable, Hashable, Codable {
    /// `--mem` (MiB per node); 0 is all of each node's memory, as in Slurm.
    case perNode(Int)
    /// `--mem-per-cpu` (MiB).
    case perCPU(Int)
    /// `--mem-per-gpu` (MiB per allocated GPU).
    case perGPU(Int)
}

public struct GPURequest: Sendable, Hashable, Codable {
    public enum Unit: String, Sendable, Hashable, Codable { case perNode, perTask }
    public var count: Int
    public var unit: Unit
    /// nil: any type.
    public var type: String?

    public init(count: Int, per unit: Unit = .perNode, type: String? = nil) {
        self.count = count
        self.unit = unit
        self.type = type
    }
}

/// A `--constraint` expression: features joined by `&` (all) or `|` (any), no brackets.
public struct FeatureExpression: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Disjunction of conjunctions: `a&b|c` is `[[a, b], [c]]` (`&` binds tighter, as in Slurm).
    public var alternatives: [[String]]

    public init?(_ text: String) {
        let alternatives = text.split(separator: "|", omittingEmptySubsequences: false).map { alt in
            alt.split(separator: "&", omittingEmptySubsequences: false)
                .map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
        }
        guard !alternatives.isEmpty, alternatives.allSatisfy({ $0.allSatisfy { !$0.isEmpty } }) else { return nil }
        self.alternatives = alternatives
    }

    public func matches(_ features: Set<String>) -> Bool {
        alternatives.contains { $0.allSatisfy(features.contains) }
    }

    public var description: String { alternatives.map { $0.joined(separator: "&") }.joined(separator: "|") }
}

/// The per-node shape of a job once its partition's nodes are known: the planner places
/// `nodeCount` nodes, each holding `perNode`.
public struct JobShape: Sendable, Hashable {
    public var nodeCount: Int
    public var perNode: NodeCapacity
    public var tasksPerNode: Int
    public var exclusive: Bool
    public var gpuType: String?
    /// `--mem=0`: all of each node's memory (`perNode.memoryMB` is then 0, the node decides).
    public var wholeNodeMemory = false

    /// Total resources held, for limits and accounting.
    public var tres: TRES {
        TRES(cpus: perNode.cores * nodeCount, memoryMB: perNode.memoryMB * nodeCount,
             gpus: perNode.gpus * nodeCount, nodes: nodeCount)
    }
}

extension JobRequest {
    /// The shape in a partition whose nodes have from `smallestCores` to `largestCores` cores:
    /// resolved against the smallest (so that any node can take a share), or, when a share does
    /// not fit it, against the largest (the nodes that hold it are then chosen by capacity).
    public func shape(smallestCores: Int, largestCores: Int, exclusiveByDefault: Bool) -> JobShape? {
        shape(coresPerNode: smallestCores, exclusiveByDefault: exclusiveByDefault)
            ?? shape(coresPerNode: largestCores, exclusiveByDefault: exclusiveByDefault)
    }

    /// Resolves the request against the smallest node it may land on (`coresPerNode`) into a
    /// uniform per-node shape. Tasks without `--nodes` are spread over the fewest nodes that hold
    /// them, evenly. An exclusive job's per-node need is its request; the planner gives it the
    /// whole node. Returns nil when the request is not satisfiable on such nodes at all.
    public func shape(coresPerNode: Int, exclusiveByDefault: Bool) -> JobShape? {
        let cpt = max(cpusPerTask, 1)
        var nodeCount: Int
        var tasksPerNode: Int
        if let n = nodes {
            nodeCount = max(n, 1)
            if let tpn = self.tasksPerNode {
                tasksPerNode = tpn
            } else if let t = tasks {
                tasksPerNode = (t + nodeCount - 1) / nodeCount
            } else {
                tasksPerNode = 1
            }
        } else if let tpn = self.tasksPerNode {
            let t = tasks ?? tpn
            nodeCount = (t + tpn - 1) / tpn
            tasksPerNode = tpn
        } else {
            let t = max(tasks ?? 1, 1)
            let tasksFit = max(coresPerNode / cpt, 1)
            nodeCount = (t + tasksFit - 1) / tasksFit
            tasksPerNode = (t + nodeCount - 1) / nodeCount
        }
        var gpus = 0
        if let g = self.gpus { gpus = g.unit == .perNode ? g.count : g.count * tasksPerNode }
        let cores = max(tasksPerNode * cpt, gpus * (cpusPerGPU ?? 0))
        guard cores <= coresPerNode, nodeCount >= 1 else { return nil }
        let memory: Int
        switch self.memory {
        case .perNode(let mb): memory = mb
        case .perCPU(let mb): memory = mb * cores
        case .perGPU(let mb): memory = mb * gpus
        case nil: memory = 0
        }
        return JobShape(nodeCount: nodeCount, perNode: NodeCapacity(cores: cores, memoryMB: memory, gpus: gpus),
                        tasksPerNode: tasksPerNode, exclusive: exclusive ?? exclusiveByDefault,
                        gpuType: self.gpus?.type, wholeNodeMemory: self.memory == .perNode(0))
    }
}
