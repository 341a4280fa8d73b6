import ChessAPI
import Foundation
import Glibc
import Logging
import NodeSupervisor

/// The agent's step socket: where `srun` asks for a job step (protocol in `StepRequest`).
/// One short thread per connection: it checks the request, lays the tasks out, answers, and
/// hands the connection and srun's standard descriptors to the step's supervisor.
final class StepListener: @unchecked Sendable {
    let agent: Agent
    let path: String
    private let fd: Int32
    /// Connections being served: past `limit`, new ones are closed at once (a local user
    /// opening thousands must not start thousands of threads in the agent).
    private let lock = NSLock()
    private var serving = 0
    static let limit = 64

    init(agent: Agent, path: String) throws {
        self.agent = agent
        self.path = path
        fd = try UnixSocket.listen(path)
    }

    func start() {
        let thread = Thread { [self] in
            while true {
                let conn = accept(fd, nil, nil)
                if conn < 0 {
                    if errno == EINTR || errno == ECONNABORTED || errno == EMFILE { usleep(10_000); continue }
                    agent.logger.error("step socket: accept failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                    return
                }
                _ = fcntl(conn, F_SETFD, FD_CLOEXEC)
                let admitted = lock.withLock {
                    guard serving < Self.limit else { return false }
                    serving += 1
                    return true
                }
                guard admitted else {
                    close(conn)
                    continue
                }
                let worker = Thread { [self] in
                    serve(conn)
                    lock.withLock { serving -= 1 }
                }
                worker.stackSize = 512 * 1024
                worker.start()
            }
        }
        thread.stackSize = 512 * 1024
        thread.start()
    }

    private func serve(_ conn: Int32) {
        defer { close(conn) }
        // A request is one line: a client that sends none in 10 s is dropped.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reader = LineReader(fd: conn)
        let line = try? reader.next(limit: 4 << 20)
        let stdio = reader.descriptors
        defer { for d in stdio { close(d) } }
        guard let line else { return }
        timeout = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let refusal: String
        do {
            let request = try JSONDecoder().decode(StepRequest.self, from: Data(line))
            guard stdio.count == 3 else { throw StepRefusal("srun sends its standard input, output and error with the request") }
            guard let peer = UnixSocket.peer(of: conn) else { throw StepRefusal("cannot tell who is asking (SO_PEERCRED)") }
            try agent.startStep(request, uid: peer.uid, stdio: stdio, connection: conn)
            return
        } catch let e as StepRefusal {
            if e.retry {
                let answer = (try? JSONEncoder().encode(StepStart(error: e.description, retry: true))) ?? Data()
                try? UnixSocket.send(conn, Array(answer) + [UInt8(ascii: "\n")])
                return
            }
            refusal = e.description
        } catch let e as StepLayout.Refusal {
            refusal = e.description
        } catch {
            refusal = "cannot read the request: \(error)"
        }
        agent.logger.info("step refused", metadata: ["reason": "\(refusal)"])
        let answer = (try? JSONEncoder().encode(StepStart(error: refusal))) ?? Data()
        try? UnixSocket.send(conn, Array(answer) + [UInt8(ascii: "\n")])
    }
}

struct StepRefusal: Error, CustomStringConvertible {
    let description: String
    /// Not now: the CPUs are held by the job's other steps.
    var retry = false
    init(_ d: String, retry: Bool = false) {
        description = d
        self.retry = retry
    }
}

extension Agent {
    /// Starts a step of a job running here, for the user `uid` (the job's, or root): lays its
    /// tasks out on the job's nodes, writes its plan, answers `srun` with the step's number and
    /// layout, then starts its supervisor with srun's descriptors and the connection.
    func startStep(_ request: StepRequest, uid: UInt32, stdio: [Int32], connection: Int32) throws {
        guard !request.argv.isEmpty, !request.argv[0].isEmpty else { throw StepRefusal("no command given") }
        guard let spool = spool(job: request.job, run: nil), let plan = spool.plan, !spool.exists("result.json"),
              spool.supervisorAlive else {
            throw StepRefusal("job \(request.job) is not running on the nodes of this agent (\(id))")
        }
        let launch = plan.launch
        let owner = launch.uid ?? getuid()
        guard uid == 0 || uid == owner else {
            throw StepRefusal("job \(request.job) is \(launch.user)'s: steps run only in your own jobs")
        }
        let layout = try StepLayout.plan(tasks: request.tasks, nodes: request.nodes, tasksPerNode: request.tasksPerNode,
                                         cpusPerTask: request.cpusPerTask, overlap: request.overlap,
                                         cpus: launch.nodes.map(\.cores.count), defaultTasks: launch.requestedTasks)
        let cpt = max(request.cpusPerTask ?? 1, 1)
        // Under the lock from here: steps starting together each see the cores the other took.
        lock.lock()
        defer { lock.unlock() }
        let held = request.overlap ? [:] : heldCores(spool)
        var nodes: [StepPlan.Node] = []
        var remote: [String] = []
        for (i, part) in launch.nodes.prefix(layout.counts.count).enumerated() {
            // Another agent's node: that agent works out the binding from its own topology.
            let local = binding(part)
            if local == nil { remote.append(part.node) }
            var node = StepPlan.Node(name: part.node, cpus: local?.cpus ?? [], mems: local?.mems ?? [], gpus: part.gpus,
                                     memoryMB: part.memoryMB, jobCores: part.cores, numa: part.numa,
                                     firstTask: layout.firstTask(onNode: i), tasks: layout.counts[i])
            if !request.overlap {
                // The step's own cores (Slurm's default since 21.08: steps do not share CPUs),
                // `cpus-per-task` for each task, which is bound to them.
                let free = part.cores.filter { !held[part.node, default: []].contains($0) }
                let need = layout.counts[i] * cpt
                guard free.count >= need else {
                    throw StepRefusal("the job's CPUs on \(part.node) are held by its other steps (\(free.count) free, \(need) needed)",
                                      retry: true)
                }
                node.cores = Array(free.prefix(need))
                if local != nil { node.taskCPUs = taskCPUs(part, cores: node.cores, tasks: node.tasks, cpusPerTask: cpt) }
            }
            nodes.append(node)
        }
        let step = try stepNumber(spool)
        let directory = JobSpool(directory: spool.stepDirectory(step))
        let name = request.name ?? (request.argv[0] as NSString).lastPathComponent
        var stepPlan = StepPlan(job: launch.job, run: launch.run, step: step, name: name, clusterName: plan.clusterName,
                                user: launch.user, uid: launch.uid, gid: launch.gid, request: request, killWait: plan.killWait,
                                nodes: nodes)
        // Nodes of other agents: the controller passes their share on; their members connect
        // to this step's supervisor (the hub) on a port of its own.
        var listener: Int32 = -1
        if !remote.isEmpty {
            do {
                listener = try shareStep(&stepPlan, remote: remote)
            } catch {
                directory.remove()
                throw error
            }
        }
        defer { if listener >= 0 { close(listener) } }
        stepPlan.groups = UserGroups.forJob(user: stepPlan.user, uid: stepPlan.uid, gid: stepPlan.gid)
        do {
            try directory.writeDurably("step.json", JSONEncoder().encode(stepPlan))
        } catch {
            throw StepRefusal("cannot write the step's plan: \(error)")
        }
        let start = StepStart(step: step, nodeList: stepPlan.nodeList, tasks: layout.tasks, tasksPerNode: layout.counts,
                              warnings: layout.warnings)
        try? UnixSocket.send(connection, Array(try JSONEncoder().encode(start)) + [UInt8(ascii: "\n")])
        do {
            let pid = try spawnSupervisor(["step", directory.directory], stdio: stdio + [connection] + (listener >= 0 ? [listener] : []))
            try? directory.writeDurably("supervisor.pid", Data("\(pid)".utf8))
            stepSupervisors[pid] = (launch.job, launch.run, directory.directory)
            reportSteps([StepReport(job: launch.job, run: launch.run, record: .starting(stepPlan, at: Int(Date().timeIntervalSince1970)))])
            logger.info("step started", metadata: ["job": "\(launch.job)", "step": "\(step)", "tasks": "\(layout.tasks)",
                                                   "nodes": "\(stepPlan.nodeList)", "supervisor": "\(pid)"])
        } catch {
            // srun has its answer: the failure comes as the step's end.
            let end = StepEnd(step: step, tasks: [], reason: error.description)
            try? directory.writeDurably("result.json", JSONEncoder().encode(end))
            try? UnixSocket.send(connection, Array(try JSONEncoder().encode(end)) + [UInt8(ascii: "\n")])
        }
    }

