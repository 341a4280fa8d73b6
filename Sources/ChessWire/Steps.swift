/// The `srun` ⇄ node agent protocol: job steps. `srun`, run inside a job (or beside it with
/// `--jobid`), connects to the agent's Unix socket (`CHESS_STEP_SOCKET`), sends one
/// `StepRequest` as a JSON line with its standard input, output and error attached
/// (`SCM_RIGHTS`), and reads a `StepStart` line (or a refusal). The step's supervisor then
/// holds the connection: `srun` writes `signal N` lines to it (its own signals, passed on to the
/// tasks) and reads one `StepEnd` line when every task has ended. The peer's uid, as the kernel
/// reports it, must be the job's user's (or root's).

/// What `srun` asks for: its command run as tasks on nodes of its job.
public struct StepRequest: Codable, Sendable, Equatable {
    public var job: Int
    /// The command and its arguments: the first word is looked up in the task's `PATH`.
    public var argv: [String]
    /// The tasks' environment before the step's variables (srun's, after `--export`).
    public var environment: [String: String]
    public var workdir: String
    /// `-n`; nil: the job's own task count (`SLURM_NTASKS`), or one per node with `-N`.
    public var tasks: Int?
    /// `-N`; nil: as many of the job's nodes as the tasks need, all of them at most.
    public var nodes: Int?
    /// `--ntasks-per-node`.
    public var tasksPerNode: Int?
    /// `-c`; nil: 1.
    public var cpusPerTask: Int?
    /// `-l`: each output line prefixed with its task's number.
    public var label: Bool
    /// `-K`: the other tasks are stopped when one fails.
    public var killOnBadExit: Bool
    /// `--overlap`: tasks may share CPUs with other steps (no CPU count check).
    public var overlap: Bool
    /// `-J`; nil: the command's name.
    public var name: String?
    /// PMI-1 for the tasks (MPI); false with `--mpi=none`. Nil: yes.
    public var pmi: Bool?

    public init(job: Int, argv: [String], environment: [String: String], workdir: String, tasks: Int? = nil, nodes: Int? = nil,
                tasksPerNode: Int? = nil, cpusPerTask: Int? = nil, label: Bool = false, killOnBadExit: Bool = false,
                overlap: Bool = false, name: String? = nil, pmi: Bool? = nil) {
        self.pmi = pmi
        self.job = job
        self.argv = argv
        self.environment = environment
        self.workdir = workdir
        self.tasks = tasks
        self.nodes = nodes
        self.tasksPerNode = tasksPerNode
        self.cpusPerTask = cpusPerTask
        self.label = label
        self.killOnBadExit = killOnBadExit
        self.overlap = overlap
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case job, argv, environment, workdir, tasks, nodes, label, overlap, name, pmi
        case tasksPerNode = "tasks_per_node"
        case cpusPerTask = "cpus_per_task"
        case killOnBadExit = "kill_on_bad_exit"
    }
}

/// The agent's answer: the step's number and where its tasks run, or why it does not.
public struct StepStart: Codable, Sendable, Equatable {
    public var step: Int?
    public var nodeList: String?
    public var tasks: Int?
    /// Tasks per node, in node order.
    public var tasksPerNode: [Int]?
    /// What srun says on standard error before the tasks' output (a node count lowered to the
    /// task count, as Slurm warns).
    public var warnings: [String]?
    public var error: String?
    /// With `error`: the job's CPUs are held by its other steps now; srun asks again (Slurm's
    /// "Job step creation temporarily disabled, retrying").
    public var retry: Bool?

    public init(step: Int, nodeList: String, tasks: Int, tasksPerNode: [Int], warnings: [String]) {
        self.step = step
        self.nodeList = nodeList
        self.tasks = tasks
        self.tasksPerNode = tasksPerNode
        self.warnings = warnings.isEmpty ? nil : warnings
    }

    public init(error: String, retry: Bool = false) {
        self.error = error
        self.retry = retry ? true : nil
    }

    enum CodingKeys: String, CodingKey {
        case step, tasks, warnings, error, retry
        case nodeList = "node_list"
        case tasksPerNode = "tasks_per_node"
    }
}

/// How each task of a step ended, sent when the last one has.
public struct StepEnd: Codable, Sendable, Equatable {
    public struct Task: Codable, Sendable, Equatable {
        public var task: Int
        public var node: String
        public var exitCode: Int
        /// The signal that killed it, if one did.
        public var signal: Int?
        /// CPU time and peak resident memory it used, as its supervisor measured them.
        public var cpuMicroseconds: Int?
        public var maxRSSKB: Int?
        public init(task: Int, node: String, exitCode: Int, signal: Int?) {
            self.task = task
            self.node = node
            self.exitCode = exitCode
            self.signal = signal
        }
        enum CodingKeys: String, CodingKey {
            case task, node, signal
            case exitCode = "exit_code"
            case cpuMicroseconds = "cpu_us"
            case maxRSSKB = "max_rss_kb"
        }
    }

    public var step: Int
    public var tasks: [Task]
    /// Why the step was stopped before its tasks ended on their own (the job's end, `srun`
    /// gone, `-K`), if it was.
    public var reason: String?

