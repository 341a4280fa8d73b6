/// The agent ⇄ controller protocol (`/v1/agent/*` on chessd's TCP listener, signed with the
/// cluster key; see `RequestSigning`). Agents dial the controller: registration, then
/// heartbeats that carry job completions and, held open up to `wait` seconds, bring back
/// commands (launch, signal, terminate) as soon as there are any.

/// A node's hardware as the agent's probe found it.
public struct AgentTopology: Codable, Sendable, Equatable {
    public struct Domain: Codable, Sendable, Equatable {
        public var id: Int
        public var cores: [Int]
        /// All the memory jobs in this domain may use: its own NUMA node's and that of the
        /// memory-only nodes attached to it.
        public var memoryMB: Int
        /// The NUMA nodes behind `memoryMB` when there is more than the domain's own (HBM, CXL…).
        public var memoryNodes: [MemoryNode]?
        public init(id: Int, cores: [Int], memoryMB: Int, memoryNodes: [MemoryNode]? = nil) {
            self.id = id
            self.cores = cores
            self.memoryMB = memoryMB
            self.memoryNodes = memoryNodes
        }
        enum CodingKeys: String, CodingKey {
            case id, cores
            case memoryMB = "memory_mb"
            case memoryNodes = "memory_nodes"
        }
    }

    /// One NUMA node's memory: the domain's own, or a memory-only node's (HBM, MCDRAM, CXL, NVDIMM).
    public struct MemoryNode: Codable, Sendable, Equatable {
        /// The kernel's node number.
        public var osIndex: Int
        /// hwloc's name for the memory (`DRAM`, `HBM`, `MCDRAM`, `NVM`…), when it knows one.
        public var kind: String?
        public var memoryMB: Int
        public init(osIndex: Int, kind: String?, memoryMB: Int) {
            self.osIndex = osIndex
            self.kind = kind
            self.memoryMB = memoryMB
        }
        enum CodingKeys: String, CodingKey {
            case kind
            case osIndex = "os_index"
            case memoryMB = "memory_mb"
        }
    }

    public struct GPU: Codable, Sendable, Equatable {
        public var index: Int
        public var type: String
        public var numa: Int?
        public var uuid: String?
        public var pciBusID: String?
        public init(index: Int, type: String, numa: Int?, uuid: String? = nil, pciBusID: String? = nil) {
            self.index = index
            self.type = type
            self.numa = numa
            self.uuid = uuid
            self.pciBusID = pciBusID
        }
        enum CodingKeys: String, CodingKey {
            case index, type, numa, uuid
            case pciBusID = "pci_bus_id"
        }
    }

    public var sockets: Int
    /// The most hardware threads of any core (Slurm's ThreadsPerCore); on a hybrid CPU, cores
    /// differ and `cpus` is the real total.
    public var threadsPerCore: Int
    /// Hardware threads of all the node's cores; nil from an agent that does not say.
    public var cpus: Int?
    public var numa: [Domain]
    public var gpus: [GPU]
    /// InfiniBand HCAs (`mlx5_0 port 1 ACTIVE 200 Gb/s`), as the probe describes them.
    public var hcas: [String]
    /// NUMA distances (libnuma's, 10 = local) between the domains, in domain order; nil when
    /// unknown (an XML topology without them).
    public var numaDistances: [[Int]]?

    public init(sockets: Int, threadsPerCore: Int, numa: [Domain], gpus: [GPU] = [], hcas: [String] = [],
                numaDistances: [[Int]]? = nil) {
        self.sockets = sockets
        self.threadsPerCore = threadsPerCore
        self.numa = numa
        self.gpus = gpus
        self.hcas = hcas
        self.numaDistances = numaDistances
    }

    enum CodingKeys: String, CodingKey {
        case sockets, numa, gpus, hcas, cpus
        case threadsPerCore = "threads_per_core"
        case numaDistances = "numa_distances"
    }
}

public struct AgentNodeReport: Codable, Sendable, Equatable {
    public var name: String
    public var topology: AgentTopology
    public init(name: String, topology: AgentTopology) {
        self.name = name
        self.topology = topology
    }
}

/// How a job ended on the agent, with what it used. Sent until acknowledged.
public struct JobCompletion: Codable, Sendable, Equatable {
    public var job: Int
    /// COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL (launch failure).
    public var state: String
    public var exitCode: Int
    /// The signal that ended it, if one did.
    public var signal: Int?
    public var startTime: Int?
    public var endTime: Int
    public var cpuSeconds: Int
    public var maxRSSMB: Int
    public var gpuSeconds: Int
    public var reason: String?
    /// Which run of the job (its requeue count when launched) this completion is of: a late
    /// report of an earlier run must not end the current one.
    public var run: Int?
    /// Set when the node that ran the job should take no more (its prolog or epilog failed):
    /// the reason chessd drains it with.
    public var drainReason: String?
    /// The job's steps (srun), for accounting.
    public var steps: [StepRecord]?

