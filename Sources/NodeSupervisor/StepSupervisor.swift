import ChessWire
import FoundationEssentials
import Glibc

/// One job step's supervisor: `chess-supervisor step DIR`, started by an agent.
///
/// On the batch node's agent (DIR is `SPOOL/jobs/J.R/steps/S`) it has `srun`'s standard input,
/// output and error as 0, 1 and 2 and `srun`'s connection as 3. It starts the step's tasks on
/// that agent's nodes (one process group; each task in its node's cgroup, bound to its cores,
/// as the job's user), passes on the signals srun forwards, labels output lines when asked
/// (`-l`), stops the tasks when the job ends or srun goes away, and answers with how each task
/// ended. When the step has nodes of other agents it is the step's hub: it also takes, on the
/// TCP listener it got as 4, the connections of the member supervisors those agents started
/// (`plan.hub` set, DIR `SPOOL/steps/J.R.S`), which run their tasks with the output sent to the
/// hub in frames (`StepFrame`), and end with their tasks' statuses.
public struct StepSupervisor {
    let directory: String
    let plan: StepPlan
    static let control: Int32 = 3
    static let listener: Int32 = 4
    /// How long the hub waits for the members to connect (their agents get the step through the
    /// controller's long poll).
    static let memberTimeout = 60

    public static func main(directory: String) -> Int32 {
        guard let data = FileManager.default.contents(atPath: "\(directory)/step.json"),
              let plan = try? JSONDecoder().decode(StepPlan.self, from: data) else {
            PlainText.complain("chess-supervisor step: \(directory): no readable step.json")
            return 2
        }
        let supervisor = StepSupervisor(directory: directory, plan: plan)
        if let hub = plan.hub {
            supervisor.runMember(hub: hub)
            // A member's folder goes with it: the hub keeps the step's record.
            try? FileManager.default.removeItem(atPath: directory)
            return 0
        }
        _ = fcntl(control, F_SETFD, FD_CLOEXEC)
        // The step's accounting record: RUNNING now, its end when it has one (the job's
        // supervisor gathers them).
        let folder = JobSpool(directory: directory)
        var record = StepRecord.starting(plan, at: Int(time(nil)))
        try? folder.writeDurably("record.json", JSONEncoder().encode(record))
        let end = supervisor.run()
        // Tasks killed by the job's own end (the agent signals them directly) count as cancelled.
        record.end(end, at: Int(time(nil)), stoppedWithJob: end.reason?.hasPrefix("the job") == true || supervisor.jobEnded() != nil)
        try? folder.writeDurably("record.json", JSONEncoder().encode(record))
        let json = (try? JSONEncoder().encode(end)) ?? Data()
        try? folder.writeDurably("result.json", json)
        try? UnixSocket.send(control, Array(json) + [UInt8(ascii: "\n")])
        // The agent reports the step's end now (it leaves `squeue -s`).
        SpoolBell.ring(spool: SpoolBell.spool(ofFolder: directory))
        return 0
    }

    func log(_ message: String) { Supervisor.log(message, to: "\(directory)/step.log") }

    /// The job's run folder, on the batch node's agent (`steps/S` is in it).
    var jobSpool: JobSpool {
        JobSpool(directory: PathText.parent(PathText.parent(directory)))
    }

    /// This supervisor's nodes.
    var localNodes: [StepPlan.Node] { plan.nodes.filter { plan.runsOn?.contains($0.name) ?? true } }

    // MARK: The batch node's side

    /// A connected member: its buffer of unread bytes, the tasks it runs.
    struct Member {
        let fd: Int32
        var buffer: [UInt8] = []
        var tasks: [Int] = []
        var nodes: [String] = []
        var hello = false
    }

