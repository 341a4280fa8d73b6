import Foundation
import SchedulerCore

/// A cluster-mode scenario for `chessctl simulate --scenario`: nodes, partitions, QoS, accounts,
/// reservations, and jobs with their real run times. JSON, keys in snake_case, times in integer
/// seconds; `docs/simulate.md` documents every key and `examples/scenarios/` has examples.
///
/// Every error names the file and the place in it (`jobs[3].partition`), and unknown keys are
/// refused, so a typo never silently changes a simulation.
public struct Scenario: Sendable {
    public var cluster: Cluster
    public var configuration: PlannerConfiguration
    public var jobs: [ScenarioJob]
    public var fairShareHalfLife: Int

    public var simulator: ClusterSimulator {
        ClusterSimulator(cluster: cluster, configuration: configuration, jobs: jobs, fairShareHalfLife: fairShareHalfLife)
    }
}

public enum ScenarioFile {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let path: String
        public let location: String
        public let reason: String
        public var description: String { location.isEmpty ? "\(path): \(reason)" : "\(path): \(location): \(reason)" }
    }

    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, location: "", reason: FileManager.default.fileExists(atPath: path)
                        ? "cannot be read" : "no such file")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String = "<scenario>") throws -> Scenario {
        let root: JSONNode
        do {
            root = try JSONDecoder().decode(JSONNode.self, from: data)
        } catch {
            // JSONDecoder does not say where; JSONSerialization does ("around character N").
            var detail = describe(error)
            do { _ = try JSONSerialization.jsonObject(with: data) } catch { detail = describe(error) }
            throw Error(path: path, location: syntaxErrorLine(detail, data), reason: "not valid JSON (\(detail))")
        }
        do {
            return try ScenarioReader(path: path).scenario(JSONValue(root, at: ""))
        } catch let e as ScenarioReader.Failure {
            throw Error(path: path, location: e.location, reason: e.reason)
        }
    }

    private static func describe(_ error: Swift.Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
    }

    /// "around character N" (or "line N") in a parser's message, as a line number.
    private static func syntaxErrorLine(_ text: String, _ data: Data) -> String {
        if let range = text.range(of: "line ") {
            let digits = text[range.upperBound...].prefix { $0.isNumber }
            if !digits.isEmpty { return "line \(digits)" }
        }
        guard let range = text.range(of: "character ") else { return "" }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        guard let offset = Int(digits) else { return "" }
        let line = 1 + data.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count
        return "line \(line)"
    }
}

/// JSON as it was written: booleans are not numbers and whole numbers are not fractions.
enum JSONNode: Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONNode].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONNode].self)) }
    }
}

/// A JSON value with the path it was found at.
struct JSONValue {
    let raw: JSONNode
    let location: String

    init(_ raw: JSONNode, at location: String) {
        self.raw = raw
        self.location = location
    }
}

struct ScenarioReader {
    struct Failure: Swift.Error {
        let location: String
        let reason: String
    }

    let path: String

    func fail(_ v: JSONValue, _ reason: String) -> Failure { Failure(location: v.location, reason: reason) }

    // MARK: Typed access

