import ChessAPI
import Foundation
import Glibc

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
        /// CPUs the job holds here (`SLURM_CPUS_ON_NODE`).
        public var cpuCount: Int
        public var firstTask: Int
        public var tasks: Int
        /// The job's cores (its allocation's numbering) this step holds here, `cpus-per-task`
        /// for each task in turn; empty for an `--overlap` step, which holds none.
        public var cores: [Int] = []
        /// Each task's OS CPUs (its cores' hardware threads); empty: every task gets `cpus`.
        public var taskCPUs: [[Int]] = []

        public init(name: String, cpus: [Int], mems: [Int], gpus: [Int], memoryMB: Int, cpuCount: Int, firstTask: Int, tasks: Int) {
            self.name = name
            self.cpus = cpus
            self.mems = mems
            self.gpus = gpus
            self.memoryMB = memoryMB
            self.cpuCount = cpuCount
            self.firstTask = firstTask
            self.tasks = tasks
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
        self.killWait = killWait
        self.nodes = nodes
    }

    public var tasks: Int { nodes.reduce(0) { $0 + $1.tasks } }
    public var nodeList: String { HostList.compress(nodes.map(\.name)) }

    /// A task's environment: srun's, then the step's variables and the task's own (Slurm's
    /// `SLURM_STEP_*`, `SLURM_PROCID`, `SLURM_LOCALID`, `SLURM_NODEID`, … and `CHESS_*`), the
    /// node's GPUs and CPUs.
    public func environment(node index: Int, localID: Int) -> [String: String] {
        let node = nodes[index]
        var env = environment
        let counts = nodes.map(\.tasks)
        let perTask = JobEnvironment.compressedCounts(counts)
        let both: [(String, String)] = [
            ("STEP_ID", "\(step)"), ("STEP_NUM_TASKS", "\(tasks)"), ("STEP_NUM_NODES", "\(nodes.count)"),
            ("STEP_NODELIST", nodeList), ("STEP_TASKS_PER_NODE", perTask), ("NTASKS", "\(tasks)"), ("NPROCS", "\(tasks)"),
            ("NNODES", "\(nodes.count)"), ("TASKS_PER_NODE", perTask), ("PROCID", "\(node.firstTask + localID)"),
            ("LOCALID", "\(localID)"), ("NODEID", "\(index)"), ("CPUS_ON_NODE", "\(node.cpuCount)"),
            ("GPUS_ON_NODE", "\(node.gpus.count)"),
            ("GTIDS", (node.firstTask..<(node.firstTask + node.tasks)).map(String.init).joined(separator: ",")),
        ]
        for (k, v) in both {
            env["SLURM_\(k)"] = v
            env["CHESS_\(k)"] = v
        }
        env["SLURM_STEPID"] = "\(step)"
        env["SLURM_JOB_ID"] = "\(job)"
        env["SLURM_JOBID"] = "\(job)"
        env["CHESS_JOB_ID"] = "\(job)"
        if let cpt = cpusPerTask {
            env["SLURM_CPUS_PER_TASK"] = "\(cpt)"
            env["CHESS_CPUS_PER_TASK"] = "\(cpt)"
        }
        if node.memoryMB > 0 {
            env["SLURM_MEM_PER_NODE"] = "\(node.memoryMB)"
            env["CHESS_MEM_PER_NODE"] = "\(node.memoryMB)"
        }
        env["SLURMD_NODENAME"] = node.name
        env["CHESS_NODENAME"] = node.name
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        env["CUDA_VISIBLE_DEVICES"] = node.gpus.map(String.init).joined(separator: ",")
        env["CHESS_JOB_GPUS"] = env["CUDA_VISIBLE_DEVICES"]
        env["CHESS_JOB_CPUS"] = node.cpus.map(String.init).joined(separator: ",")
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        return env
    }
}

extension JobSpool {
    /// `steps/<n>`: a step's folder in its job's run folder.
    public func stepDirectory(_ step: Int) -> String { path("steps/\(step)") }

    /// Creates the next step's folder and returns its number (0 for the first, as Slurm
    /// numbers them); concurrent callers each get their own.
    public func createStep() throws -> Int {
        let steps = path("steps")
        if mkdir(steps, 0o700) != 0 && errno != EEXIST {
            throw SpoolError(description: "\(steps): \(String(cString: strerror(errno)))")
        }
        let taken = ((try? FileManager.default.contentsOfDirectory(atPath: steps)) ?? []).compactMap(Int.init)
        var step = (taken.max() ?? -1) + 1
        while mkdir(stepDirectory(step), 0o700) != 0 {
            guard errno == EEXIST else { throw SpoolError(description: "\(stepDirectory(step)): \(String(cString: strerror(errno)))") }
            step += 1
        }
        return step
    }

    /// The process groups of the job's steps whose tasks still run: a signal for the job goes
    /// to them too (they are not in the batch script's group).
    public var runningStepGroups: [Int32] {
        let steps = ((try? FileManager.default.contentsOfDirectory(atPath: path("steps"))) ?? []).filter { Int($0) != nil }
        return steps.compactMap { s in
            let dir = JobSpool(directory: path("steps/\(s)"))
            return dir.exists("result.json") ? nil : dir.pid("tasks.pgid")
        }
    }

    /// Sends `sig` to the batch script's group (`batch`) and to every running step's.
    public func signalJob(_ sig: Int32, batch: Bool = true) {
        if batch, let pgid = pid("job.pid") { kill(-pgid, sig) }
        for g in runningStepGroups { kill(-g, sig) }
    }
}