    func run() -> StepEnd {
        // Before the first fork: no task's end may come before its signal is watched.
        let job = jobSpool
        var wake = StepWake(job: (job.directory, job.supervisorAlive ? job.pid("supervisor.pid") : nil))
        defer { wake.close() }
        var tasks = TaskGroup(plan: plan, nodes: localNodes, directory: directory, pipes: plan.label)
        tasks.start(log: log)
        if tasks.leader > 0 { try? JobSpool(directory: directory).writeDurably("tasks.pgid", Data("\(tasks.leader)".utf8)) }
        log("step \(plan.job).\(plan.step) started: \(plan.tasks) task(s) of \(plan.argv.joined(separator: " ")) on \(plan.nodeList)")

        let remoteNodes = plan.nodes.filter { !(plan.runsOn?.contains($0.name) ?? true) }
        var remote: [Int: StepEnd.Task] = [:]
        let remoteTasks = remoteNodes.flatMap { n in (n.firstTask..<(n.firstTask + n.tasks)).map { ($0, n.name) } }
        var members: [Member] = []
        var labels = LineLabeler(width: String(max(plan.tasks - 1, 0)).count, label: plan.label)
        var pmi = PMIServer(job: plan.job, step: plan.step, tasksPerNode: plan.nodes.map(\.tasks))
        let started = Int(time(nil))
        var listening = !remoteNodes.isEmpty
        var controlOpen = true
        var stopping: (reason: String, killAt: Int)?
        func stop(_ reason: String) {
            guard stopping == nil else { return }
            log("stopping the step: \(reason)")
            tasks.signal(SIGCONT)
            tasks.signal(SIGTERM)
            for m in members { try? UnixSocket.send(m.fd, Array("stop\n".utf8)) }
            stopping = (reason, Int(time(nil)) + plan.killWait)
        }
        /// A member's tasks that did not report, ended as lost.
        func lose(_ ids: [Int], _ why: String) {
            for (id, node) in remoteTasks where ids.contains(id) && remote[id] == nil {
                remote[id] = StepEnd.Task(task: id, node: node, exitCode: 0, signal: Int(SIGKILL))
            }
            stop(why)
        }
        /// PMI answers to the tasks they are for, here or through their member.
        func deliver(_ answers: [(Int, String)]) {
            if let a = pmi.abort { stop("task \(a.task) called PMI_Abort (\(a.message))") }
            for (task, line) in answers {
                if tasks.has(task: task) {
                    tasks.answerPMI(task: task, line)
                } else if let m = members.first(where: { $0.tasks.contains(task) }) {
                    try? UnixSocket.send(m.fd, Array("pmi \(task) \(line)\n".utf8))
                }
            }
        }
        // The job may have ended before its folder was watched: look once at the start.
        var jobChanged = true
        var jobLookedAt = started
        while true {
            let remoteDone = remote.count == remoteTasks.count
            if tasks.done && remoteDone { break }
            var polled = (controlOpen ? [pollfd(fd: Self.control, events: Int16(POLLIN), revents: 0)] : [])
                + (listening ? [pollfd(fd: Self.listener, events: Int16(POLLIN), revents: 0)] : [])
                + members.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
                + tasks.openPipes.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + tasks.pmiConnections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + wake.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // Asleep until something happens or is due: KILL after TERM, the members' deadline,
            // giving up on stray output.
            let before = Int(time(nil))
            var due: [Int] = []
            if let s = stopping, s.killAt < Int.max / 2 { due.append(s.killAt) }
            if listening, before <= started + Self.memberTimeout { due.append(started + Self.memberTimeout + 1) }
            if let t = tasks.givesUpOutputAt { due.append(t) }
            if jobChanged { due.append(before) }
            if poll(&polled, nfds_t(polled.count), wake.timeout(until: due.min())) > 0 {
                for p in polled where p.revents != 0 {
                    if wake.owns(p.fd) {
                        if wake.consume(p.fd) { jobChanged = true }
                    } else if tasks.pmiConnections.contains(p.fd) {
                        for (task, line) in tasks.readPMI(p.fd) { deliver(pmi.handle(task: task, line: line)) }
                    } else if p.fd == Self.control && controlOpen {
                        if let signals = readControl() {
                            for s in signals {
                                log("signal \(s) from srun")
                                tasks.signal(s)
                                for m in members { try? UnixSocket.send(m.fd, Array("signal \(s)\n".utf8)) }
                            }
                        } else {
                            controlOpen = false
                            stop("srun went away")
                        }
                    } else if p.fd == Self.listener && listening {
                        let fd = accept(Self.listener, nil, nil)
                        if fd >= 0 {
                            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                            members.append(Member(fd: fd))
                        }
                    } else if let i = members.firstIndex(where: { $0.fd == p.fd }) {
                        var buffer = [UInt8](repeating: 0, count: 65536)
                        let n = read(p.fd, &buffer, buffer.count)
                        if n <= 0 {
                            let m = members.remove(at: i)
                            close(m.fd)
                            // (A connection that never showed the token is nothing to the step.)
                            let missing = m.tasks.filter { remote[$0] == nil }
                            if m.hello, !missing.isEmpty { lose(missing, "lost the step's tasks on \(m.nodes.joined(separator: ","))") }
                            continue
                        }
                        members[i].buffer += buffer.prefix(n)
                        while let frame = StepFrame.take(from: &members[i].buffer) {
                            switch frame.kind {
                            case .hello:
                                guard let hello = try? JSONDecoder().decode(StepFrame.Hello.self, from: Data(frame.payload)),
                                      hello.token == plan.token else {
                                    log("a connection without the step's token: closed")
                                    members[i].buffer = []
                                    shutdown(members[i].fd, Int32(SHUT_RDWR))
                                    break
                                }
                                members[i].hello = true
                                members[i].nodes = hello.nodes
                                members[i].tasks = remoteTasks.filter { hello.nodes.contains($0.1) }.map(\.0)
                                if stopping != nil { try? UnixSocket.send(members[i].fd, Array("stop\n".utf8)) }
                            case .stdout, .stderr:
                                guard members[i].hello else { continue }
                                let out = labels.feed(task: frame.task, stream: frame.kind == .stdout ? 0 : 1, frame.payload)
                                if !out.isEmpty { StepSupervisor.writeAll(frame.kind == .stdout ? 1 : 2, out) }
                            case .pmi:
                                guard members[i].hello, members[i].tasks.contains(frame.task) else { continue }
                                deliver(pmi.handle(task: frame.task, line: String(decoding: frame.payload, as: UTF8.self)))
                            case .end:
                                guard members[i].hello,
                                      let ends = try? JSONDecoder().decode([StepEnd.Task].self, from: Data(frame.payload)) else { continue }
                                for e in ends where members[i].tasks.contains(e.task) {
                                    for s in 0..<2 {
                                        let rest = labels.flush(task: e.task, stream: s)
                                        if !rest.isEmpty { StepSupervisor.writeAll(s == 0 ? 1 : 2, rest) }
                                    }
                                    remote[e.task] = e
                                    if plan.killOnBadExit, e.exitCode != 0 || e.signal != nil {
                                        stop("task \(e.task) failed (--kill-on-bad-exit)")
                                    }
                                }
                            }
                        }
                    } else {
                        tasks.drain(p.fd, labels: &labels)
                    }
                }
            }
            for failed in tasks.reap() where plan.killOnBadExit { stop("task \(failed) failed (--kill-on-bad-exit)") }
            let after = Int(time(nil))
            if jobChanged || wake.jobCheckDue(now: after, lastChecked: jobLookedAt) {
                jobChanged = false
                jobLookedAt = after
                if stopping == nil, let why = jobEnded() { stop(why) }
            }
            if listening {
                // Members that never came: their tasks are lost.
                let joined = Set(members.filter(\.hello).flatMap(\.nodes))
                let absent = remoteNodes.filter { !joined.contains($0.name) }.map(\.name)
                if !absent.isEmpty, after > started + Self.memberTimeout {
                    lose(remoteTasks.filter { absent.contains($0.1) }.map(\.0), "the step did not start on \(absent.joined(separator: ","))")
                }
                if absent.isEmpty { listening = false }
            }
            if let s = stopping, after >= s.killAt {
                tasks.signal(SIGKILL)
                stopping = (s.reason, Int.max / 2)
                // Members have had their kill wait too: what they have not reported is lost.
                if after >= s.killAt + 5 { lose(remoteTasks.map(\.0).filter { remote[$0] == nil }, s.reason) }
            }
        }
        for m in members { close(m.fd) }
        tasks.finish()
        let ends = (tasks.ends + remote.values).sorted { $0.task < $1.task }
        let end = StepEnd(step: plan.step, tasks: ends, reason: stopping?.reason)
        log("step \(plan.job).\(plan.step) ended: exit \(end.exitStatus)\(stopping.map { " (\($0.reason))" } ?? "")")
        return end
    }