    public init(step: Int, tasks: [Task], reason: String?) {
        self.step = step
        self.tasks = tasks
        self.reason = reason
    }

    /// srun's exit status: the highest task exit code, 128 + the signal for a task killed by
    /// one (as a shell reports it).
    public var exitStatus: Int32 {
        // Clamped: the numbers come over a socket (a signal is 1–127; an exit code fits a byte).
        Int32(clamping: tasks.map { t in t.signal.map { 128 + min(max($0, 0), 127) } ?? t.exitCode }.max() ?? 0)
    }
}

/// A job step as accounting keeps it (sacct's `JOBID.STEP` rows): written by the step's
/// supervisor, gathered by the job's at its end, reported with the job's completion.
public struct StepRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var name: String
    public var nodeList: String
    public var nodes: Int
    public var tasks: Int
    /// CPUs the step held (its cores; the job's on its nodes for `--overlap`).
    public var cpus: Int
    public var startTime: Int
    public var endTime: Int?
    /// RUNNING while it runs; COMPLETED (every task exited 0), CANCELLED (a task did not, and
    /// the job was ending: cancelled, out of time, its script done), else FAILED.
    public var state: String
    public var exitCode: Int
    public var signal: Int?
    /// CPU time of all its tasks, and the largest peak resident memory of one (sacct's
    /// TotalCPU and MaxRSS).
    public var cpuSeconds: Int?
    public var maxRSSMB: Int?

    public init(step: Int, name: String, nodeList: String, nodes: Int, tasks: Int, cpus: Int, startTime: Int) {
        self.step = step
        self.name = name
        self.nodeList = nodeList
        self.nodes = nodes
        self.tasks = tasks
        self.cpus = cpus
        self.startTime = startTime
        state = "RUNNING"
        exitCode = 0
    }

    enum CodingKeys: String, CodingKey {
        case step, name, nodes, tasks, cpus, state, signal
        case cpuSeconds = "cpu_seconds"
        case maxRSSMB = "max_rss_mb"
        case nodeList = "node_list"
        case startTime = "start_time"
        case endTime = "end_time"
        case exitCode = "exit_code"
    }

    /// The record of a step that ended so: the worst task's exit code and signal.
    public mutating func end(_ end: StepEnd, at time: Int, stoppedWithJob: Bool) {
        endTime = time
        let worst = end.tasks.max { ($0.signal.map { 128 + $0 } ?? $0.exitCode) < ($1.signal.map { 128 + $0 } ?? $1.exitCode) }
        exitCode = worst?.exitCode ?? (end.tasks.isEmpty ? 1 : 0)
        signal = worst?.signal
        cpuSeconds = end.tasks.reduce(0) { $0 + ($1.cpuMicroseconds ?? 0) } / 1_000_000
        maxRSSMB = (end.tasks.compactMap(\.maxRSSKB).max() ?? 0) / 1024
        state = end.exitStatus == 0 && !end.tasks.isEmpty ? "COMPLETED" : stoppedWithJob ? "CANCELLED" : "FAILED"
    }
}

extension StepRecord {
    /// A step's record as it starts (its supervisor writes it; the agent reports it).
    public static func starting(_ plan: StepPlan, at time: Int) -> StepRecord {
        StepRecord(step: plan.step, name: plan.name, nodeList: plan.nodeList, nodes: plan.nodes.count, tasks: plan.tasks,
                   cpus: plan.nodes.reduce(0) { $0 + ($1.cores.isEmpty ? $1.cpuCount : $1.cores.count) }, startTime: time)
    }
}

/// A step of a running job as the batch node's agent reports it to chessd: when it starts,
/// and when its supervisor has ended (`POST /v1/agent/step-reports`).
public struct StepReport: Codable, Sendable, Equatable {
    public var job: Int
    public var run: Int
    public var record: StepRecord
    public init(job: Int, run: Int, record: StepRecord) {
        self.job = job
        self.run = run
        self.record = record
    }
}

/// A running step as `chessctl queue -s` (squeue -s) shows it.
public struct StepInfo: Codable, Sendable, Equatable {
    public var job: Int
    /// `1234.0`, `1234_7.0`.
    public var stepID: String
    public var name: String
    public var partition: String
    public var user: String
    public var startTime: Int
    public var nodeList: String
    public var tasks: Int
    public var cpus: Int

    public init(job: Int, stepID: String, name: String, partition: String, user: String, startTime: Int, nodeList: String,
                tasks: Int, cpus: Int) {
        self.job = job
        self.stepID = stepID
        self.name = name
        self.partition = partition
        self.user = user
        self.startTime = startTime
        self.nodeList = nodeList
        self.tasks = tasks
        self.cpus = cpus
    }

    enum CodingKeys: String, CodingKey {
        case job, name, partition, user, tasks, cpus
        case stepID = "step_id"
        case startTime = "start_time"
        case nodeList = "node_list"
    }
}

public struct StepList: Codable, Sendable, Equatable {
    public var steps: [StepInfo]
    public init(steps: [StepInfo]) { self.steps = steps }
}
