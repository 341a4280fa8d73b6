/// The step protocol's JSON (`Steps.swift`) as `srun` writes and reads it, without the generic
/// coders: srun links no Foundation, so that every step it starts pays less of its start-up.
/// The same JSON as the Codable forms, which the agent and the supervisor use (a test holds
/// them together).
extension StepRequest {
    /// The request line srun sends (without its line break).
    public var jsonBytes: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("argv", argv)
        w.field("cpus_per_task", cpusPerTask)
        w.field("environment", environment)
        w.field("job", job)
        w.field("kill_on_bad_exit", killOnBadExit)
        w.field("label", label)
        w.field("name", name)
        w.field("nodes", nodes)
        w.field("overlap", overlap)
        w.field("pmi", pmi)
        w.field("tasks", tasks)
        w.field("tasks_per_node", tasksPerNode)
        w.field("workdir", workdir)
        w.endObject()
        return w.bytes
    }
}

extension StepStart {
    /// Every field absent, for the reader to fill.
    init() {}

    /// The agent's answer line.
    public init(scanning bytes: [UInt8]) throws {
        self.init()
        var s = JSONScanner(bytes)
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "step": step = try s.optionalInt()
            case "node_list": nodeList = try s.optionalString()
            case "tasks": tasks = try s.optionalInt()
            case "tasks_per_node": tasksPerNode = s.null() ? nil : try s.intArray()
            case "warnings": warnings = s.null() ? nil : try s.stringArray()
            case "error": error = try s.optionalString()
            case "retry": retry = s.null() ? nil : try s.bool()
            default: try s.skipValue()
            }
        }
        try s.end()
    }
}

extension StepEnd {
    /// The step's last line: how each task ended.
    public init(scanning bytes: [UInt8]) throws {
        var step: Int?
        var tasks: [Task]?
        var reason: String?
        var s = JSONScanner(bytes)
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "step": step = try s.int()
            case "reason": reason = try s.optionalString()
            case "tasks":
                var list: [Task] = []
                try s.beginArray()
                while try s.nextElement() { list.append(try Task(scanning: &s)) }
                tasks = list
            default: try s.skipValue()
            }
        }
        try s.end()
        guard let step else { throw JSONScanner.Failure.missing("step") }
        guard let tasks else { throw JSONScanner.Failure.missing("tasks") }
        self.init(step: step, tasks: tasks, reason: reason)
    }
}

extension StepEnd.Task {
    init(scanning s: inout JSONScanner) throws {
        var task: Int?
        var node: String?
        var exitCode: Int?
        var signal: Int?
        var cpu: Int?
        var rss: Int?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "task": task = try s.int()
            case "node": node = try s.string()
            case "exit_code": exitCode = try s.int()
            case "signal": signal = try s.optionalInt()
            case "cpu_us": cpu = try s.optionalInt()
            case "max_rss_kb": rss = try s.optionalInt()
            default: try s.skipValue()
            }
        }
        guard let task else { throw JSONScanner.Failure.missing("task") }
        guard let node else { throw JSONScanner.Failure.missing("node") }
        guard let exitCode else { throw JSONScanner.Failure.missing("exit_code") }
        self.init(task: task, node: node, exitCode: exitCode, signal: signal)
        cpuMicroseconds = cpu
        maxRSSKB = rss
    }
}