    /// Each task's OS CPUs: its `cpus-per-task` cores of `cores` in turn.
    func taskCPUs(_ part: JobLaunch.NodePart, cores: [Int], tasks: Int, cpusPerTask cpt: Int) -> [[Int]] {
        (0..<tasks).map { t in
            var share = part
            share.cores = Array(cores[(t * cpt)..<min((t + 1) * cpt, cores.count)])
            return binding(share)?.cpus ?? []
        }
    }

    /// Makes this agent the hub of a step over other agents' nodes: a TCP listener for their
    /// members, a token they must show, and the controller asked to pass the step on. Returns
    /// the listener (for the hub supervisor, as its descriptor 4).
    private func shareStep(_ plan: inout StepPlan, remote: [String]) throws -> Int32 {
        guard let client = controllerClient?(), let host = advertisedHost else {
            throw StepRefusal("nodes \(remote.joined(separator: ",")) are other agents' and this agent cannot reach the controller")
        }
        let (fd, port): (Int32, UInt16)
        do { (fd, port) = try TCPConnection.listenAnyPort() } catch { throw StepRefusal("\(error)") }
        plan.runsOn = plan.nodes.map(\.name).filter { !remote.contains($0) }
        plan.token = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        var shared = plan
        shared.hub = "\(host):\(port)"
        do {
            _ = try client.post("/v1/agent/steps", shared, as: [String: [String]].self)
        } catch {
            close(fd)
            throw StepRefusal("the controller did not pass the step on to nodes \(remote.joined(separator: ",")): \(error)")
        }
        return fd
    }

