import ChessWire
import FoundationEssentials
import Glibc

/// The tasks a step supervisor runs on its nodes: one process group, each task in its node's
/// cgroup (the job's own where it has one here; else one made for the step, removed at its
/// end), bound to its cores, as the job's user, through the task's `PATH` as execvp would. With
/// `pipes`, each task's stdout and stderr come back through a pipe (to be labelled or sent to
/// the hub); without, they are the supervisor's own 1 and 2 (srun's).
struct TaskGroup {
    struct Task {
        let id: Int
        let node: String
        var pid: pid_t = 0
        var status: Int32?
        /// Read ends of its stdout and stderr pipes; -1 once closed.
        var pipes: [Int32] = []
        /// The supervisor's end of its PMI connection (-1: none, or closed) and what is left of
        /// a request line.
        var pmi: Int32 = -1
        var pmiPartial: [UInt8] = []
        /// What it used (its processes and the children they waited for), from `wait4`.
        var cpuMicroseconds = 0
        var maxRSSKB = 0
    }

    let plan: StepPlan
    let nodes: [StepPlan.Node]
    let pipes: Bool
    /// Each task gets a PMI-1 connection as descriptor 3 (`PMI_FD`, `PMI_RANK`, `PMI_SIZE`).
    var pmi: Bool { plan.pmi ?? true }
    static let pmiDescriptor: Int32 = 3
    private(set) var tasks: [Task] = []
    private(set) var leader: pid_t = 0
    private var made: [Cgroup] = []
    private var reapedAt: Int?

    init(plan: StepPlan, nodes: [StepPlan.Node], directory: String, pipes: Bool) {
        self.plan = plan
        self.nodes = nodes
        self.pipes = pipes
    }

    mutating func start(log: (String) -> Void) {
        var groups: [String: Cgroup] = [:]
        for node in nodes {
            let name = Cgroup.name(cluster: plan.clusterName, node: node.name, job: plan.job, run: plan.run)
            let existed = Cgroup.exists(name: name)
            do {
                let cg = try Cgroup.create(name: name, cpus: node.cpus, mems: node.mems,
                                           memoryBytes: existed || node.memoryMB <= 0 ? nil : node.memoryMB * 1_048_576)
                groups[node.name] = cg
                if !existed { made.append(cg) }
            } catch {
                log("\(node.name): running without a cgroup: \(error)")
            }
        }
        let workdir = plan.workdir
        let argv: [UnsafeMutablePointer<CChar>?] = plan.argv.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        for node in nodes {
            guard let index = plan.nodes.firstIndex(where: { $0.name == node.name }) else { continue }
            for local in 0..<node.tasks {
                let setup = ChildSetup(cgroup: groups[node.name], cpus: local < node.taskCPUs.count ? node.taskCPUs[local] : node.cpus,
                                       mems: node.mems, uid: plan.uid, gid: plan.gid, user: plan.user, groups: plan.groups)
                var task = Task(id: node.firstTask + local, node: node.name)
                var env = plan.environment(node: index, localID: local)
                var pmiChild: Int32 = -1
                if pmi {
                    var pair: [Int32] = [0, 0]
                    if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 {
                        _ = fcntl(pair[0], F_SETFD, FD_CLOEXEC)
                        _ = fcntl(pair[1], F_SETFD, FD_CLOEXEC)
                        (task.pmi, pmiChild) = (pair[0], pair[1])
                        env["PMI_FD"] = "\(Self.pmiDescriptor)"
                        env["PMI_RANK"] = "\(task.id)"
                        env["PMI_SIZE"] = "\(plan.tasks)"
                    }
                }
                let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
                defer { for p in envp { free(p) } }
                let paths: [UnsafeMutablePointer<CChar>] = StepSupervisor.candidates(for: plan.argv[0], path: env["PATH"] ?? "")
                    .compactMap { strdup($0) }
                defer { for p in paths { free(p) } }
                var out: [Int32] = [1, 2]
                if pipes {
                    for i in 0..<2 {
                        var fds: [Int32] = [0, 0]
                        guard pipe(&fds) == 0 else { continue }
                        // This process starts no thread: no fork can come between.
                        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
                        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
                        task.pipes.append(fds[0])
                        out[i] = fds[1]
                    }
                }
                let message = "chess: task \(task.id) on \(node.name): cannot execute \(plan.argv[0]): "
                let group = leader
                let pid = fork()
                if pid == 0 {
                    setpgid(0, group)
                    setup.enter()
                    if out[0] != 1 { dup2(out[0], 1) }
                    if out[1] != 2 { dup2(out[1], 2) }
                    if pmiChild == Self.pmiDescriptor {
                        _ = fcntl(pmiChild, F_SETFD, 0)
                    } else if pmiChild >= 0 {
                        dup2(pmiChild, Self.pmiDescriptor)
                    }
                    guard setup.becomeUser() else {
                        let msg = "chess: cannot become the job's user\n"
                        _ = Glibc.write(2, msg, msg.utf8.count)
                        _exit(126)
                    }
                    if chdir(workdir) != 0 { _ = chdir("/tmp") }
                    ChildSetup.closeInherited(above: pmiChild >= 0 ? Self.pmiDescriptor : 2)
                    var failure = ENOENT
                    for p in paths {
                        execve(p, argv, envp)
                        if errno != ENOENT && errno != ENOTDIR { failure = errno }
                    }
                    let text = message + String(cString: strerror(failure)) + "\n"
                    _ = Glibc.write(2, text, text.utf8.count)
                    _exit(failure == ENOENT ? 127 : 126)
                }
                for fd in out where fd > 2 { close(fd) }
                if pmiChild >= 0 { close(pmiChild) }
                if pid > 0 {
                    setpgid(pid, group)  // both sides, so that neither races the other
                    if leader == 0 { leader = pid }
                    task.pid = pid
                } else {
                    log("fork failed: \(String(cString: strerror(errno)))")
                    task.status = 1 << 8
                }
                tasks.append(task)
            }
        }
    }

