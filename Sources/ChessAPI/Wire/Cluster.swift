/// `ping`: is the controller there, and who does it think I am.
public struct PingResponse: Codable, Sendable, Equatable {
    public var cluster: String
    public var version: String
    public var now: Int
    public var uptime: Int
    public var user: String
    public var admin: Bool
    public var policy: String

    public init(cluster: String, version: String, now: Int, uptime: Int, user: String, admin: Bool, policy: String) {
        self.cluster = cluster
        self.version = version
        self.now = now
        self.uptime = uptime
        self.user = user
        self.admin = admin
        self.policy = policy
    }
}

/// A node as `nodes` and `show node` report it.
public struct NodeInfo: Codable, Sendable, Equatable {
    public var name: String
    /// idle, mixed, allocated, drain, draining, down, fail.
    public var state: String
    public var reason: String?
    public var partitions: [String]
    public var sockets: Int
    public var cores: Int
    /// Hardware threads.
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: [GPUInfo]
    public var numa: [NUMAInfo]
    public var hcas: [String]
    public var features: [String]
    public var allocatedCores: Int
    public var allocatedMemoryMB: Int
    public var allocatedGPUs: Int
    public var jobs: [Int]
    /// Unix time of the last heartbeat; nil: never registered.
    public var lastHeartbeat: Int?
    /// What the agent measured at its last heartbeat.
    public var metrics: NodeMetrics?
    public var leafSwitch: String?

    public struct GPUInfo: Codable, Sendable, Equatable {
        public var index: Int
        public var type: String
        public var numa: Int?
        public init(index: Int, type: String, numa: Int?) {
            self.index = index
            self.type = type
            self.numa = numa
        }
    }

    public struct NUMAInfo: Codable, Sendable, Equatable {
        public var id: Int
        public var cores: [Int]
        public var memoryMB: Int
        public var gpus: [Int]
        /// The NUMA nodes whose memory the domain holds, when there is more than its own (HBM,
        /// MCDRAM, CXL, NVDIMM attached to it), as the agent probed them.
        public var memoryNodes: [AgentTopology.MemoryNode]?
        public init(id: Int, cores: [Int], memoryMB: Int, gpus: [Int]) {
            self.id = id
            self.cores = cores
            self.memoryMB = memoryMB
            self.gpus = gpus
        }
        enum CodingKeys: String, CodingKey {
            case id, cores, gpus
            case memoryMB = "memory_mb"
            case memoryNodes = "memory_nodes"
        }
    }

    public init(name: String, state: String, partitions: [String], sockets: Int, cores: Int, cpus: Int, memoryMB: Int) {
        self.name = name
        self.state = state
        self.partitions = partitions
        self.sockets = sockets
        self.cores = cores
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = []
        self.numa = []
        self.hcas = []
        self.features = []
        self.allocatedCores = 0
        self.allocatedMemoryMB = 0
        self.allocatedGPUs = 0
        self.jobs = []
    }

    enum CodingKeys: String, CodingKey {
        case name, state, reason, partitions, sockets, cores, cpus, gpus, numa, hcas, features, jobs
        case memoryMB = "memory_mb"
        case allocatedCores = "allocated_cores"
        case allocatedMemoryMB = "allocated_memory_mb"
        case allocatedGPUs = "allocated_gpus"
        case lastHeartbeat = "last_heartbeat"
        case metrics
        case leafSwitch = "switch"
    }
}

public struct NodeList: Codable, Sendable, Equatable {
    public var nodes: [NodeInfo]
    /// The partitions in the configuration's order, for sinfo's columns (nil from an older chessd).
    public var partitions: [PartitionSummary]?
    public init(nodes: [NodeInfo], partitions: [PartitionSummary]? = nil) {
        self.nodes = nodes
        self.partitions = partitions
    }
}

/// What sinfo shows of a partition beside its nodes.
public struct PartitionSummary: Codable, Sendable, Equatable {
    public var name: String
    /// The partition jobs go to when they name none (sinfo marks it with `*`).
    public var isDefault: Bool
    /// MaxTime in seconds; nil is unlimited.
    public var maxTime: Int?
    /// up, down, drain or inactive (sinfo's AVAIL).
    public var state: String

    public init(name: String, isDefault: Bool, maxTime: Int?, state: String) {
        self.name = name
        self.isDefault = isDefault
        self.maxTime = maxTime
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case name, state
        case isDefault = "default"
        case maxTime = "max_time"
    }
}

/// `chessctl diag` (`GET /v1/diag`, sdiag): what chessd has done since it started.
public struct Diagnostics: Codable, Sendable, Equatable {
    public var time: Int
    public var startedAt: Int
    public var jobsSubmitted: Int
    /// Jobs and array tasks started (a requeued job's runs each count).
    public var jobsStarted: Int
    /// By final state (COMPLETED, FAILED, CANCELLED, TIMEOUT, …).
    public var jobsEnded: [String: Int]
    /// Waiting now (an array's waiting tasks each count), and running or suspended.
    public var jobsPending: Int
    public var jobsRunning: Int
    public var passes: Int
    public var lastPassMicroseconds: Int
    public var lastPassAt: Int?
    public var meanPassMicroseconds: Int
    public var maxPassMicroseconds: Int
    /// Nodes by state (idle, mixed, allocated, drain, down, …).
    public var nodes: [String: Int]
    /// Agents with registered nodes.
    public var agents: Int
    /// Store transactions since start, and the writes they carried (group commit).
    public var storeCommits: Int
    public var storeWrites: Int

