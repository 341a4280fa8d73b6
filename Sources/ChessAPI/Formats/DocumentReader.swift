import SchedulerCore

/// A configuration document as written (JSON or TOML): booleans are not numbers and whole
/// numbers are not fractions. Also the wire form of runtime configuration changes.
public enum DocumentNode: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([DocumentNode])
    case object([String: DocumentNode])

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public var objectValue: [String: DocumentNode]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([DocumentNode].self) { self = .array(a) }
        else { self = .object(try c.decode([String: DocumentNode].self)) }
    }
}

/// A JSON value with the path it was found at.
package struct DocumentValue {
    package let raw: DocumentNode
    package let location: String

    package init(_ raw: DocumentNode, at location: String) {
        self.raw = raw
        self.location = location
    }
}

/// Typed reading of a document (TOML or JSON) with errors that name the value's place: shared by
/// the scenario files here and chessd's configuration (`ChessConfig`).
package struct DocumentReader {
    package struct Failure: Swift.Error {
        package let location: String
        package let reason: String
    }

    package let path: String
    /// The line each value starts on, by location, where the format says (TOML here; the JSON
    /// decoder does not).
    package var lines: [String: Int] = [:]

    package init(path: String, lines: [String: Int] = [:]) {
        self.path = path
        self.lines = lines
    }

    package func fail(_ v: DocumentValue, _ reason: String) -> Failure { failure(at: v.location, reason) }

    /// A failure at `location`, prefixed with the line of the value or of its nearest enclosing one.
    package func failure(at location: String, _ reason: String) -> Failure {
        var l = Substring(location)
        while true {
            if let n = lines[String(l)] { return Failure(location: location.isEmpty ? "line \(n)" : "line \(n): \(location)", reason: reason) }
            guard let cut = l.lastIndex(where: { $0 == "." || $0 == "[" }) else { return Failure(location: location, reason: reason) }
            l = l[..<cut]
        }
    }

    // MARK: Typed access

    package func object(_ v: DocumentValue, keys allowed: Set<String>, required: Set<String> = []) throws -> [String: DocumentValue] {
        guard case .object(let dict) = v.raw else { throw fail(v, "expected an object") }
        var out: [String: DocumentValue] = [:]
        for (k, value) in dict.sorted(by: { $0.key < $1.key }) {
            let here = v.location.isEmpty ? k : "\(v.location).\(k)"
            guard allowed.contains(k) else {
                throw failure(at: here, "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            if case .null = value { continue }
            out[k] = DocumentValue(value, at: here)
        }
        for k in required where out[k] == nil {
            throw failure(at: v.location.isEmpty ? k : "\(v.location).\(k)", "missing (required)")
        }
        return out
    }

    package func array(_ v: DocumentValue) throws -> [DocumentValue] {
        guard case .array(let list) = v.raw else { throw fail(v, "expected a list") }
        return list.enumerated().map { DocumentValue($1, at: "\(v.location)[\($0)]") }
    }

    package func int(_ v: DocumentValue, min: Int? = nil) throws -> Int {
        guard case .int(let i) = v.raw else { throw fail(v, "expected a whole number") }
        if let min, i < min { throw fail(v, "must be at least \(min), got \(i)") }
        return i
    }

    package func string(_ v: DocumentValue) throws -> String {
        guard case .string(let s) = v.raw else { throw fail(v, "expected a string") }
        return s
    }

    package func bool(_ v: DocumentValue) throws -> Bool {
        guard case .bool(let b) = v.raw else { throw fail(v, "expected true or false") }
        return b
    }

    package func strings(_ v: DocumentValue) throws -> [String] { try array(v).map(string) }

    /// A duration: whole seconds, or a string in Slurm's time syntax (`"90"` is 90 minutes as in
    /// Slurm, `"1:30:00"`, `"2-00:00:00"`).
    package func duration(_ v: DocumentValue, min: Int = 0) throws -> Int {
        if case .string(let text) = v.raw {
            let seconds: Int?
            do { seconds = try JobSpecSyntax.timeLimit(text) } catch let e as JobSpecSyntax.Error { throw fail(v, e.description) }
            guard let seconds else { throw fail(v, "expected a finite duration, not '\(text)'") }
            if seconds < min { throw fail(v, "must be at least \(min) seconds") }
            return seconds
        }
        guard case .int = v.raw else { throw fail(v, "expected seconds (a whole number) or a time such as \"1-12:00:00\"") }
        return try int(v, min: min)
    }

    package func hosts(_ v: DocumentValue) throws -> [String] {
        do { return try HostList.expand(try string(v)) } catch let e as HostList.Error { throw fail(v, e.description) }
    }

    package func syntax<T>(_ v: DocumentValue, _ parse: (String) throws -> T) throws -> T {
        let text = try string(v)
        do { return try parse(text) } catch let e as JobSpecSyntax.Error { throw fail(v, e.description) }
    }

    // MARK: Cluster model (shared by scenario files and the controller configuration)

    package func nodeGroup(_ v: DocumentValue) throws -> [Node] {
        let o = try object(v, keys: ["names", "sockets", "cores_per_socket", "memory_mb", "gpus", "gpu_type", "features",
                                     "switch", "state", "reason", "weight", "agent"],
                           required: ["names", "cores_per_socket", "memory_mb"])
        // Bounded as a real node is (the counts become arrays of cores and GPUs).
        func bounded(_ v: DocumentValue, min: Int, max: Int) throws -> Int {
            let n = try int(v, min: min)
            guard n <= max else { throw fail(v, "at most \(max)") }
            return n
        }
        let sockets = try o["sockets"].map { try bounded($0, min: 1, max: 64) } ?? 1
        let topology = NodeTopology.uniform(
            sockets: sockets, coresPerSocket: try bounded(o["cores_per_socket"]!, min: 1, max: InputLimits.cpusPerTask),
            memoryMB: try bounded(o["memory_mb"]!, min: 0, max: InputLimits.memoryMB * 64),
            gpus: try o["gpus"].map { try bounded($0, min: 0, max: InputLimits.gpus) } ?? 0,
            gpuType: try o["gpu_type"].map(string) ?? "gpu", leafSwitch: try o["switch"].map(string))
        var state = NodeAdminState.up
        if let s = o["state"] {
            let name = try string(s)
            guard let st = NodeAdminState(rawValue: name) else { throw fail(s, "'\(name)' is not one of up, drain, down, fail") }
            state = st
        }
        let features = Set(try o["features"].map(strings) ?? [])
        let reason = try o["reason"].map(string)
        let weight = try o["weight"].map { try int($0, min: 0) } ?? 1
        return try hosts(o["names"]!).map {
            Node(name: $0, topology: topology, features: features, adminState: state, reason: reason, weight: weight)
        }
    }

    package func partition(_ v: DocumentValue, known: Set<String>) throws -> Partition {
        let o = try object(v, keys: ["name", "nodes", "priority_tier", "priority_job_factor", "default_time", "max_time",
                                     "allowed_qos", "allowed_accounts", "exclusive", "prices", "state", "max_nodes", "def_mem_per_cpu",
                                     "def_mem_per_node", "max_mem_per_cpu", "max_mem_per_node"], required: ["name", "nodes"])
        if o["def_mem_per_cpu"] != nil && o["def_mem_per_node"] != nil {
            throw fail(o["def_mem_per_node"]!, "give def_mem_per_cpu or def_mem_per_node, not both")
        }
        var state = PartitionState.up
        if let s = o["state"] {
            let name = try string(s)
            guard let st = PartitionState(rawValue: name.lowercased()) else { throw fail(s, "'\(name)' is not one of up, down, drain, inactive") }
            state = st
        }
        let nodes = try hosts(o["nodes"]!)
        if let unknown = nodes.first(where: { !known.contains($0) }) {
            throw fail(o["nodes"]!, "node '\(unknown)' is not defined under nodes")
        }
        return Partition(name: try string(o["name"]!), nodes: nodes,
                         priorityTier: try o["priority_tier"].map { try int($0) } ?? 1,
                         priorityJobFactor: try o["priority_job_factor"].map { try int($0, min: 0) } ?? 1,
                         defaultTime: try o["default_time"].map { try duration($0, min: 1) },
                         maxTime: try o["max_time"].map { try duration($0, min: 1) },
                         allowedQoS: try o["allowed_qos"].map { Set(try strings($0)) },
                         allowedAccounts: try o["allowed_accounts"].map { Set(try strings($0)) },
                         exclusiveByDefault: try o["exclusive"].map(bool) ?? false, state: state,
                         maxNodes: try o["max_nodes"].map { try int($0, min: 1) },
                         defMemPerCPU: try o["def_mem_per_cpu"].map(memoryMB), defMemPerNode: try o["def_mem_per_node"].map(memoryMB),
                         maxMemPerCPU: try o["max_mem_per_cpu"].map(memoryMB), maxMemPerNode: try o["max_mem_per_node"].map(memoryMB))
    }

    /// MiB: a whole number, or a size with a unit as sbatch's `--mem` takes it (`"4G"`).
    package func memoryMB(_ v: DocumentValue) throws -> Int {
        if case .string(let text) = v.raw {
            do { return try JobSpecSyntax.memoryMB(text) } catch let e as JobSpecSyntax.Error { throw fail(v, e.description) }
        }
        return try int(v, min: 0)
    }

    package func tresLimit(_ v: DocumentValue) throws -> TRESLimit {
        let o = try object(v, keys: ["cpus", "memory_mb", "gpus", "nodes"])
        return TRESLimit(cpus: try o["cpus"].map { try int($0, min: 0) }, memoryMB: try o["memory_mb"].map { try int($0, min: 0) },
                         gpus: try o["gpus"].map { try int($0, min: 0) }, nodes: try o["nodes"].map { try int($0, min: 0) })
    }

    package func qosEntry(_ v: DocumentValue) throws -> QoS {
        let o = try object(v, keys: ["name", "priority", "preempt", "preempt_mode", "grace_time", "usage_factor", "usage_factor_permille",
                                     "max_wall", "max_jobs_per_user", "max_submit_jobs_per_user", "max_tres_per_job",
                                     "max_tres_per_user", "grp_tres"], required: ["name"])
        var mode = PreemptMode.cancel
        if let m = o["preempt_mode"] {
            let name = try string(m)
            guard let pm = PreemptMode(rawValue: name) else { throw fail(m, "'\(name)' is not one of off, cancel, requeue, suspend") }
            mode = pm
        }
        let limits = QoSLimits(
            maxWall: try o["max_wall"].map { try duration($0, min: 1) },
            maxJobsPerUser: try o["max_jobs_per_user"].map { try int($0, min: 0) },
            maxSubmitJobsPerUser: try o["max_submit_jobs_per_user"].map { try int($0, min: 0) },
            maxTRESPerJob: try o["max_tres_per_job"].map(tresLimit) ?? TRESLimit(),
            maxTRESPerUser: try o["max_tres_per_user"].map(tresLimit) ?? TRESLimit(),
            grpTRES: try o["grp_tres"].map(tresLimit) ?? TRESLimit())
        return QoS(name: try string(o["name"]!), priority: try o["priority"].map { try int($0) } ?? 0,
                   preempt: Set(try o["preempt"].map(strings) ?? []), preemptMode: mode,
                   graceTime: try o["grace_time"].map { try duration($0) } ?? 0,
                   usageFactorPermille: try usageFactor(o), limits: limits)
    }

    /// `usage_factor = 0.4` (Slurm's UsageFactor) or `usage_factor_permille = 400`.
    package func usageFactor(_ o: [String: DocumentValue]) throws -> Int {
        if let f = o["usage_factor"] {
            if o["usage_factor_permille"] != nil { throw fail(f, "give usage_factor or usage_factor_permille, not both") }
            switch f.raw {
            case .int(let i) where i >= 0: return i * 1000
            case .double(let d) where d >= 0 && d < 1_000_000: return Int((d * 1000).rounded())
            default: throw fail(f, "expected a non-negative number such as 0.4")
            }
        }
        return try o["usage_factor_permille"].map { try int($0, min: 0) } ?? 1000
    }

    package func account(_ v: DocumentValue) throws -> Account {
        let o = try object(v, keys: ["name", "parent", "shares", "users", "grp_tres", "grp_jobs"], required: ["name"])
        return Account(name: try string(o["name"]!), parent: try o["parent"].map(string),
                       shares: try o["shares"].map { try int($0, min: 0) } ?? 1,
                       users: try o["users"].map { Set(try strings($0)) },
                       grpTRES: try o["grp_tres"].map(tresLimit) ?? TRESLimit(), grpJobs: try o["grp_jobs"].map { try int($0, min: 0) })
    }

    package func reservation(_ v: DocumentValue, known: Set<String>) throws -> Reservation {
        let o = try object(v, keys: ["name", "nodes", "start", "end", "users", "accounts"], required: ["name", "nodes", "start", "end"])
        let nodes = try hosts(o["nodes"]!)
        if let unknown = nodes.first(where: { !known.contains($0) }) {
            throw fail(o["nodes"]!, "node '\(unknown)' is not defined under nodes")
        }
        let start = try int(o["start"]!)
        let end = try int(o["end"]!)
        guard end > start else { throw fail(o["end"]!, "must be after start (\(start))") }
        return Reservation(name: try string(o["name"]!), nodes: nodes, start: start, end: end,
                           users: Set(try o["users"].map(strings) ?? []), accounts: Set(try o["accounts"].map(strings) ?? []))
    }

    package func weights(_ v: DocumentValue) throws -> PriorityWeights {
        let o = try object(v, keys: ["age", "fair_share", "job_size", "partition", "qos", "max_age"])
        var w = PriorityWeights()
        if let x = o["age"] { w.age = try int(x, min: 0) }
        if let x = o["fair_share"] { w.fairShare = try int(x, min: 0) }
        if let x = o["job_size"] { w.jobSize = try int(x, min: 0) }
        if let x = o["partition"] { w.partition = try int(x, min: 0) }
        if let x = o["qos"] { w.qos = try int(x, min: 0) }
        if let x = o["max_age"] { w.maxAge = try duration(x, min: 1) }
        return w
    }

}

extension DocumentNode {
    /// A TOML table as a document tree, with the line of every value by its location
    /// (`partitions[1].max_time`), so that errors in a TOML file can name the line.
    package static func fromTOML(_ table: TOMLTable) -> (node: DocumentNode, lines: [String: Int]) {
        var lines: [String: Int] = [:]
        func convert(_ value: TOMLValue, at location: String, line: Int) -> DocumentNode {
            lines[location] = line
            switch value {
            case .string(let s), .datetime(let s): return .string(s)
            case .integer(let i): return .int(i)
            case .float(let d): return .double(d)
            case .bool(let b): return .bool(b)
            case .array(let items):
                return .array(items.enumerated().map { i, item in
                    var itemLine = line
                    if case .table(let t) = item, t.headerLine > 0 { itemLine = t.headerLine }
                    return convert(item, at: "\(location)[\(i)]", line: itemLine)
                })
            case .table(let t):
                var object: [String: DocumentNode] = [:]
                for key in t.keys {
                    let here = location.isEmpty ? key : "\(location).\(key)"
                    var keyLine = t.lines[key] ?? line
                    if case .table(let sub) = t[key]!, sub.headerLine > 0 { keyLine = sub.headerLine }
                    object[key] = convert(t[key]!, at: here, line: keyLine)
                }
                return .object(object)
            }
        }
        let node = convert(.table(table), at: "", line: 1)
        lines[""] = nil
        return (node, lines)
    }
}
