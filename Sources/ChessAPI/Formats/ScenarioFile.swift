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
        let root: DocumentNode
        do {
            root = try JSONDecoder().decode(DocumentNode.self, from: data)
        } catch {
            // JSONDecoder does not say where; JSONSerialization does ("around character N").
            var detail = describe(error)
            do { _ = try JSONSerialization.jsonObject(with: data) } catch { detail = describe(error) }
            throw Error(path: path, location: syntaxErrorLine(detail, data), reason: "not valid JSON (\(detail))")
        }
        do {
            return try DocumentReader(path: path).scenario(DocumentValue(root, at: ""))
        } catch let e as DocumentReader.Failure {
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

extension DocumentReader {
    // MARK: Scenario

    func scenario(_ v: DocumentValue) throws -> Scenario {
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
                        fairShareHalfLife: try o["fair_share_half_life"].map { try duration($0, min: 1) } ?? 7 * 86400)
    }

    func job(_ v: DocumentValue, cluster: Cluster) throws -> ScenarioJob {
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
        request.timeLimit = try o["time"].map { try duration($0, min: 1) }
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