    func object(_ v: JSONValue, keys allowed: Set<String>, required: Set<String> = []) throws -> [String: JSONValue] {
        guard case .object(let dict) = v.raw else { throw fail(v, "expected an object") }
        var out: [String: JSONValue] = [:]
        for (k, value) in dict.sorted(by: { $0.key < $1.key }) {
            let here = v.location.isEmpty ? k : "\(v.location).\(k)"
            guard allowed.contains(k) else {
                throw Failure(location: here, reason: "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            if case .null = value { continue }
            out[k] = JSONValue(value, at: here)
        }
        for k in required where out[k] == nil {
            throw Failure(location: v.location.isEmpty ? k : "\(v.location).\(k)", reason: "missing (required)")
        }
        return out
    }

    func array(_ v: JSONValue) throws -> [JSONValue] {
        guard case .array(let list) = v.raw else { throw fail(v, "expected a list") }
        return list.enumerated().map { JSONValue($1, at: "\(v.location)[\($0)]") }
    }

    func int(_ v: JSONValue, min: Int? = nil) throws -> Int {
        guard case .int(let i) = v.raw else { throw fail(v, "expected a whole number") }
        if let min, i < min { throw fail(v, "must be at least \(min), got \(i)") }
        return i
    }

    func string(_ v: JSONValue) throws -> String {
        guard case .string(let s) = v.raw else { throw fail(v, "expected a string") }
        return s
    }

    func bool(_ v: JSONValue) throws -> Bool {
        guard case .bool(let b) = v.raw else { throw fail(v, "expected true or false") }
        return b
    }

    func strings(_ v: JSONValue) throws -> [String] { try array(v).map(string) }

    func hosts(_ v: JSONValue) throws -> [String] {
        do { return try HostList.expand(try string(v)) } catch let e as HostList.Error { throw fail(v, e.description) }
    }

    func syntax<T>(_ v: JSONValue, _ parse: (String) throws -> T) throws -> T {
        let text = try string(v)
        do { return try parse(text) } catch let e as JobSpecSyntax.Error { throw fail(v, e.description) }
    }

    // MARK: Scenario

    func scenario(_ v: JSONValue) throws -> Scenario {
        let o = try object(v, keys: ["policy", "weights", "preemption", "fair_share_half_life", "nodes", "partitions", "qos",
                                     "accounts", "reservations", "jobs"],
                           required: ["nodes", "partitions", "jobs"])
        var nodes: [Node] = []
        for n in try array(o["nodes"]!) { nodes += try nodeGroup(n) }
        var seen = Set<String>()
        for (i, n) in nodes.enumerated() where !seen.insert(n.name).inserted {
            throw Failure(location: "nodes", reason: "node '\(n.name)' is defined twice (at position \(i))")
        }
        let qos = try o["qos"].map { try array($0).map(qosEntry) } ?? [QoS(name: "normal")]
        let accounts = try o["accounts"].map { try array($0).map(account) } ?? [Account(name: "default")]
        let partitions = try array(o["partitions"]!).map { try partition($0, known: seen) }
        let reservations = try o["reservations"].map { try array($0).map { try reservation($0, known: seen) } } ?? []
        let cluster = Cluster(nodes: nodes, partitions: partitions, qos: qos, accounts: accounts, reservations: reservations)

        var configuration = PlannerConfiguration()
        if let p = o["policy"] {
            let name = try string(p)
            guard let policy = SchedulingPolicy(rawValue: name) else {
                throw fail(p, "'\(name)' is not one of fifo, easy, conservative")
            }
            configuration.policy = policy
        }
        if let w = o["weights"] { configuration.weights = try weights(w) }
        if let p = o["preemption"] { configuration.preemption = try bool(p) }

        var ids = Set<JobID>()
        let jobs = try array(o["jobs"]!).map { v -> ScenarioJob in
            let j = try job(v, cluster: cluster)
            guard ids.insert(j.job.id).inserted else { throw fail(v, "job id \(j.job.id) is used twice") }
            return j
        }
        return Scenario(cluster: cluster, configuration: configuration, jobs: jobs,
                        fairShareHalfLife: try o["fair_share_half_life"].map { try int($0, min: 1) } ?? 7 * 86400)
    }

    func nodeGroup(_ v: JSONValue) throws -> [Node] {
        let o = try object(v, keys: ["names", "sockets", "cores_per_socket", "memory_mb", "gpus", "gpu_type", "features",
                                     "switch", "state", "reason"],
                           required: ["names", "cores_per_socket", "memory_mb"])
        let sockets = try o["sockets"].map { try int($0, min: 1) } ?? 1
        let topology = NodeTopology.uniform(
            sockets: sockets, coresPerSocket: try int(o["cores_per_socket"]!, min: 1),
            memoryMB: try int(o["memory_mb"]!, min: 0), gpus: try o["gpus"].map { try int($0, min: 0) } ?? 0,
            gpuType: try o["gpu_type"].map(string) ?? "gpu", leafSwitch: try o["switch"].map(string))
        var state = NodeAdminState.up
        if let s = o["state"] {
            let name = try string(s)
            guard let st = NodeAdminState(rawValue: name) else { throw fail(s, "'\(name)' is not one of up, drain, down, fail") }
            state = st
        }
        let features = Set(try o["features"].map(strings) ?? [])
        let reason = try o["reason"].map(string)
        return try hosts(o["names"]!).map {
            Node(name: $0, topology: topology, features: features, adminState: state, reason: reason)
        }
    }

    func partition(_ v: JSONValue, known: Set<String>) throws -> Partition {
        let o = try object(v, keys: ["name", "nodes", "priority_tier", "priority_job_factor", "default_time", "max_time",
                                     "allowed_qos", "allowed_accounts", "exclusive"], required: ["name", "nodes"])
        let nodes = try hosts(o["nodes"]!)
        if let unknown = nodes.first(where: { !known.contains($0) }) {
            throw fail(o["nodes"]!, "node '\(unknown)' is not defined under nodes")
        }
        return Partition(name: try string(o["name"]!), nodes: nodes,
                         priorityTier: try o["priority_tier"].map { try int($0) } ?? 1,
                         priorityJobFactor: try o["priority_job_factor"].map { try int($0, min: 0) } ?? 1,
                         defaultTime: try o["default_time"].map { try int($0, min: 1) },
                         maxTime: try o["max_time"].map { try int($0, min: 1) },
                         allowedQoS: try o["allowed_qos"].map { Set(try strings($0)) },
                         allowedAccounts: try o["allowed_accounts"].map { Set(try strings($0)) },
                         exclusiveByDefault: try o["exclusive"].map(bool) ?? false)
    }

    func tresLimit(_ v: JSONValue) throws -> TRESLimit {
        let o = try object(v, keys: ["cpus", "memory_mb", "gpus", "nodes"])
        return TRESLimit(cpus: try o["cpus"].map { try int($0, min: 0) }, memoryMB: try o["memory_mb"].map { try int($0, min: 0) },
                         gpus: try o["gpus"].map { try int($0, min: 0) }, nodes: try o["nodes"].map { try int($0, min: 0) })
    }

    func qosEntry(_ v: JSONValue) throws -> QoS {
        let o = try object(v, keys: ["name", "priority", "preempt", "preempt_mode", "grace_time", "usage_factor_permille",
                                     "max_wall", "max_jobs_per_user", "max_submit_jobs_per_user", "max_tres_per_job",
                                     "max_tres_per_user", "grp_tres"], required: ["name"])
        var mode = PreemptMode.cancel
        if let m = o["preempt_mode"] {
            let name = try string(m)
            guard let pm = PreemptMode(rawValue: name) else { throw fail(m, "'\(name)' is not one of off, cancel, requeue, suspend") }
            mode = pm
        }
        let limits = QoSLimits(
            maxWall: try o["max_wall"].map { try int($0, min: 1) },
            maxJobsPerUser: try o["max_jobs_per_user"].map { try int($0, min: 0) },
            maxSubmitJobsPerUser: try o["max_submit_jobs_per_user"].map { try int($0, min: 0) },
            maxTRESPerJob: try o["max_tres_per_job"].map(tresLimit) ?? TRESLimit(),
            maxTRESPerUser: try o["max_tres_per_user"].map(tresLimit) ?? TRESLimit(),
            grpTRES: try o["grp_tres"].map(tresLimit) ?? TRESLimit())
        return QoS(name: try string(o["name"]!), priority: try o["priority"].map { try int($0) } ?? 0,
                   preempt: Set(try o["preempt"].map(strings) ?? []), preemptMode: mode,
                   graceTime: try o["grace_time"].map { try int($0, min: 0) } ?? 0,
                   usageFactorPermille: try o["usage_factor_permille"].map { try int($0, min: 0) } ?? 1000, limits: limits)
    }

    func account(_ v: JSONValue) throws -> Account {
        let o = try object(v, keys: ["name", "parent", "shares"], required: ["name"])
        return Account(name: try string(o["name"]!), parent: try o["parent"].map(string),
                       shares: try o["shares"].map { try int($0, min: 0) } ?? 1)
    }

    func reservation(_ v: JSONValue, known: Set<String>) throws -> Reservation {
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

    func weights(_ v: JSONValue) throws -> PriorityWeights {
        let o = try object(v, keys: ["age", "fair_share", "job_size", "partition", "qos", "max_age"])
        var w = PriorityWeights()
        if let x = o["age"] { w.age = try int(x, min: 0) }
        if let x = o["fair_share"] { w.fairShare = try int(x, min: 0) }
        if let x = o["job_size"] { w.jobSize = try int(x, min: 0) }
        if let x = o["partition"] { w.partition = try int(x, min: 0) }
        if let x = o["qos"] { w.qos = try int(x, min: 0) }
        if let x = o["max_age"] { w.maxAge = try int(x, min: 1) }
        return w
    }

    func job(_ v: JSONValue, cluster: Cluster) throws -> ScenarioJob {
        let o = try object(v, keys: ["id", "name", "submit", "run", "time", "user", "account", "partition", "qos", "nodes",
                                     "ntasks", "ntasks_per_node", "cpus_per_task", "mem_mb", "mem_per_cpu_mb", "gpus",
                                     "gpus_per_task", "gpu_type", "exclusive", "constraint", "reservation", "begin", "hold",
                                     "dependency", "array", "exit_code", "priority"],
                           required: ["id", "submit", "run", "user", "partition"])
        var request = JobRequest()
        request.nodes = try o["nodes"].map { try int($0, min: 1) }
        request.tasks = try o["ntasks"].map { try int($0, min: 1) }
        request.tasksPerNode = try o["ntasks_per_node"].map { try int($0, min: 1) }
        request.cpusPerTask = try o["cpus_per_task"].map { try int($0, min: 1) } ?? 1
        if let m = o["mem_mb"], let c = o["mem_per_cpu_mb"] {
            _ = c
            throw fail(m, "give mem_mb or mem_per_cpu_mb, not both")
        }
        if let m = o["mem_mb"] { request.memory = .perNode(try int(m, min: 0)) }
        if let m = o["mem_per_cpu_mb"] { request.memory = .perCPU(try int(m, min: 0)) }
        let gpuType = try o["gpu_type"].map(string)
        if let g = o["gpus"] { request.gpus = GPURequest(count: try int(g, min: 0), per: .perNode, type: gpuType) }
        if let g = o["gpus_per_task"] { request.gpus = GPURequest(count: try int(g, min: 0), per: .perTask, type: gpuType) }
        request.timeLimit = try o["time"].map { try int($0, min: 1) }
        request.exclusive = try o["exclusive"].map(bool)
        if let c = o["constraint"] {
            let text = try string(c)
            guard let expression = FeatureExpression(text) else { throw fail(c, "'\(text)' is not a feature expression like a&b|c") }
            request.constraint = expression
        }
        request.reservation = try o["reservation"].map(string)

        let partition = try string(o["partition"]!)
        guard cluster.partition(named: partition) != nil else {
            throw fail(o["partition"]!, "unknown partition '\(partition)'; defined: \(cluster.partitions.map(\.name).joined(separator: ", "))")
        }
        let qos = try o["qos"].map(string) ?? "normal"
        guard cluster.qos(named: qos) != nil else {
            throw fail(o["qos"] ?? v, "unknown QoS '\(qos)'; defined: \(cluster.qos.map(\.name).joined(separator: ", "))")
        }
        var job = Job(id: try int(o["id"]!, min: 1), name: try o["name"].map(string) ?? "job", user: try string(o["user"]!),
                      account: try o["account"].map(string) ?? "default", partition: partition, qos: qos, request: request,
                      submitTime: try int(o["submit"]!))
        job.beginTime = try o["begin"].map { try int($0) }
        job.hold = try o["hold"].map(bool) ?? false
        job.priorityOverride = try o["priority"].map { try int($0, min: 0) }
        if let d = o["dependency"] {
            let parsed = try syntax(d, JobSpecSyntax.dependencies)
            job.dependencies = parsed.dependencies
            job.singleton = parsed.singleton
        }
        if let a = o["array"] { job.array = try syntax(a, JobSpecSyntax.array) }
        return ScenarioJob(job: job, run: try int(o["run"]!, min: 1), exitCode: try o["exit_code"].map { try int($0) } ?? 0)
    }
}