    public init(time: Int, startedAt: Int, jobsSubmitted: Int, jobsStarted: Int, jobsEnded: [String: Int], jobsPending: Int,
                jobsRunning: Int, passes: Int, lastPassMicroseconds: Int, lastPassAt: Int?, meanPassMicroseconds: Int,
                maxPassMicroseconds: Int, nodes: [String: Int], agents: Int, storeCommits: Int, storeWrites: Int) {
        self.time = time
        self.startedAt = startedAt
        self.jobsSubmitted = jobsSubmitted
        self.jobsStarted = jobsStarted
        self.jobsEnded = jobsEnded
        self.jobsPending = jobsPending
        self.jobsRunning = jobsRunning
        self.passes = passes
        self.lastPassMicroseconds = lastPassMicroseconds
        self.lastPassAt = lastPassAt
        self.meanPassMicroseconds = meanPassMicroseconds
        self.maxPassMicroseconds = maxPassMicroseconds
        self.nodes = nodes
        self.agents = agents
        self.storeCommits = storeCommits
        self.storeWrites = storeWrites
    }

    enum CodingKeys: String, CodingKey {
        case time, passes, nodes, agents
        case startedAt = "started_at"
        case jobsSubmitted = "jobs_submitted"
        case jobsStarted = "jobs_started"
        case jobsEnded = "jobs_ended"
        case jobsPending = "jobs_pending"
        case jobsRunning = "jobs_running"
        case lastPassMicroseconds = "last_pass_us"
        case lastPassAt = "last_pass_at"
        case meanPassMicroseconds = "mean_pass_us"
        case maxPassMicroseconds = "max_pass_us"
        case storeCommits = "store_commits"
        case storeWrites = "store_writes"
    }
}

/// `chessctl stat` (`GET /v1/usage`, sstat): running jobs' use as their agents last measured it.
public struct JobUsageList: Codable, Sendable, Equatable {
    public var jobs: [JobLiveUsage]
    /// Running jobs no heartbeat has measured yet (display ids).
    public var unmeasured: [String]
    public init(jobs: [JobLiveUsage], unmeasured: [String]) {
        self.jobs = jobs
        self.unmeasured = unmeasured
    }
}

/// What `reconfigure` (`POST /v1/reconfigure`, scontrol reconfigure) took from the file.
public struct ReconfigureResponse: Codable, Sendable, Equatable {
    /// The file read.
    public var path: String
    public var nodesAdded: [String]
    public var nodesRemoved: [String]
    /// Settings read only at start whose new values wait for a restart (`state_dir`, `[market]`, …).
    public var restartNeeded: [String]
    /// Runtime changes (`chessctl partition|qos|account|reservation …`) the new file no longer
    /// allows, with why; they are not applied.
    public var skipped: [String]

    public init(path: String, nodesAdded: [String], nodesRemoved: [String], restartNeeded: [String], skipped: [String]) {
        self.path = path
        self.nodesAdded = nodesAdded
        self.nodesRemoved = nodesRemoved
        self.restartNeeded = restartNeeded
        self.skipped = skipped
    }

    enum CodingKeys: String, CodingKey {
        case path, skipped
        case nodesAdded = "nodes_added"
        case nodesRemoved = "nodes_removed"
        case restartNeeded = "restart_needed"
    }
}

/// `node drain|resume|down`.
public struct NodeStateChange: Codable, Sendable, Equatable {
    /// drain, resume, down.
    public var action: String
    public var reason: String?
    public init(action: String, reason: String?) {
        self.action = action
        self.reason = reason
    }
}

/// Partitions, QoS, accounts or reservations, each with the fields of its configuration entry.
public struct ConfigObjectList: Codable, Sendable, Equatable {
    public var objects: [[String: DocumentNode]]
    public init(objects: [[String: DocumentNode]]) { self.objects = objects }
}

/// `chessctl show config` (scontrol show config): chessd's settings as they are in effect now,
/// in order, as `Key = Value` pairs named after Slurm's where there is one.
public struct SettingList: Codable, Sendable, Equatable {
    public struct Setting: Codable, Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public var settings: [Setting]
    public init(settings: [Setting]) { self.settings = settings }
}

/// `chessctl show licenses` (scontrol show licenses): each cluster license, with how many running
/// jobs hold.
public struct LicenseList: Codable, Sendable, Equatable {
    public struct License: Codable, Sendable, Equatable {
        public var name: String
        public var total: Int
        public var used: Int
        public var free: Int
        public init(name: String, total: Int, used: Int) {
            self.name = name
            self.total = total
            self.used = used
            free = max(total - used, 0)
        }
    }

    public var licenses: [License]
    public init(licenses: [License]) { self.licenses = licenses }
}