    /// Signal numbers from srun's `signal N` lines; nil when srun has gone (the connection closed).
    func readControl() -> [Int32]? {
        guard let (data, _) = try? UnixSocket.receive(Self.control, limit: 4096), !data.isEmpty else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 2, words[0] == "signal", let n = Int32(words[1]), n > 0, n < 65 else { return nil }
            return n
        }
    }

    /// Why the step's job is over, if it is: cancelled, ended, or its supervisor gone.
    func jobEnded() -> String? {
        let spool = jobSpool
        if spool.exists("result.json") || spool.exists("ending") { return "the job ended" }
        if let why = spool.read("cancel") { return "the job was cancelled (\(String(decoding: why, as: UTF8.self)))" }
        if !spool.supervisorAlive { return "the job's supervisor is gone" }
        return nil
    }

    // MARK: Another agent's side

    /// A member: connects to the hub, runs this agent's share of the tasks with their output
    /// sent to the hub, passes on its signals, stops the tasks when it says so or goes away, and
    /// ends with the tasks' statuses.
    func runMember(hub: String) {
        guard let address = HostPort(hub) else { return log("bad hub address \(hub)") }
        var connection: Int32 = -1
        for _ in 0..<50 {
            if let fd = try? TCPConnection.connect(address) { connection = fd; break }
            usleep(200_000)
        }
        guard connection >= 0 else { return log("cannot reach the step's hub at \(hub)") }
        defer { close(connection) }
        let hello = StepFrame.Hello(token: plan.token ?? "", nodes: localNodes.map(\.name))
        try? UnixSocket.send(connection, StepFrame.encode(.hello, task: 0, Array((try? JSONEncoder().encode(hello)) ?? Data())))
        var wake = StepWake(job: nil)  // before the first fork
        defer { wake.close() }
        var tasks = TaskGroup(plan: plan, nodes: localNodes, directory: directory, pipes: true)
        tasks.start(log: log)
        if tasks.leader > 0 { try? JobSpool(directory: directory).writeDurably("tasks.pgid", Data("\(tasks.leader)".utf8)) }
        log("member of step \(plan.job).\(plan.step) started: \(tasks.ends.count + tasks.running) task(s) on \(localNodes.map(\.name))")
        var hubOpen = true
        var fromHub: [UInt8] = []
        var stopAt: Int?
        func stop(_ why: String) {
            guard stopAt == nil else { return }
            log("stopping: \(why)")
            tasks.signal(SIGCONT)
            tasks.signal(SIGTERM)
            stopAt = Int(time(nil)) + plan.killWait
        }
        while !tasks.done {
            var polled = (hubOpen ? [pollfd(fd: connection, events: Int16(POLLIN), revents: 0)] : [])
                + tasks.openPipes.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + tasks.pmiConnections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + wake.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let due = [stopAt.flatMap { $0 < Int.max / 2 ? $0 : nil }, tasks.givesUpOutputAt].compactMap { $0 }.min()
            if poll(&polled, nfds_t(polled.count), wake.timeout(until: due)) > 0 {
                for p in polled where p.revents != 0 {
                    if wake.owns(p.fd) {
                        _ = wake.consume(p.fd)
                    } else if tasks.pmiConnections.contains(p.fd) {
                        for (task, line) in tasks.readPMI(p.fd) where hubOpen {
                            try? UnixSocket.send(connection, StepFrame.encode(.pmi, task: task, Array(line.utf8)))
                        }
                    } else if p.fd == connection {
                        guard let (data, _) = try? UnixSocket.receive(connection), !data.isEmpty else {
                            hubOpen = false
                            stop("the step's hub went away")
                            continue
                        }
                        fromHub += data
                        while let nl = fromHub.firstIndex(of: 10) {
                            let line = String(decoding: fromHub[..<nl], as: UTF8.self)
                            fromHub.removeSubrange(...nl)
                            if line == "stop" { stop("the hub stopped the step") }
                            let words = line.split(separator: " ", maxSplits: 2)
                            if words.count == 2, words[0] == "signal", let n = Int32(words[1]), n > 0, n < 65 { tasks.signal(n) }
                            if words.count == 3, words[0] == "pmi", let task = Int(words[1]) { tasks.answerPMI(task: task, String(words[2])) }
                        }
                    } else {
                        tasks.forward(p.fd) { task, stream, bytes in
                            if hubOpen && !bytes.isEmpty {
                                try? UnixSocket.send(connection, StepFrame.encode(stream == 0 ? .stdout : .stderr, task: task, bytes))
                            }
                        }
                    }
                }
            }
            _ = tasks.reap()
            if let t = stopAt, Int(time(nil)) >= t {
                tasks.signal(SIGKILL)
                stopAt = Int.max / 2
            }
        }
        tasks.finish()
        let ends = Array((try? JSONEncoder().encode(tasks.ends)) ?? Data())
        try? UnixSocket.send(connection, StepFrame.encode(.end, task: 0, ends))
        log("member of step \(plan.job).\(plan.step) ended")
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            done += n
        }
    }

    /// Where execvp would look for `command`: itself when it names a path, else each `PATH`
    /// folder in turn (an empty entry is the working folder).
    static func candidates(for command: String, path: String) -> [String] {
        if command.contains("/") { return [command] }
        return path.split(separator: ":", omittingEmptySubsequences: false).map { $0.isEmpty ? command : "\($0)/\(command)" }
    }
}
