/// The queue's list, read and written without the generic coders (JSONScanner and JSONWriter,
/// in ChessWire): the hot path of `queue` (a submission's are beside `JobSubmission`).
extension JobInfo {
    /// The same JSON as the Codable form (sorted keys; a test holds them together), written
    /// directly: `queue` answers with tens of thousands of these.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("account", account)
        w.field("array_job_id", arrayJobID)
        w.field("array_pending", arrayPending)
        w.field("array_task_id", arrayTaskID)
        w.field("cpus", cpus)
        w.field("dependency", dependency)
        w.field("display_id", displayID)
        w.field("eligible_time", eligibleTime)
        w.field("end_time", endTime)
        w.field("error", error)
        w.field("excluded_nodes", excludedNodes)
        w.field("exit_code", exitCode)
        w.field("gpus", gpus)
        w.field("id", id)
        w.field("licenses", licenses)
        w.field("memory_mb", memoryMB)
        w.field("name", name)
        w.field("nice", nice)
        w.field("node_list", nodeList)
        w.field("nodes", nodes)
        w.field("output", output)
        w.field("partition", partition)
        w.field("planned_start", plannedStart)
        w.field("priority", priority)
        w.field("qos", qos)
        w.field("reason", reason)
        w.field("required_nodes", requiredNodes)
        w.field("start_time", startTime)
        w.field("state", state)
        w.field("submit_time", submitTime)
        w.field("time_limit", timeLimit)
        w.field("unavailable_nodes", unavailableNodes)
        w.field("user", user)
        w.field("workdir", workdir)
        w.endObject()
    }

    public init(scanning s: inout JSONScanner) throws {
        self.init(id: 0, displayID: "", name: "", user: "", account: "", partition: "", qos: "", state: "", submitTime: 0,
                  nodes: 0, cpus: 0, memoryMB: 0, gpus: 0)
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "account": account = try s.string()
            case "array_job_id": arrayJobID = try s.optionalInt()
            case "array_pending": arrayPending = try s.optionalString()
            case "array_task_id": arrayTaskID = try s.optionalInt()
            case "cpus": cpus = try s.int()
            case "dependency": dependency = try s.optionalString()
            case "display_id": displayID = try s.string()
            case "eligible_time": eligibleTime = try s.optionalInt()
            case "end_time": endTime = try s.optionalInt()
            case "error": error = try s.optionalString()
            case "excluded_nodes": excludedNodes = try s.optionalString()
            case "exit_code": exitCode = try s.optionalInt()
            case "gpus": gpus = try s.int()
            case "id": id = try s.int()
            case "licenses": licenses = try s.optionalString()
            case "memory_mb": memoryMB = try s.int()
            case "name": name = try s.string()
            case "nice": nice = try s.optionalInt()
            case "node_list": nodeList = try s.optionalString()
            case "nodes": nodes = try s.int()
            case "output": output = try s.optionalString()
            case "partition": partition = try s.string()
            case "planned_start": plannedStart = try s.optionalInt()
            case "priority": priority = try s.optionalInt()
            case "qos": qos = try s.string()
            case "reason": reason = try s.optionalString()
            case "required_nodes": requiredNodes = try s.optionalString()
            case "start_time": startTime = try s.optionalInt()
            case "state": state = try s.string()
            case "submit_time": submitTime = try s.int()
            case "time_limit": timeLimit = try s.optionalInt()
            case "unavailable_nodes": unavailableNodes = try s.optionalString()
            case "user": user = try s.string()
            case "workdir": workdir = try s.optionalString()
            default: try s.skipValue()
            }
        }
    }
}

extension JobList {
    public var jsonBytes: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.beginArrayField("jobs")
        for job in jobs { job.write(to: &w) }
        w.endArrayField()
        w.endObject()
        return w.bytes
    }

    public init(scanning bytes: [UInt8]) throws {
        var s = JSONScanner(bytes)
        var jobs: [JobInfo] = []
        try s.beginObject()
        while let key = try s.nextKey() {
            if key == "jobs" {
                try s.beginArray()
                while try s.nextElement() { jobs.append(try JobInfo(scanning: &s)) }
            } else {
                try s.skipValue()
            }
        }
        self.init(jobs: jobs)
    }
}
