/// The launch a supervisor reads and the result it writes, without the generic coders: a
/// supervisor is a new process for every job, and in a new process `JSONDecoder` and
/// `JSONEncoder` instantiate type metadata and search the binary's conformance tables on first
/// use, about a millisecond of CPU per job on a node (measured: issue 15's notes). The Codable
/// forms stay the reference; `JobLaunchJSONTests` holds these to them, field by field.
extension JobLaunch {
    /// Reads the Codable form of a launch. Unknown keys are skipped, as the Codable form does; a
    /// required key missing or a value of the wrong kind throws (the caller can fall back to
    /// `JSONDecoder`, whose messages name the field).
    public init(scanning s: inout JSONScanner) throws {
        var job: Int?, name: String?, user: String?, account: String?, partition: String?, script: String?
        var environment: [String: String]?, nodeList: String?, nodes: [NodePart]?, tasks: Int?, cpusPerTask: Int?, run: Int?
        var arrayJobID: Int?, arrayTaskID: Int?, uid: UInt32?, gid: UInt32?, workdir: String?, output: String?, error: String?
        var timeLimit: Int?, cluster: String?, warningSignal: WarningSignal?, appendOutput: Bool?, prolog: String?, epilog: String?
        var prologEpilogTimeout: Int?, arrayTaskCount: Int?, arrayTaskMin: Int?, arrayTaskMax: Int?, requestedTasks: Int?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "job": job = try s.int()
            case "name": name = try s.string()
            case "user": user = try s.string()
            case "account": account = try s.string()
            case "partition": partition = try s.string()
            case "script": script = try s.string()
            case "environment": environment = try s.stringDictionary()
            case "node_list": nodeList = try s.string()
            case "nodes":
                var parts: [NodePart] = []
                try s.beginArray()
                while try s.nextElement() { parts.append(try NodePart(scanning: &s)) }
                nodes = parts
            case "tasks": tasks = try s.int()
            case "cpus_per_task": cpusPerTask = try s.int()
            case "run": run = try s.int()
            case "array_job_id": arrayJobID = try s.optionalInt()
            case "array_task_id": arrayTaskID = try s.optionalInt()
            case "uid": uid = s.null() ? nil : try s.uint32()
            case "gid": gid = s.null() ? nil : try s.uint32()
            case "workdir": workdir = try s.optionalString()
            case "output": output = try s.optionalString()
            case "error": error = try s.optionalString()
            case "time_limit": timeLimit = try s.optionalInt()
            case "cluster": cluster = try s.optionalString()
            case "warning_signal": warningSignal = s.null() ? nil : try WarningSignal(scanning: &s)
            case "append_output": appendOutput = s.null() ? nil : try s.bool()
            case "prolog": prolog = try s.optionalString()
            case "epilog": epilog = try s.optionalString()
            case "prolog_epilog_timeout": prologEpilogTimeout = try s.optionalInt()
            case "array_task_count": arrayTaskCount = try s.optionalInt()
            case "array_task_min": arrayTaskMin = try s.optionalInt()
            case "array_task_max": arrayTaskMax = try s.optionalInt()
            case "requested_tasks": requestedTasks = try s.optionalInt()
            default: try s.skipValue()
            }
        }
        guard let job, let name, let user, let account, let partition, let script, let environment, let nodeList, let nodes,
              let tasks, let cpusPerTask, let run else { throw s.fail("a launch without one of its required keys") }
        self.init(job: job, arrayJobID: arrayJobID, arrayTaskID: arrayTaskID, name: name, user: user, uid: uid, gid: gid,
                  account: account, partition: partition, script: script, workdir: workdir, output: output, error: error,
                  environment: environment, timeLimit: timeLimit, nodeList: nodeList, nodes: nodes, tasks: tasks,
                  cpusPerTask: cpusPerTask, run: run, cluster: cluster)
        self.warningSignal = warningSignal
        self.appendOutput = appendOutput
        self.prolog = prolog
        self.epilog = epilog
        self.prologEpilogTimeout = prologEpilogTimeout
        self.arrayTaskCount = arrayTaskCount
        self.arrayTaskMin = arrayTaskMin
        self.arrayTaskMax = arrayTaskMax
        self.requestedTasks = requestedTasks
    }
}

extension JobLaunch.NodePart {
    public init(scanning s: inout JSONScanner) throws {
        var node: String?, cores: [Int]?, memoryMB: Int?, numa: [Int]?, gpus: [Int]?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "node": node = try s.string()
            case "cores": cores = try s.intArray()
            case "memory_mb": memoryMB = try s.int()
            case "numa": numa = try s.intArray()
            case "gpus": gpus = try s.intArray()
            default: try s.skipValue()
            }
        }
        guard let node, let cores, let memoryMB, let numa, let gpus else { throw s.fail("a node part without one of its required keys") }
        self.init(node: node, cores: cores, memoryMB: memoryMB, numa: numa, gpus: gpus)
    }
}

extension WarningSignal {
    public init(scanning s: inout JSONScanner) throws {
        var signal: String?, secondsBefore: Int?, batchOnly: Bool?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "signal": signal = try s.string()
            case "seconds_before": secondsBefore = try s.int()
            case "batch_only": batchOnly = try s.bool()
            default: try s.skipValue()
            }
        }
        guard let signal, let secondsBefore, let batchOnly else { throw s.fail("a warning signal without one of its required keys") }
        self.init(signal: signal, secondsBefore: secondsBefore, batchOnly: batchOnly)
    }
}

extension JobCompletion {
    /// The Codable form of a result without steps (nearly every job); nil when it has steps
    /// (the caller encodes those with `JSONEncoder`).
    public var jsonBytesWithoutSteps: [UInt8]? {
        guard steps == nil else { return nil }
        var w = JSONWriter()
        w.beginObject()
        w.field("job", job)
        w.field("state", state)
        w.field("exit_code", exitCode)
        w.field("signal", signal)
        w.field("start_time", startTime)
        w.field("end_time", endTime)
        w.field("cpu_seconds", cpuSeconds)
        w.field("max_rss_mb", maxRSSMB)
        w.field("gpu_seconds", gpuSeconds)
        w.field("reason", reason)
        w.field("run", run)
        w.field("drain_reason", drainReason)
        w.endObject()
        return w.bytes
    }
}