    public init(job: Int, state: String, exitCode: Int, signal: Int? = nil, startTime: Int? = nil, endTime: Int,
                cpuSeconds: Int = 0, maxRSSMB: Int = 0, gpuSeconds: Int = 0, reason: String? = nil, run: Int? = nil) {
        self.run = run
        self.job = job
        self.state = state
        self.exitCode = exitCode
        self.signal = signal
        self.startTime = startTime
        self.endTime = endTime
        self.cpuSeconds = cpuSeconds
        self.maxRSSMB = maxRSSMB
        self.gpuSeconds = gpuSeconds
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case job, state, signal, reason, run, steps
        case drainReason = "drain_reason"
        case exitCode = "exit_code"
        case startTime = "start_time"
        case endTime = "end_time"
        case cpuSeconds = "cpu_seconds"
        case maxRSSMB = "max_rss_mb"
        case gpuSeconds = "gpu_seconds"
    }
}

public struct AgentRegistration: Codable, Sendable, Equatable {
    /// A stable name for the agent process (normally its host name).
    public var agent: String
    public var version: String
    public var nodes: [AgentNodeReport]
    /// Jobs whose supervisors are still running.
    public var running: [Int]
    /// Ended jobs not yet acknowledged (from the spool).
    public var completions: [JobCompletion]

    public init(agent: String, version: String, nodes: [AgentNodeReport], running: [Int] = [], completions: [JobCompletion] = []) {
        self.agent = agent
        self.version = version
        self.nodes = nodes
        self.running = running
        self.completions = completions
    }
}

public struct NodeRegistrationResult: Codable, Sendable, Equatable {
    public var name: String
    public var state: String
    public var reason: String?
    public init(name: String, state: String, reason: String?) {
        self.name = name
        self.state = state
        self.reason = reason
    }
}

public struct AgentRegistrationResponse: Codable, Sendable, Equatable {
    /// Seconds between heartbeats the controller expects (it marks nodes DOWN after its timeout).
    public var heartbeatInterval: Int
    public var nodes: [NodeRegistrationResult]
    /// Completions the controller has recorded: drop them from the spool.
    public var acknowledged: [Int]
    /// Running jobs the controller does not know or has ended: kill them.
    public var terminate: [Int]
    /// The cluster's node health check, when it has one (also in every heartbeat's answer, so a
    /// `reconfigure` reaches the agents).
    public var healthCheck: HealthCheckSettings?

    public init(heartbeatInterval: Int, nodes: [NodeRegistrationResult], acknowledged: [Int], terminate: [Int],
                healthCheck: HealthCheckSettings? = nil) {
        self.heartbeatInterval = heartbeatInterval
        self.nodes = nodes
        self.acknowledged = acknowledged
        self.terminate = terminate
        self.healthCheck = healthCheck
    }

    enum CodingKeys: String, CodingKey {
        case nodes, acknowledged, terminate
        case heartbeatInterval = "heartbeat_interval"
        case healthCheck = "health_check"
    }
}

/// Slurm's HealthCheckProgram: a program (NHC, say) each agent runs as root every `interval`
/// seconds; a non-zero exit, or no exit within `timeout`, drains the agent's nodes with the
/// first line it printed, and a later success resumes them.
public struct HealthCheckSettings: Codable, Sendable, Equatable {
    public var program: String
    public var interval: Int
    public var timeout: Int

    public init(program: String, interval: Int = 300, timeout: Int = 60) {
        self.program = program
        self.interval = interval
        self.timeout = timeout
    }
}

/// The latest health check's outcome, sent with the agent's heartbeats.
public struct HealthReport: Codable, Sendable, Equatable {
    public var ok: Bool
    /// The first line the program printed (or why it did not finish), for the drain reason.
    public var message: String?
    /// When it ran.
    public var time: Int

    public init(ok: Bool, message: String?, time: Int) {
        self.ok = ok
        self.message = message
        self.time = time
    }
}

/// What a node needs to run its part of a job.
public struct JobLaunch: Codable, Sendable, Equatable {
    public struct NodePart: Codable, Sendable, Equatable {
        public var node: String
        public var cores: [Int]
        public var memoryMB: Int
        public var numa: [Int]
        public var gpus: [Int]
        public init(node: String, cores: [Int], memoryMB: Int, numa: [Int], gpus: [Int]) {
            self.node = node
            self.cores = cores
            self.memoryMB = memoryMB
            self.numa = numa
            self.gpus = gpus
        }
        enum CodingKeys: String, CodingKey {
            case node, cores, numa, gpus
            case memoryMB = "memory_mb"
        }
    }