    /// A step's share on this agent's nodes, from the controller (the hub is on the job's batch
    /// node): its folder `SPOOL/steps/J.R.S`, the binding of each of its nodes from this host's
    /// topology, and a member supervisor. Once: a repeated command finds the folder.
    func startMemberStep(_ shared: StepPlan) {
        var plan = shared
        let cpt = max(plan.cpusPerTask ?? 1, 1)
        for i in plan.nodes.indices where plan.runsOn?.contains(plan.nodes[i].name) == true {
            let n = plan.nodes[i]
            let part = JobLaunch.NodePart(node: n.name, cores: n.jobCores, memoryMB: n.memoryMB, numa: n.numa, gpus: n.gpus)
            guard let (cpus, mems) = binding(part) else {
                logger.error("a step for a node this agent does not serve", metadata: ["job": "\(plan.job)", "node": "\(n.name)"])
                return
            }
            (plan.nodes[i].cpus, plan.nodes[i].mems) = (cpus, mems)
            if !n.cores.isEmpty { plan.nodes[i].taskCPUs = taskCPUs(part, cores: n.cores, tasks: n.tasks, cpusPerTask: cpt) }
        }
        let steps = "\(spoolDirectory)/steps"
        let directory = JobSpool(directory: "\(steps)/\(plan.job).\(plan.run).\(plan.step)")
        lock.lock()
        defer { lock.unlock() }
        guard mkdir(steps, 0o700) == 0 || errno == EEXIST, mkdir(directory.directory, 0o700) == 0 else {
            if errno != EEXIST { logger.error("cannot make a step's folder", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
            return
        }
        // Resolved here, whatever the controller's plan held.
        plan.groups = UserGroups.forJob(user: plan.user, uid: plan.uid, gid: plan.gid)
        do {
            try directory.writeDurably("step.json", JSONEncoder().encode(plan))
            let pid = try spawnSupervisor(["step", directory.directory], output: directory.path("supervisor.out"))
            try? directory.writeDurably("supervisor.pid", Data("\(pid)".utf8))
            logger.info("step member started", metadata: ["job": "\(plan.job)", "step": "\(plan.step)",
                                                          "nodes": "\((plan.runsOn ?? []).joined(separator: ","))", "supervisor": "\(pid)"])
        } catch {
            logger.error("cannot start a step member", metadata: ["job": "\(plan.job)", "step": "\(plan.step)", "error": "\(error)"])
            directory.remove()
        }
    }

    /// Folders of step members whose supervisor is gone (the machine restarted, say).
    func removeStaleMembers() {
        let steps = "\(spoolDirectory)/steps"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: steps)) ?? [] {
            let dir = JobSpool(directory: "\(steps)/\(name)")
            if dir.supervisorAlive { continue }
            dir.remove()
        }
    }

    /// The process groups of the running step members of `job` on this agent.
    func memberStepGroups(_ job: Int) -> [Int32] {
        let steps = "\(spoolDirectory)/steps"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: steps)) ?? []).filter { $0.hasPrefix("\(job).") }
        return names.compactMap { name in
            let dir = JobSpool(directory: "\(steps)/\(name)")
            // Only while its supervisor lives (a dead one's group number may be another's now,
            // and so may its pid: `supervisorAlive` checks the process is that supervisor).
            guard dir.supervisorAlive else { return nil }
            return dir.pid("tasks.pgid")
        }
    }

    /// The cores each node's running steps hold (their plans, while they have no result and
    /// their supervisor lives: a step whose supervisor died gives its cores back).
    private func heldCores(_ spool: JobSpool) -> [String: Set<Int>] {
        var held: [String: Set<Int>] = [:]
        for s in spool.runningSteps {
            guard let data = s.folder.read("step.json"), let plan = try? JSONDecoder().decode(StepPlan.self, from: data) else { continue }
            for node in plan.nodes { held[node.name, default: []].formUnion(node.cores) }
        }
        return held
    }

    private func stepNumber(_ spool: JobSpool) throws -> Int {
        do { return try spool.createStep() } catch { throw StepRefusal("cannot make the step's folder: \(error)") }
    }
}
