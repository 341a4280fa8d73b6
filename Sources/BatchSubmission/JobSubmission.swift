import ChessWire

// What `sbatch` sends chessd, with its JSON form read and written directly (JSONScanner and
// JSONWriter): a submit storm decodes thousands a second, and `sbatch` links no Foundation.

/// A job as submitted: the options of `sbatch` (or `#CHESS`/`#SBATCH` directives) after
/// parsing, plus the script. Sizes are plain numbers (MiB, seconds); the controller turns this
/// into a `JobRequest` and checks it against partitions, QoS and limits.
public struct JobSubmission: Codable, Sendable, Equatable {
    public var name: String?
    /// The batch script (with its `#!` line); nil only for `--wrap`, which fills it.
    public var script: String?
    public var partition: String?
    public var qos: String?
    public var account: String?
    public var nodes: Int?
    public var ntasks: Int?
    public var ntasksPerNode: Int?
    public var cpusPerTask: Int?
    public var memMB: Int?
    public var memPerCPUMB: Int?
    /// sbatch's `--mem-per-gpu`: MiB per allocated GPU.
    public var memPerGPUMB: Int?
    /// sbatch's `--cpus-per-gpu`: cores per allocated GPU.
    public var cpusPerGPU: Int?
    /// GPUs per node (`--gpus-per-node`, `--gres=gpu:N`).
    public var gpus: Int?
    public var gpusPerTask: Int?
    /// sbatch's `--gpus` (`-G`): the job's total, shared evenly over its nodes.
    public var gpusPerJob: Int?
    public var gpuType: String?
    /// Seconds; nil takes the partition's default.
    public var timeLimit: Int?
    public var exclusive: Bool?
    public var constraint: String?
    public var reservation: String?
    /// Unix time before which the job may not start.
    public var begin: Int?
    public var hold: Bool?
    /// Slurm's syntax: `afterok:12:13,singleton`.
    public var dependency: String?
    /// Slurm's syntax: `1-100%10`.
    public var array: String?
    public var workdir: String?
    public var output: String?
    public var error: String?
    public var environment: [String: String]?
    /// Admin-set priority (Slurm's `--priority`), refused for others.
    public var priority: Int?
    /// sbatch's `--signal=[B:]SIG[@TIME]` (`WarningSignal`): a signal TIME seconds before the
    /// time limit.
    public var signal: String?
    /// sbatch's `--open-mode`: `append` or `truncate` (the default) for the output files.
    public var openMode: String?
    /// sbatch's `--export` (`ExportSpec`): which of `environment` the job starts with; nil is all.
    public var export: String?
    /// sbatch's `--requeue` (true, the default) and `--no-requeue` (false): whether a node
    /// failure, `requeue` or a requeueing preemption may put the job back in the queue.
    public var requeue: Bool?
    /// sbatch's `--nodelist` (`-w`), a host list: nodes the job's allocation must include.
    public var nodelist: String?
    /// sbatch's `--exclude` (`-x`), a host list: nodes the job must not be given.
    public var exclude: String?
    /// sbatch's `--nice`: taken off the job's priority; negative (raising it) for administrators.
    public var nice: Int?
    /// sbatch's `--licenses`: `matlab:2,ansys`.
    public var licenses: String?
    /// sbatch's `--mail-type` (`MailType`): the events that send mail, `END,FAIL`.
    public var mailType: String?
    /// sbatch's `--mail-user`: who gets the mail; nil is the submitting user.
    public var mailUser: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, script, partition, qos, account, nodes, ntasks, exclusive, constraint, reservation, begin, hold
        case dependency, array, workdir, output, error, environment, priority, signal, export, requeue, nodelist, exclude, nice, licenses
        case openMode = "open_mode"
        case mailType = "mail_type"
        case mailUser = "mail_user"
        case ntasksPerNode = "ntasks_per_node"
        case cpusPerTask = "cpus_per_task"
        case memMB = "mem_mb"
        case memPerCPUMB = "mem_per_cpu_mb"
        case memPerGPUMB = "mem_per_gpu_mb"
        case cpusPerGPU = "cpus_per_gpu"
        case gpus
        case gpusPerTask = "gpus_per_task"
        case gpusPerJob = "gpus_per_job"
        case gpuType = "gpu_type"
        case timeLimit = "time_limit"
    }
}

public struct SubmitResponse: Codable, Sendable, Equatable {
    public var id: Int
    public init(id: Int) { self.id = id }
}

/// `submit --test-only` (`POST /v1/jobs?test_only=1`): where and when the job would start, had it
/// been submitted now; nothing is stored.
public struct TestOnlyResponse: Codable, Sendable, Equatable {
    public var partition: String
    public var cpus: Int
    /// When it would start (now, or the earliest the scheduler plans), if it can be planned.
    public var start: Int?
    /// The nodes it would start on now.
    public var nodeList: String?
    /// Why it would wait without a planned start (ReqNodeNotAvail, a limit, …).
    public var reason: String?

    public init(partition: String, cpus: Int, start: Int?, nodeList: String?, reason: String?) {
        self.partition = partition
        self.cpus = cpus
        self.start = start
        self.nodeList = nodeList
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case partition, cpus, start, reason
        case nodeList = "node_list"
    }
}