    public var job: Int
    public var arrayJobID: Int?
    public var arrayTaskID: Int?
    public var name: String
    public var user: String
    public var uid: UInt32?
    public var gid: UInt32?
    public var account: String
    public var partition: String
    public var script: String
    public var workdir: String?
    public var output: String?
    public var error: String?
    public var environment: [String: String]
    /// Seconds; nil is unlimited.
    public var timeLimit: Int?
    public var nodeList: String
    public var nodes: [NodePart]
    public var tasks: Int
    public var cpusPerTask: Int
    /// The job's run (its requeue count): each run has its own spool folder on the agent.
    public var run: Int
    /// The cluster's name: the job's `SLURM_CLUSTER_NAME`, and part of its cgroup's name (two
    /// clusters on one host each have a job 1). Nil from a controller that predates it.
    public var cluster: String?
    /// sbatch's `--signal`: sent by the supervisor before the time limit.
    public var warningSignal: WarningSignal?
    /// Append to the output files rather than truncate them: `--open-mode=append`, and every
    /// run after the first (a requeued job keeps what its earlier runs wrote, as in Slurm). Nil
    /// from a controller that predates it: append.
    public var appendOutput: Bool?
    /// The cluster's prolog and epilog (Slurm's Prolog=/Epilog=): run as root on the batch node
    /// before the job and after it, for at most `prologEpilogTimeout` seconds each.
    public var prolog: String?
    public var epilog: String?
    public var prologEpilogTimeout: Int?
    /// An array task's array: how many tasks it has, and its lowest and highest index
    /// (`SLURM_ARRAY_TASK_COUNT`, `_MIN`, `_MAX`).
    public var arrayTaskCount: Int?
    public var arrayTaskMin: Int?
    public var arrayTaskMax: Int?
    /// The tasks the job asked for (`--ntasks`, or `--ntasks-per-node` × nodes): what `srun`
    /// runs when not told. Nil when it gave neither (srun then runs one task per node).
    public var requestedTasks: Int?

    public init(job: Int, arrayJobID: Int?, arrayTaskID: Int?, name: String, user: String, uid: UInt32?, gid: UInt32?,
                account: String, partition: String, script: String, workdir: String?, output: String?, error: String?,
                environment: [String: String], timeLimit: Int?, nodeList: String, nodes: [NodePart], tasks: Int, cpusPerTask: Int,
                run: Int = 0, cluster: String? = nil) {
        self.run = run
        self.cluster = cluster
        self.job = job
        self.arrayJobID = arrayJobID
        self.arrayTaskID = arrayTaskID
        self.name = name
        self.user = user
        self.uid = uid
        self.gid = gid
        self.account = account
        self.partition = partition
        self.script = script
        self.workdir = workdir
        self.output = output
        self.error = error
        self.environment = environment
        self.timeLimit = timeLimit
        self.nodeList = nodeList
        self.nodes = nodes
        self.tasks = tasks
        self.cpusPerTask = cpusPerTask
    }

    enum CodingKeys: String, CodingKey {
        case job, name, user, uid, gid, account, partition, script, workdir, output, error, environment, nodes, tasks, run, cluster
        case warningSignal = "warning_signal"
        case appendOutput = "append_output"
        case prolog, epilog
        case prologEpilogTimeout = "prolog_epilog_timeout"
        case arrayTaskCount = "array_task_count"
        case arrayTaskMin = "array_task_min"
        case arrayTaskMax = "array_task_max"
        case requestedTasks = "requested_tasks"
        case arrayJobID = "array_job_id"
        case arrayTaskID = "array_task_id"
        case timeLimit = "time_limit"
        case nodeList = "node_list"
        case cpusPerTask = "cpus_per_task"
    }
}

public struct AgentCommand: Codable, Sendable, Equatable {
    /// launch, terminate, suspend, resume, signal, time-limit, step.
    public var kind: String
    public var job: Int
    public var launch: JobLaunch?
    /// For signal: the signal's name (`USR1`; `SignalName`), sent to the job's processes.
    /// Terminate sends TERM, then KILL after `grace`.
    public var signal: String?
    public var grace: Int?
    /// Why (shown in the job's end reason on the agent side).
    public var reason: String?
    /// The run a terminate, suspend or resume is meant for.
    public var run: Int?
    /// For time-limit: the job's new limit in seconds from its start (`chessctl update`).
    public var timeLimit: Int?
    /// For step: the tasks of a job step (srun's, started on the batch node's agent) on this
    /// agent's nodes (`runsOn`), which report to the step's hub.
    public var step: StepPlan?

    public init(kind: String, job: Int, launch: JobLaunch? = nil, signal: String? = nil, grace: Int? = nil, reason: String? = nil,
                run: Int? = nil, timeLimit: Int? = nil, step: StepPlan? = nil) {
        self.step = step
        self.run = run
        self.timeLimit = timeLimit
        self.kind = kind
        self.job = job
        self.launch = launch
        self.signal = signal
        self.grace = grace
        self.reason = reason
    }
}

