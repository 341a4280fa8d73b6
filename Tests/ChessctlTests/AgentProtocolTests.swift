import ChessAPI
import Foundation
import Testing

/// An agent as chessd sees it: anything that speaks the protocol over TCP with the cluster key.
/// These tests play the agent by hand, so they check the controller's side alone.
final class ProtocolAgent: @unchecked Sendable {
    let name: String
    let client: ControllerClient

    /// Signs with its own key, derived from `key` (the cluster's by default), and acts only on
    /// answers chessd signed, as chess-nodeagent does.
    init(name: String, cluster: TestCluster, key: [UInt8]? = nil) {
        self.name = name
        let key = RequestSigning.agentKey(clusterKey: key ?? cluster.key, agent: name)
        client = ControllerClient(tcp: HostPort(cluster.listen!)!, signer: { method, target, body in
            RequestSigning.headers(agent: name, key: key, method: method, target: target, body: body)
        }, verifier: { request, status, signature, body in
            RequestSigning.verifyResponse(key: key, request: request, status: status, signature: signature, body: body)
        })
    }

    static func topology(sockets: Int, coresPerSocket: Int, memoryMB: Int, gpus: Int = 0, type: String = "a100") -> AgentTopology {
        AgentTopology(sockets: sockets, threadsPerCore: 2,
                      numa: (0..<sockets).map { s in
                          .init(id: s, cores: Array(s * coresPerSocket..<(s + 1) * coresPerSocket), memoryMB: memoryMB / sockets)
                      },
                      gpus: (0..<gpus).map { .init(index: $0, type: type, numa: $0 % sockets) },
                      hcas: ["mlx5_0 port 1 ACTIVE InfiniBand 200 Gb/s"])
    }

    func register(_ nodes: [AgentNodeReport], running: [Int] = []) throws -> AgentRegistrationResponse {
        try client.post("/v1/agent/register", AgentRegistration(agent: name, version: "test", nodes: nodes, running: running),
                        as: AgentRegistrationResponse.self)
    }

    func heartbeat(_ completions: [JobCompletion] = [], wait: Int = 0) throws -> HeartbeatResponse {
        try client.post("/v1/agent/heartbeat", AgentHeartbeat(agent: name, completions: completions, wait: wait),
                        as: HeartbeatResponse.self)
    }

    /// Heartbeats (bounded) until a command comes back.
    func nextCommands(within seconds: Double = 10) throws -> [AgentCommand] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let r = try heartbeat(wait: 2)
            if !r.commands.isEmpty { return r.commands }
        }
        return []
    }
}

@Suite("chessd's side of the agent protocol", .serialized)
struct AgentProtocolTests {
    let cpuNodes = ["n01", "n02", "n03", "n04"].map {
        AgentNodeReport(name: $0, topology: ProtocolAgent.topology(sockets: 2, coresPerSocket: 4, memoryMB: 16384))
    }

