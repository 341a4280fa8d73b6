/// The queue's list and a submission, read and written without the generic coders (JSONScanner
/// and JSONWriter, in ChessWire): the hot paths of `queue` and `submit`.
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
