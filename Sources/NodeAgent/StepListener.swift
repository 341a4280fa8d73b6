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
                let worker = Thread { [self] in serve(conn) }
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
        for (i, part) in launch.nodes.prefix(layout.counts.count).enumerated() {
            guard let (cpus, mems) = binding(part) else {
                throw StepRefusal("node \(part.node) is served by another agent: a step reaches only the nodes of the batch node's "
                    + "agent here (\(self.nodes.map(\.name).joined(separator: ","))); mpirun reaches the others over ssh")
            }
            var node = StepPlan.Node(name: part.node, cpus: cpus, mems: mems, gpus: part.gpus, memoryMB: part.memoryMB,
                                     cpuCount: part.cores.count, firstTask: layout.firstTask(onNode: i), tasks: layout.counts[i])
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
                node.taskCPUs = (0..<layout.counts[i]).map { t in
                    var share = part
                    share.cores = Array(node.cores[(t * cpt)..<((t + 1) * cpt)])
                    return binding(share)?.cpus ?? cpus
                }
            }
            nodes.append(node)
        }
        let step = try stepNumber(spool)
        let directory = JobSpool(directory: spool.stepDirectory(step))
        let name = request.name ?? (request.argv[0] as NSString).lastPathComponent
        let stepPlan = StepPlan(job: launch.job, run: launch.run, step: step, name: name, clusterName: plan.clusterName,
                                user: launch.user, uid: launch.uid, gid: launch.gid, request: request, killWait: plan.killWait,
                                nodes: nodes)
        do {
            try directory.writeDurably("step.json", JSONEncoder().encode(stepPlan))
        } catch {
            throw StepRefusal("cannot write the step's plan: \(error)")
        }
        let start = StepStart(step: step, nodeList: stepPlan.nodeList, tasks: layout.tasks, tasksPerNode: layout.counts,
                              warnings: layout.warnings)
        try? UnixSocket.send(connection, Array(try JSONEncoder().encode(start)) + [UInt8(ascii: "\n")])
        do {
            let pid = try spawnSupervisor(["step", directory.directory], stdio: stdio + [connection])
            try? directory.writeDurably("supervisor.pid", Data("\(pid)".utf8))
            logger.info("step started", metadata: ["job": "\(launch.job)", "step": "\(step)", "tasks": "\(layout.tasks)",
                                                   "nodes": "\(stepPlan.nodeList)", "supervisor": "\(pid)"])
        } catch {
            // srun has its answer: the failure comes as the step's end.
            let end = StepEnd(step: step, tasks: [], reason: error.description)
            try? directory.writeDurably("result.json", JSONEncoder().encode(end))
            try? UnixSocket.send(connection, Array(try JSONEncoder().encode(end)) + [UInt8(ascii: "\n")])
        }
    }

    /// The cores each node's running steps hold (their plans, while they have no result and
    /// their supervisor lives: a step whose supervisor died gives its cores back).
    private func heldCores(_ spool: JobSpool) -> [String: Set<Int>] {
        var held: [String: Set<Int>] = [:]
        let steps = ((try? FileManager.default.contentsOfDirectory(atPath: spool.path("steps"))) ?? []).compactMap(Int.init)
        for s in steps {
            let dir = JobSpool(directory: spool.stepDirectory(s))
            guard !dir.exists("result.json"), let pid = dir.pid("supervisor.pid"), kill(pid, 0) == 0 || errno == EPERM,
                  let data = dir.read("step.json"), let plan = try? JSONDecoder().decode(StepPlan.self, from: data) else { continue }
            for node in plan.nodes { held[node.name, default: []].formUnion(node.cores) }
        }
        return held
    }

    private func stepNumber(_ spool: JobSpool) throws -> Int {
        do { return try spool.createStep() } catch { throw StepRefusal("cannot make the step's folder: \(error)") }
    }
}