/// What a node's agent measured at a heartbeat.
public struct NodeMetrics: Codable, Sendable, Equatable {
    /// One-minute load average, in hundredths (no floating point on the wire).
    public var load1Centi: Int
    public var memoryFreeMB: Int
    public var memoryTotalMB: Int
    public var gpus: [GPUMetrics]

    public struct GPUMetrics: Codable, Sendable, Equatable {
        public var index: Int
        public var utilizationPercent: Int?
        public var memoryUsedMB: Int?
        public var temperatureC: Int?
        public var powerMilliwatts: Int?
        public var eccUncorrected: Int?
        public var uuid: String?
        /// The driver's product name (`NVIDIA A100-SXM4-40GB`).
        public var name: String?
        public var memoryTotalMB: Int?
        /// nil where the GPU has no MIG.
        public var migEnabled: Bool?
        public init(index: Int, utilizationPercent: Int?, memoryUsedMB: Int?, temperatureC: Int?, powerMilliwatts: Int?,
                    eccUncorrected: Int?) {
            self.index = index
            self.utilizationPercent = utilizationPercent
            self.memoryUsedMB = memoryUsedMB
            self.temperatureC = temperatureC
            self.powerMilliwatts = powerMilliwatts
            self.eccUncorrected = eccUncorrected
        }
        enum CodingKeys: String, CodingKey {
            case index
            case utilizationPercent = "utilization_percent"
            case memoryUsedMB = "memory_used_mb"
            case temperatureC = "temperature_c"
            case powerMilliwatts = "power_mw"
            case eccUncorrected = "ecc_uncorrected"
            case uuid, name
            case memoryTotalMB = "memory_total_mb"
            case migEnabled = "mig_enabled"
        }
    }

    public init(load1Centi: Int, memoryFreeMB: Int, memoryTotalMB: Int, gpus: [GPUMetrics] = []) {
        self.load1Centi = load1Centi
        self.memoryFreeMB = memoryFreeMB
        self.memoryTotalMB = memoryTotalMB
        self.gpus = gpus
    }

    enum CodingKeys: String, CodingKey {
        case gpus
        case load1Centi = "load1_centi"
        case memoryFreeMB = "memory_free_mb"
        case memoryTotalMB = "memory_total_mb"
    }
}

public struct AgentHeartbeat: Codable, Sendable, Equatable {
    public var agent: String
    public var completions: [JobCompletion]
    /// Hold the answer up to this many seconds when there is no command to send.
    public var wait: Int?
    /// The host's figures (emulated nodes report the host's).
    public var metrics: NodeMetrics?
    /// What the running jobs use now (`chessctl stat`).
    public var usage: [JobLiveUsage]?
    /// The latest health check's outcome, when the cluster has one.
    public var health: HealthReport?

    public init(agent: String, completions: [JobCompletion] = [], wait: Int? = nil, metrics: NodeMetrics? = nil,
                usage: [JobLiveUsage]? = nil, health: HealthReport? = nil) {
        self.agent = agent
        self.completions = completions
        self.wait = wait
        self.metrics = metrics
        self.usage = usage
        self.health = health
    }
}

/// A running job's use at a heartbeat, summed over its processes (sstat's figures): CPU time so
/// far and resident memory now.
public struct JobLiveUsage: Codable, Sendable, Equatable {
    public var job: Int
    public var run: Int
    public var cpuSeconds: Int
    public var memoryMB: Int
    public var processes: Int
    /// When it was measured.
    public var time: Int
    /// `1234_7` for an array task: set by chessd in `GET /v1/usage`, not by agents.
    public var displayID: String?

    public init(job: Int, run: Int, cpuSeconds: Int, memoryMB: Int, processes: Int, time: Int) {
        self.job = job
        self.run = run
        self.cpuSeconds = cpuSeconds
        self.memoryMB = memoryMB
        self.processes = processes
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case job, run, processes, time
        case displayID = "display_id"
        case cpuSeconds = "cpu_seconds"
        case memoryMB = "memory_mb"
    }
}

public struct HeartbeatResponse: Codable, Sendable, Equatable {
    public var acknowledged: [Int]
    public var commands: [AgentCommand]
    /// The cluster's health check as configured now (nil: none).
    public var healthCheck: HealthCheckSettings?
    public init(acknowledged: [Int], commands: [AgentCommand], healthCheck: HealthCheckSettings? = nil) {
        self.acknowledged = acknowledged
        self.commands = commands
        self.healthCheck = healthCheck
    }

    enum CodingKeys: String, CodingKey {
        case acknowledged, commands
        case healthCheck = "health_check"
    }
}