extension JobSubmission {
    /// Reads a submission without the generic decoder (a submit storm decodes thousands a
    /// second). Unknown keys are skipped, as the Codable form does; on any error the caller falls
    /// back to the Codable form, whose messages name the field.
    public init(scanning bytes: [UInt8]) throws {
        self.init()
        var s = JSONScanner(bytes)
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "name": name = try s.optionalString()
            case "script": script = try s.optionalString()
            case "partition": partition = try s.optionalString()
            case "qos": qos = try s.optionalString()
            case "account": account = try s.optionalString()
            case "nodes": nodes = try s.optionalInt()
            case "ntasks": ntasks = try s.optionalInt()
            case "ntasks_per_node": ntasksPerNode = try s.optionalInt()
            case "cpus_per_task": cpusPerTask = try s.optionalInt()
            case "mem_mb": memMB = try s.optionalInt()
            case "mem_per_cpu_mb": memPerCPUMB = try s.optionalInt()
            case "mem_per_gpu_mb": memPerGPUMB = try s.optionalInt()
            case "cpus_per_gpu": cpusPerGPU = try s.optionalInt()
            case "gpus": gpus = try s.optionalInt()
            case "gpus_per_task": gpusPerTask = try s.optionalInt()
            case "gpu_type": gpuType = try s.optionalString()
            case "time_limit": timeLimit = try s.optionalInt()
            case "exclusive": exclusive = s.null() ? nil : try s.bool()
            case "constraint": constraint = try s.optionalString()
            case "reservation": reservation = try s.optionalString()
            case "begin": begin = try s.optionalInt()
            case "hold": hold = s.null() ? nil : try s.bool()
            case "dependency": dependency = try s.optionalString()
            case "array": array = try s.optionalString()
            case "workdir": workdir = try s.optionalString()
            case "output": output = try s.optionalString()
            case "error": error = try s.optionalString()
            case "priority": priority = try s.optionalInt()
            case "signal": signal = try s.optionalString()
            case "open_mode": openMode = try s.optionalString()
            case "gpus_per_job": gpusPerJob = try s.optionalInt()
            case "mail_type": mailType = try s.optionalString()
            case "mail_user": mailUser = try s.optionalString()
            case "export": export = try s.optionalString()
            case "requeue": requeue = s.null() ? nil : try s.bool()
            case "nodelist": nodelist = try s.optionalString()
            case "exclude": exclude = try s.optionalString()
            case "licenses": licenses = try s.optionalString()
            case "nice": nice = try s.optionalInt()
            case "environment":
                if s.null() { environment = nil; continue }
                var env: [String: String] = [:]
                try s.beginObject()
                while let k = try s.nextKey() { env[k] = try s.string() }
                environment = env
            default: try s.skipValue()
            }
        }
        try s.end()
    }
}

extension JobSubmission {
    /// The same JSON as `WireJSON.encode(self)` (a test holds them together), written directly.
    public var jsonBytes: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("account", account)
        w.field("array", array)
        w.field("begin", begin)
        w.field("constraint", constraint)
        w.field("cpus_per_gpu", cpusPerGPU)
        w.field("cpus_per_task", cpusPerTask)
        w.field("dependency", dependency)
        w.field("environment", environment)
        w.field("error", error)
        w.field("exclude", exclude)
        w.field("exclusive", exclusive)
        w.field("export", export)
        w.field("gpu_type", gpuType)
        w.field("gpus", gpus)
        w.field("gpus_per_job", gpusPerJob)
        w.field("gpus_per_task", gpusPerTask)
        w.field("hold", hold)
        w.field("licenses", licenses)
        w.field("mail_type", mailType)
        w.field("mail_user", mailUser)
        w.field("mem_mb", memMB)
        w.field("mem_per_cpu_mb", memPerCPUMB)
        w.field("mem_per_gpu_mb", memPerGPUMB)
        w.field("name", name)
        w.field("nice", nice)
        w.field("nodelist", nodelist)
        w.field("nodes", nodes)
        w.field("ntasks", ntasks)
        w.field("ntasks_per_node", ntasksPerNode)
        w.field("open_mode", openMode)
        w.field("output", output)
        w.field("partition", partition)
        w.field("priority", priority)
        w.field("qos", qos)
        w.field("requeue", requeue)
        w.field("reservation", reservation)
        w.field("script", script)
        w.field("signal", signal)
        w.field("time_limit", timeLimit)
        w.field("workdir", workdir)
        w.endObject()
        return w.bytes
    }
}

extension SubmitResponse {
    /// chessd's answer to a submit, `{"id": N, …}` (other keys skipped).
    public init(scanning bytes: [UInt8]) throws {
        var s = JSONScanner(bytes)
        var id: Int?
        try s.beginObject()
        while let key = try s.nextKey() {
            if key == "id" { id = try s.int() } else { try s.skipValue() }
        }
        try s.end()
        guard let id else { throw JSONScanner.Failure.missing("id") }
        self.init(id: id)
    }
}

extension TestOnlyResponse {
    /// chessd's answer to `submit --test-only`, read as the Codable form reads it.
    public init(scanning bytes: [UInt8]) throws {
        var s = JSONScanner(bytes)
        var partition: String?
        var cpus: Int?
        var start: Int?
        var nodeList: String?
        var reason: String?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "partition": partition = try s.string()
            case "cpus": cpus = try s.int()
            case "start": start = try s.optionalInt()
            case "node_list": nodeList = try s.optionalString()
            case "reason": reason = try s.optionalString()
            default: try s.skipValue()
            }
        }
        try s.end()
        guard let partition else { throw JSONScanner.Failure.missing("partition") }
        guard let cpus else { throw JSONScanner.Failure.missing("cpus") }
        self.init(partition: partition, cpus: cpus, start: start, nodeList: nodeList, reason: reason)
    }
}
