/// A pull parser over JSON bytes, for the large answers on hot paths (`queue` with tens of
/// thousands of jobs): it decodes straight into the wire types, without the generic decoder's
/// containers and dictionaries. Anything unexpected throws; unknown keys are skipped.
public struct JSONScanner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let bytes: [UInt8]
    var pos = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
    }

    func fail(_ what: String) -> Failure { Failure(description: "invalid JSON at byte \(pos): \(what)") }

    mutating func expect(_ c: UInt8) throws {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        pos += 1
    }

    public mutating func beginObject() throws { try expect(UInt8(ascii: "{")) }

    /// The next key of the current object, or nil at its end. Call after `beginObject` and after
    /// reading each value.
    public mutating func nextKey() throws -> String? {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unterminated object") }
        if bytes[pos] == UInt8(ascii: "}") { pos += 1; return nil }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace() }
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return key
    }

    public mutating func beginArray() throws { try expect(UInt8(ascii: "[")) }

    /// True while the current array has another element.
    public mutating func nextElement() throws -> Bool {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unterminated array") }
        if bytes[pos] == UInt8(ascii: "]") { pos += 1; return false }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1 }
        return true
    }

    /// Consumes a `null` if one is next.
    public mutating func null() -> Bool {
        skipWhitespace()
        if pos + 4 <= bytes.count, bytes[pos] == UInt8(ascii: "n") { pos += 4; return true }
        return false
    }

    public mutating func string() throws -> String {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        pos += 1
        let start = pos
        var escaped = false
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\"") {
            if bytes[pos] == UInt8(ascii: "\\") { escaped = true; pos += 1 }
            pos += 1
        }
        guard pos < bytes.count else { throw fail("unterminated string") }
        let raw = bytes[start..<pos]
        pos += 1
        return escaped ? try unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    func unescape(_ raw: ArraySlice<UInt8>) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let c = raw[i]
            guard c == UInt8(ascii: "\\"), i + 1 < raw.endIndex else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= raw.endIndex, var code = UInt32(String(decoding: raw[i..<i + 4], as: UTF8.self), radix: 16) else {
                    throw fail("bad \\u escape")
                }
                i += 4
                // A surrogate pair; a lone surrogate (or a high one followed by anything but a
                // low one) becomes U+FFFD, as in the decoders of most languages.
                if code >= 0xD800 && code < 0xDC00, i + 6 <= raw.endIndex, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                   let low = UInt32(String(decoding: raw[i + 2..<i + 6], as: UTF8.self), radix: 16), low >= 0xDC00 && low < 0xE000 {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public mutating func int() throws -> Int {
        skipWhitespace()
        var negative = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        var v = 0
        let start = pos
        while pos < bytes.count, bytes[pos] >= 0x30 && bytes[pos] <= 0x39 {
            let (times, o1) = v.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[pos] - 0x30))
            guard !o1 && !o2 else { throw fail("number out of range") }
            v = sum
            pos += 1
        }
        guard pos > start else { throw fail("expected a number") }
        return negative ? -v : v
    }

    /// A number that must fit a `UInt32` (a uid or gid).
    public mutating func uint32() throws -> UInt32 {
        guard let v = UInt32(exactly: try int()) else { throw fail("number out of range") }
        return v
    }

    public mutating func intArray() throws -> [Int] {
        var values: [Int] = []
        try beginArray()
        while try nextElement() { values.append(try int()) }
        return values
    }

    public mutating func stringDictionary() throws -> [String: String] {
        var values: [String: String] = [:]
        try beginObject()
        while let k = try nextKey() { values[k] = try string() }
        return values
    }

    /// Throws unless only whitespace is left (a document is one value).
    public mutating func end() throws {
        skipWhitespace()
        guard pos == bytes.count else { throw fail("trailing bytes") }
    }

    public mutating func bool() throws -> Bool {
        skipWhitespace()
        if pos + 4 <= bytes.count, bytes[pos] == UInt8(ascii: "t") { pos += 4; return true }
        if pos + 5 <= bytes.count, bytes[pos] == UInt8(ascii: "f") { pos += 5; return false }
        throw fail("expected true or false")
    }

    public mutating func optionalString() throws -> String? { null() ? nil : try string() }
    public mutating func optionalInt() throws -> Int? { null() ? nil : try int() }

    /// Skips whatever value comes next (nested at most `InputLimits.jsonDepth` deep).
    public mutating func skipValue(depth: Int = 0) throws {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("expected a value") }
        guard depth < InputLimits.jsonDepth else { throw fail("nested deeper than \(InputLimits.jsonDepth) levels") }
        switch bytes[pos] {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"):
            try beginObject()
            while try nextKey() != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try beginArray()
            while try nextElement() { try skipValue(depth: depth + 1) }
        default:
            let start = pos
            while pos < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) {
                pos += 1
            }
            // A delimiter where a value belongs (`[}`): refused, or the caller's loop would not move.
            guard pos > start else { throw fail("expected a value") }
        }
    }
}

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
        s.skipWhitespace()
        guard s.pos == bytes.count else { throw s.fail("trailing characters") }
    }
}
