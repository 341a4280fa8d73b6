/// One job step as the agent hands it to its supervisor (`steps/<n>/step.json` in the job's
/// spool folder): the command, the tasks on each node and what binds them.
public struct StepPlan: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var name: String
        /// OS CPUs and NUMA nodes of the job's share of this node, on this host.
        public var cpus: [Int]
        public var mems: [Int]
        public var gpus: [Int]
        /// The job's memory on this node (the cgroup limit of a group the step creates).
        public var memoryMB: Int
        public var firstTask: Int
        public var tasks: Int
        /// The job's cores (its allocation's numbering) this step holds here, `cpus-per-task`
        /// for each task in turn; empty for an `--overlap` step, which holds none.
        public var cores: [Int] = []
        /// Each task's OS CPUs (its cores' hardware threads); empty: every task gets `cpus`.
        public var taskCPUs: [[Int]] = []
        /// The job's cores and NUMA domains here (the agent that runs the node's tasks works
        /// out `cpus`, `mems` and `taskCPUs` from them and its own topology).
        public var jobCores: [Int]
        public var numa: [Int]

        /// CPUs the job holds here (`SLURM_CPUS_ON_NODE`).
        public var cpuCount: Int { jobCores.count }

        public init(name: String, cpus: [Int], mems: [Int], gpus: [Int], memoryMB: Int, jobCores: [Int], numa: [Int], firstTask: Int,
                    tasks: Int) {
            self.name = name
            self.cpus = cpus
            self.mems = mems
            self.gpus = gpus
            self.memoryMB = memoryMB
            self.jobCores = jobCores
            self.numa = numa
            self.firstTask = firstTask
            self.tasks = tasks
        }

        enum CodingKeys: String, CodingKey {
            case name, cpus, mems, gpus, tasks, cores, numa
            case memoryMB = "memory_mb"
            case firstTask = "first_task"
            case taskCPUs = "task_cpus"
            case jobCores = "job_cores"
        }
    }

    public var job: Int
    public var run: Int
    public var step: Int
    public var name: String
    public var clusterName: String
    public var user: String
    public var uid: UInt32?
    public var gid: UInt32?
    public var argv: [String]
    public var environment: [String: String]
    public var workdir: String
    public var label: Bool
    public var killOnBadExit: Bool
    public var cpusPerTask: Int?
    public var killWait: Int
    public var nodes: [Node]
    /// The nodes whose tasks this plan's supervisor runs; nil: all. A step over nodes of
    /// several agents has one supervisor per agent: the batch node's (the hub, which srun talks
    /// to) and a member on each other agent, which connects to the hub at `hub` with `token`.
    public var runsOn: [String]?
    public var hub: String?
    public var token: String?
    /// Whether tasks get a PMI-1 connection (nil: yes; srun's `--mpi=none`: no).
    public var pmi: Bool?
    /// The user's groups as the agent that starts the supervisor resolved them (`LaunchPlan`'s
    /// `groups`: set in the spool's `step.json`, never by chessd); nil: `initgroups`.
    public var groups: [UInt32]?

    public init(job: Int, run: Int, step: Int, name: String, clusterName: String, user: String, uid: UInt32?, gid: UInt32?,
                request: StepRequest, killWait: Int, nodes: [Node]) {
        self.job = job
        self.run = run
        self.step = step
        self.name = name
        self.clusterName = clusterName
        self.user = user
        self.uid = uid
        self.gid = gid
        argv = request.argv
        environment = request.environment
        workdir = request.workdir
        label = request.label
        killOnBadExit = request.killOnBadExit
        cpusPerTask = request.cpusPerTask
        pmi = request.pmi == false ? false : nil
        self.killWait = killWait
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey {
        case job, run, step, name, user, uid, gid, argv, environment, workdir, label, nodes, hub, token, pmi, groups
        case clusterName = "cluster_name"
        case killOnBadExit = "kill_on_bad_exit"
        case cpusPerTask = "cpus_per_task"
        case killWait = "kill_wait"
        case runsOn = "runs_on"
    }

    public var tasks: Int { nodes.reduce(0) { $0 + $1.tasks } }
    public var nodeList: String { HostList.compress(nodes.map(\.name)) }
}