    var openPipes: [Int32] { tasks.flatMap(\.pipes).filter { $0 >= 0 } }
    var pmiConnections: [Int32] { tasks.map(\.pmi).filter { $0 >= 0 } }

    /// The PMI requests a task sent (whole lines), read from its connection; closed at its end.
    mutating func readPMI(_ fd: Int32) -> [(task: Int, line: String)] {
        guard let i = tasks.firstIndex(where: { $0.pmi == fd }) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 16384)
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 {
            if n < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
            close(fd)
            tasks[i].pmi = -1
            return []
        }
        tasks[i].pmiPartial += buffer.prefix(n)
        var lines: [(Int, String)] = []
        while let nl = tasks[i].pmiPartial.firstIndex(of: 10) {
            lines.append((tasks[i].id, String(decoding: tasks[i].pmiPartial[..<nl], as: UTF8.self)))
            tasks[i].pmiPartial.removeSubrange(...nl)
        }
        return lines
    }

    /// Whether `task` is one of this group's.
    func has(task: Int) -> Bool { tasks.contains { $0.id == task } }

    /// An answer to a task's PMI request.
    func answerPMI(task: Int, _ line: String) {
        guard let t = tasks.first(where: { $0.id == task }), t.pmi >= 0 else { return }
        StepSupervisor.writeAll(t.pmi, Array((line + "\n").utf8))
    }
    var running: Int { tasks.filter { $0.status == nil }.count }

    /// Every task reaped and its output drained (or, a second after the last ended, whatever its
    /// stray children still hold open given up).
    var done: Bool {
        guard running == 0 else { return false }
        return openPipes.isEmpty || (reapedAt.map { Int(time(nil)) > $0 + 1 } ?? false)
    }

    /// When `done` gives up on output still open after the last task ended (its stray
    /// children's): a moment to wake for. Nil while tasks run or when nothing is open.
    var givesUpOutputAt: Int? {
        guard running == 0, !openPipes.isEmpty, let reapedAt else { return nil }
        return reapedAt + 2
    }

    func signal(_ s: Int32) {
        if leader > 0 { kill(-leader, s) }
    }

    /// Collects ended tasks; returns those that failed now. When the last has ended, what the
    /// tasks left behind in their group is killed (as Slurm ends a step).
    mutating func reap() -> [Int] {
        var failed: [Int] = []
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let pid = wait4(-1, &status, WNOHANG, &usage)
            guard pid > 0 else { break }
            guard let i = tasks.firstIndex(where: { $0.pid == pid }) else { continue }
            tasks[i].status = status
            tasks[i].cpuMicroseconds = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000
                + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
            tasks[i].maxRSSKB = usage.ru_maxrss
            if status != 0 { failed.append(tasks[i].id) }
        }
        if running == 0 && reapedAt == nil {
            reapedAt = Int(time(nil))
            signal(SIGKILL)
        }
        return failed
    }

    /// Reads what a task wrote to one of its pipes and hands it on; closes the pipe at its end.
    mutating func forward(_ fd: Int32, _ handle: (_ task: Int, _ stream: Int, _ bytes: [UInt8]) -> Void) {
        guard let i = tasks.firstIndex(where: { $0.pipes.contains(fd) }), let k = tasks[i].pipes.firstIndex(of: fd) else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 {
            if n < 0 && (errno == EINTR || errno == EAGAIN) { return }
            close(fd)
            tasks[i].pipes[k] = -1
            handle(tasks[i].id, k, [])
            return
        }
        handle(tasks[i].id, k, Array(buffer.prefix(n)))
    }

    /// Label mode on the batch node: a task's output, line by line with its number, to srun's.
    mutating func drain(_ fd: Int32, labels: inout LineLabeler) {
        forward(fd) { task, stream, bytes in
            let out = bytes.isEmpty ? labels.flush(task: task, stream: stream) : labels.feed(task: task, stream: stream, bytes)
            if !out.isEmpty { StepSupervisor.writeAll(stream == 0 ? 1 : 2, out) }
        }
    }

    /// Closes what is left and removes the cgroups the step made.
    mutating func finish() {
        for t in tasks {
            for fd in t.pipes where fd >= 0 { close(fd) }
            if t.pmi >= 0 { close(t.pmi) }
        }
        for cg in made { cg.remove() }
        made = []
    }

    var ends: [StepEnd.Task] {
        tasks.compactMap { t in
            guard let s = t.status else { return nil }
            let exited = s & 0x7f == 0
            var end = StepEnd.Task(task: t.id, node: t.node, exitCode: exited ? Int((s >> 8) & 0xff) : 0,
                                   signal: exited ? nil : Int(s & 0x7f))
            (end.cpuMicroseconds, end.maxRSSKB) = (t.cpuMicroseconds, t.maxRSSKB)
            return end
        }
    }
}