    func job(_ cluster: TestCluster, _ id: String) throws -> [String: Any] {
        let r = try cluster.ctl(["show", "job", id, "--json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
    }

    func waitFor(_ what: String, within seconds: Double = 15, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func registrationLaunchCompletionAndAccounting() throws {
        let cluster = try TestCluster(withAgents: true)
        try cluster.start()
        let agent = ProtocolAgent(name: "host1", cluster: cluster)
        // g01 is configured with two GPUs; the probe finds one: drained, with the reason.
        let gpuNode = AgentNodeReport(name: "g01", topology: ProtocolAgent.topology(sockets: 2, coresPerSocket: 8, memoryMB: 65536, gpus: 1))
        let reg = try agent.register(cpuNodes + [gpuNode, AgentNodeReport(name: "stranger", topology: cpuNodes[0].topology)])
        #expect(reg.nodes.first { $0.name == "n01" }?.state == "up")
        #expect(reg.nodes.first { $0.name == "g01" }?.reason == "GPU count mismatch (1 < 2 configured)")
        #expect(reg.nodes.first { $0.name == "stranger" }?.state == "unknown")
        let nodes = try cluster.ctl(["nodes"])
        #expect(nodes.stdout.split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ").contains("batch* up 1-00:00:00 4 idle n[01-04]"),
                "\(nodes.stdout)")
        let node = try cluster.ctl(["show", "node", "n01", "--json"])
        let n = try #require(try JSONSerialization.jsonObject(with: Data(node.stdout.utf8)) as? [String: Any])
        #expect(n["cpus"] as? Int == 16)
        #expect((n["hcas"] as? [String])?.count == 1)

        let path = cluster.directory.appendingPathComponent("two.sh").path
        try "#!/bin/sh\n#SBATCH -n 2 -J two\necho two\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try cluster.ctl(["submit", path]).status == 0)
        let commands = try agent.nextCommands()
        let launch = try #require(commands.first?.launch, "\(commands)")
        #expect(commands.first?.kind == "launch")
        #expect(launch.job == 1)
        #expect(launch.name == "two")
        #expect(launch.script.contains("echo two"))
        #expect(launch.nodes.count == 1)
        #expect(launch.nodes[0].cores.count == 2)
        #expect(launch.nodes[0].numa == [0])
        #expect(launch.timeLimit == 3600)
        #expect(try job(cluster, "1")["state"] as? String == "RUNNING")

        let done = try agent.heartbeat([JobCompletion(job: 1, state: "COMPLETED", exitCode: 0, endTime: Int(Date().timeIntervalSince1970),
                                                      cpuSeconds: 3, maxRSSMB: 12)])
        #expect(done.acknowledged == [1])
        try waitFor("job 1 to complete") { try job(cluster, "1")["state"] as? String == "COMPLETED" }
        #expect(try job(cluster, "1")["exit_code"] as? Int == 0)

        // A failing job, and a job that needed it to succeed.
        #expect(try cluster.ctl(["submit", "--wrap", "exit 3"]).status == 0)
        let failing = try #require(try agent.nextCommands().first?.launch)
        #expect(try cluster.ctl(["submit", "-d", "afterok:\(failing.job)", "--wrap", "true"]).status == 0)
        _ = try agent.heartbeat([JobCompletion(job: failing.job, state: "FAILED", exitCode: 3, endTime: Int(Date().timeIntervalSince1970))])
        try waitFor("the dependent job to give up") {
            try job(cluster, "\(failing.job + 1)")["reason"] as? String == "DependencyNeverSatisfied"
        }
        #expect(try job(cluster, "\(failing.job)")["state"] as? String == "FAILED")

        // Cancelling a running job sends the agent a terminate.
        #expect(try cluster.ctl(["submit", "--wrap", "sleep 600"]).status == 0)
        let running = try #require(try agent.nextCommands().first?.launch)
        #expect(try cluster.ctl(["cancel", "\(running.job)"]).status == 0)
        let stop = try agent.nextCommands()
        #expect(stop.first?.kind == "terminate")
        #expect(stop.first?.job == running.job)
        // Until the agent says its processes are gone the job is COMPLETING and keeps its cores
        // (a second cancel changes nothing); then it is CANCELLED as of the cancel.
        #expect(try job(cluster, "\(running.job)")["state"] as? String == "COMPLETING")
        #expect(try cluster.ctl(["cancel", "\(running.job)"]).status == 0)
        let busy = try cluster.ctl(["show", "node", "n01", "--json"])
        #expect(busy.stdout.contains("\"allocated_cores\":1"), "\(busy.stdout)")
        _ = try agent.heartbeat([JobCompletion(job: running.job, state: "CANCELLED", exitCode: 0, endTime: Int(Date().timeIntervalSince1970) + 5,
                                               reason: "cancelled by the agent", run: running.run)])
        try waitFor("the cancelled job to end") { try job(cluster, "\(running.job)")["state"] as? String == "CANCELLED" }
        #expect(try job(cluster, "\(running.job)")["reason"] as? String == "cancelled by \(currentUserName)")

        // Array tasks launch with their array's script and the submitter's environment.
        let array = try cluster.ctl(["submit", "--parsable", "-a", "1-2", "--wrap", "echo task"])
        let arrayID = Int(array.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        var tasks: [JobLaunch] = []
        let deadline = Date().addingTimeInterval(10)
        while tasks.count < 2 && Date() < deadline { tasks += try agent.nextCommands().compactMap(\.launch) }
        #expect(tasks.map(\.arrayTaskID).sorted { ($0 ?? 0) < ($1 ?? 0) } == [1, 2])
        #expect(tasks.allSatisfy { $0.arrayJobID == arrayID && $0.script.contains("echo task") && $0.environment["PATH"] != nil })
        _ = try agent.heartbeat(tasks.map { JobCompletion(job: $0.job, state: "COMPLETED", exitCode: 0, endTime: Int(Date().timeIntervalSince1970)) })

        // Accounting: one record per job, with what the agent measured.
        let acct = try cluster.ctl(["acct", "-a", "--json"])
        let records = try #require((try JSONSerialization.jsonObject(with: Data(acct.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]], "\(acct.stderr)")
        #expect(records.map { $0["state"] as? String } == ["COMPLETED", "FAILED", "PENDING", "CANCELLED", "COMPLETED", "COMPLETED"])
        let first = records[0]
        #expect(first["id"] as? Int == 1)
        #expect(first["user"] as? String != nil)
        #expect(first["partition"] as? String == "batch")
        #expect(first["alloc_cpus"] as? Int == 2)
        #expect(first["cpu_seconds"] as? Int == 3)
        #expect(first["max_rss_mb"] as? Int == 12)
        #expect(first["node_list"] as? String == "n01")
        let parsable = try cluster.ctl(["acct", "-a", "-P", "-o", "jobid,state,exitcode,alloccpus", "-s", "F,CD"])
        #expect(parsable.stdout == "JobID|State|ExitCode|AllocCPUS\n1|COMPLETED|0:0|2\n\(failing.job)|FAILED|3:0|1\n\(arrayID)_1|COMPLETED|0:0|1\n\(arrayID)_2|COMPLETED|0:0|1\n", "\(parsable.stdout)\(parsable.stderr)")
        let window = try cluster.ctl(["acct", "-a", "-S", "now-1days", "-E", "now-12hours", "-n", "-P"])
        #expect(window.stdout.isEmpty, "\(window.stdout)")
        let badTime = try cluster.ctl(["acct", "-S", "yesterdayish"])
        #expect(badTime.status == 1)
        #expect(badTime.stderr.contains("--starttime"))
    }

    @Test func suspendResumeAndRequeueReachTheAgent() throws {
        let cluster = try TestCluster(withAgents: true)
        try cluster.start()
        let agent = ProtocolAgent(name: "host1", cluster: cluster)
        _ = try agent.register(cpuNodes)
        #expect(try cluster.ctl(["submit", "--wrap", "sleep 600"]).status == 0)
        #expect(try agent.nextCommands().first?.kind == "launch")
        #expect(try cluster.ctl(["suspend", "1"]).stdout == "Job 1 suspended\n")
        #expect(try job(cluster, "1")["state"] as? String == "SUSPENDED")
        // Suspended time does not count against the limit: the supervisor is told so.
        #expect(try agent.nextCommands().map(\.kind) == ["suspend", "time-limit"])
        let again = try cluster.ctl(["suspend", "1"])
        #expect(again.stderr.contains("only RUNNING jobs can be suspended"))
        #expect(try cluster.ctl(["resume", "1"]).status == 0)
        #expect(try agent.nextCommands().map(\.kind) == ["resume", "time-limit"])
        #expect(try cluster.ctl(["requeue", "1"]).status == 0)
        // The agent is told to stop it; the job keeps its cores (COMPLETING) until the agent
        // reports that run over, then (the nodes being free) it is launched again, as run 1.
        #expect(try agent.nextCommands().map(\.kind) == ["terminate"])
        #expect(try job(cluster, "1")["state"] as? String == "COMPLETING")
        var commands = try agent.heartbeat([JobCompletion(job: 1, state: "CANCELLED", exitCode: 0, endTime: Int(Date().timeIntervalSince1970),
                                                          reason: "requeued", run: 0)]).commands
        if commands.isEmpty { commands = try agent.nextCommands() }
        #expect(commands.map(\.kind) == ["launch"])
        #expect(commands.first?.launch?.run == 1)
        let acct = try cluster.ctl(["acct", "-a", "-P", "-n", "-o", "jobid,requeues"])
        #expect(acct.stdout == "1|1\n")
    }

    @Test func unsignedForgedAndReplayedRequestsAreRefused() throws {
        let cluster = try TestCluster(withAgents: true)
        try cluster.start()
        let wrongKey = ProtocolAgent(name: "host1", cluster: cluster, key: Array(repeating: 7, count: 32))
        #expect(throws: ControllerClient.Failure.self) { try wrongKey.register(cpuNodes) }
        do {
            _ = try wrongKey.register(cpuNodes)
        } catch let e as ControllerClient.Failure {
            #expect(e.status == 401)
            #expect(e.description.contains("bad signature"))
        }
        // The same signed request twice: the second is a replay.
        let key = RequestSigning.agentKey(clusterKey: cluster.key, agent: "host1")
        let body = Array(WireJSON.encode(AgentRegistration(agent: "host1", version: "t", nodes: cpuNodes)))
        let headers = RequestSigning.headers(agent: "host1", key: key, method: "POST", target: "/v1/agent/register", body: body)
        let replayer = ControllerClient(tcp: HostPort(cluster.listen!)!) { _, _, _ in headers }
        #expect(throws: Never.self) { try replayer.request("POST", "/v1/agent/register", body: Data(body)) }
        do {
            try replayer.request("POST", "/v1/agent/register", body: Data(body))
            Issue.record("replay accepted")
        } catch let e as ControllerClient.Failure {
            #expect(e.description.contains("replayed"))
        }
        // Signed as one agent, claiming to be another.
        let liar = ProtocolAgent(name: "host2", cluster: cluster)
        do {
            _ = try liar.client.post("/v1/agent/register", AgentRegistration(agent: "host1", version: "t", nodes: cpuNodes),
                                     as: AgentRegistrationResponse.self)
            Issue.record("impersonation accepted")
        } catch let e as ControllerClient.Failure {
            #expect(e.status == 403)
        }
    }

    /// Two agents, each assigned two nodes: neither can claim the other's nodes, end or account
    /// the other's jobs, or choose who a step's tasks run as on the other's nodes.
    @Test func anAgentSpeaksForItsOwnNodesAndJobsOnly() throws {
        let cluster = try TestCluster(config: TestCluster.defaultConfig.replacingOccurrences(of: """
            names = "n[01-04]"
            sockets = 2
            cores_per_socket = 4
            memory_mb = 16000
            agent = "host1"
            """, with: """
            names = "n[01-02]"
            sockets = 2
            cores_per_socket = 4
            memory_mb = 16000
            agent = "host1"
            [[nodes]]
            names = "n[03-04]"
            sockets = 2
            cores_per_socket = 4
            memory_mb = 16000
            agent = "host2"
            """), withAgents: true)
        try cluster.start()
        let one = ProtocolAgent(name: "host1", cluster: cluster)
        let two = ProtocolAgent(name: "host2", cluster: cluster)
        // host2 holds a valid key of its own, and claims every node.
        let claimed = try two.register(cpuNodes)
        #expect(claimed.nodes.filter { $0.state == "refused" }.map(\.name) == ["n01", "n02"], "\(claimed.nodes)")
        #expect(claimed.nodes.first { $0.name == "n03" }?.state == "up")
        let mine = try one.register(Array(cpuNodes.prefix(2)))
        #expect(mine.nodes.allSatisfy { $0.state == "up" }, "\(mine.nodes)")

        // A two-node job of nobody's, over both agents' nodes.
        let r = try runBinary("chessctl", ["submit", "--parsable", "-N", "4", "--wrap", "sleep 600"],
                              environment: ["CHESS_SOCKET": cluster.socket], user: "nobody")
        let id = try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stderr)")
        let launch = try #require(try one.nextCommands().first?.launch)
        #expect(launch.job == id && launch.nodes.first?.node == "n01", "\(launch)")
        // host2 reports the job ended and what it used: ignored (acknowledged, so it stops).
        let forged = try two.heartbeat([JobCompletion(job: id, state: "COMPLETED", exitCode: 0, endTime: Int(Date().timeIntervalSince1970))])
        #expect(forged.acknowledged == [id])
        usleep(300_000)
        #expect(try job(cluster, "\(id)")["state"] as? String == "RUNNING")

        // host1 asks for a step on host2's nodes, as root: host2 is told the job's own user.
        let nodes = ["n03", "n04"].map { StepPlan.Node(name: $0, cpus: [0], mems: [0], gpus: [], memoryMB: 0, jobCores: [0], numa: [0],
                                                       firstTask: 0, tasks: 1) }
        var plan = StepPlan(job: id, run: 0, step: 0, name: "id", clusterName: "test", user: "root", uid: 0, gid: 0,
                            request: StepRequest(job: id, argv: ["id"], environment: [:], workdir: "/tmp"), killWait: 2, nodes: nodes)
        plan.hub = "127.0.0.1:1"
        plan.token = "t"
        _ = try one.client.request("POST", "/v1/agent/steps", body: WireJSON.encode(plan))
        let step = try #require(try two.nextCommands().first { $0.kind == "step" }?.step)
        #expect(step.uid == 65534 && step.user == "nobody", "\(step.uid.map(String.init) ?? "nil") \(step.user)")
        // host2 may not ask for steps in host1's job at all.
        #expect(throws: ControllerClient.Failure.self) { try two.client.request("POST", "/v1/agent/steps", body: WireJSON.encode(plan)) }

        // A key made for host2 does not sign for host1.
        let keyFile = cluster.directory.appendingPathComponent("host2.key").path
        let made = try runBinary("chessd", ["--config", cluster.configPath, "--agent-key", "host2"])
        #expect(made.stdout.hasPrefix("chess-agent-key v1 host2 "), "\(made.stderr)")
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data(made.stdout.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try RequestSigning.loadAgentKey(path: keyFile, agent: "host2") == RequestSigning.agentKey(clusterKey: cluster.key, agent: "host2"))
        #expect(throws: RequestSigning.KeyError.self) { try RequestSigning.loadAgentKey(path: keyFile, agent: "host1") }
    }
}
