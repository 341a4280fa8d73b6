import ChessAPI
import Foundation
import Glibc

/// One job step's supervisor: `chess-supervisor step SPOOL/jobs/J.R/steps/S`, started by the
/// agent with `srun`'s standard input, output and error as 0, 1 and 2 and `srun`'s connection
/// as 3. It starts the step's tasks (one process group; each in its node's cgroup, bound to the
/// job's CPUs there, as the job's user), passes on the signals `srun` forwards, labels output
/// lines when asked (`-l`), stops the tasks when the job ends or `srun` goes away, and answers
/// with how each task ended.
public struct StepSupervisor {
    let directory: String
    let plan: StepPlan
    /// The job's run folder (`steps/S` is in it).
    let jobSpool: JobSpool
    static let control: Int32 = 3

    public static func main(directory: String) -> Int32 {
        guard let data = FileManager.default.contents(atPath: "\(directory)/step.json"),
              let plan = try? JSONDecoder().decode(StepPlan.self, from: data) else {
            FileHandle.standardError.write(Data("chess-supervisor step: \(directory): no readable step.json\n".utf8))
            return 2
        }
        _ = fcntl(control, F_SETFD, FD_CLOEXEC)
        let supervisor = StepSupervisor(directory: directory, plan: plan,
                                        jobSpool: JobSpool(directory: ((directory as NSString).deletingLastPathComponent as NSString)
                                            .deletingLastPathComponent))
        let end = supervisor.run()
        let json = (try? JSONEncoder().encode(end)) ?? Data()
        try? JobSpool(directory: directory).writeDurably("result.json", json)
        try? UnixSocket.send(control, Array(json) + [UInt8(ascii: "\n")])
        return 0
    }

    func log(_ message: String) { Supervisor.log(message, to: "\(directory)/step.log") }

    /// A task as the loop follows it.
    struct Task {
        let id: Int
        let node: String
        var pid: pid_t = 0
        var status: Int32?
        /// Label mode: the read ends of its stdout and stderr pipes, and what is left of a line.
        var pipes: [Int32] = []
        var partial: [[UInt8]] = [[], []]
    }

    func run() -> StepEnd {
        // Each node's cgroup: the job's own where the batch script runs (joined, left in place),
        // one made for the step on the job's other nodes (removed at its end).
        var made: [Cgroup] = []
        var groups: [String: Cgroup] = [:]
        for node in plan.nodes {
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
        defer { for cg in made { cg.remove() } }

        let width = String(max(plan.tasks - 1, 0)).count
        let workdir = plan.workdir
        let argv: [UnsafeMutablePointer<CChar>?] = plan.argv.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var tasks: [Task] = []
        var leader: pid_t = 0
        for (index, node) in plan.nodes.enumerated() {
            for local in 0..<node.tasks {
                let setup = ChildSetup(cgroup: groups[node.name], cpus: local < node.taskCPUs.count ? node.taskCPUs[local] : node.cpus,
                                       mems: node.mems, uid: plan.uid, gid: plan.gid, user: plan.user)
                var task = Task(id: node.firstTask + local, node: node.name)
                let env = plan.environment(node: index, localID: local)
                let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
                defer { for p in envp { free(p) } }
                let candidates = Self.candidates(for: plan.argv[0], path: env["PATH"] ?? "")
                let paths: [UnsafeMutablePointer<CChar>] = candidates.compactMap { strdup($0) }
                defer { for p in paths { free(p) } }
                var out: [Int32] = [1, 2]
                if plan.label {
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
                let pid = fork()
                if pid == 0 {
                    setpgid(0, leader)
                    setup.enter()
                    if out[0] != 1 { dup2(out[0], 1) }
                    if out[1] != 2 { dup2(out[1], 2) }
                    guard setup.becomeUser() else {
                        let msg = "chess: cannot become the job's user\n"
                        _ = Glibc.write(2, msg, msg.utf8.count)
                        _exit(126)
                    }
                    if chdir(workdir) != 0 { _ = chdir("/tmp") }
                    // As execvp does, through the task's PATH rather than this process's.
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
                guard pid > 0 else {
                    log("fork failed: \(String(cString: strerror(errno)))")
                    task.status = 1 << 8
                    tasks.append(task)
                    continue
                }
                setpgid(pid, leader)  // both sides, so that neither races the other
                if leader == 0 { leader = pid }
                task.pid = pid
                tasks.append(task)
            }
        }
        if leader > 0 { try? JobSpool(directory: directory).writeDurably("tasks.pgid", Data("\(leader)".utf8)) }
        log("step \(plan.job).\(plan.step) started: \(plan.tasks) task(s) of \(plan.argv.joined(separator: " ")) on \(plan.nodeList)")

        var controlOpen = true
        var stopping: (reason: String, killAt: Int)?
        func stop(_ reason: String) {
            guard stopping == nil else { return }
            log("stopping the step: \(reason)")
            if leader > 0 {
                kill(-leader, SIGCONT)
                kill(-leader, SIGTERM)
            }
            stopping = (reason, Int(time(nil)) + plan.killWait)
        }
        var turns = 0
        var tasksDoneAt: Int?
        while true {
            // Every task reaped and its output drained (or, a second after the last ended,
            // whatever its stray children still hold open given up).
            let open = tasks.flatMap(\.pipes).filter { $0 >= 0 }
            if tasks.allSatisfy({ $0.status != nil }) {
                if tasksDoneAt == nil {
                    tasksDoneAt = Int(time(nil))
                    if leader > 0 { kill(-leader, SIGKILL) }
                }
                if open.isEmpty || Int(time(nil)) > tasksDoneAt! + 1 { break }
            }
            var polled = (controlOpen ? [pollfd(fd: Self.control, events: Int16(POLLIN), revents: 0)] : [])
                + open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = polled.isEmpty ? (usleep(50_000), 0).1 : poll(&polled, nfds_t(polled.count), 50)
            if ready > 0 {
                for p in polled where p.revents != 0 {
                    if p.fd == Self.control && controlOpen {
                        if !readControl(leader: leader) {
                            controlOpen = false
                            stop("srun went away")
                        }
                    } else {
                        drain(p.fd, tasks: &tasks, width: width)
                    }
                }
            }
            var status: Int32 = 0
            while true {
                let pid = waitpid(-1, &status, WNOHANG)
                guard pid > 0 else { break }
                guard let i = tasks.firstIndex(where: { $0.pid == pid }) else { continue }
                tasks[i].status = status
                if plan.killOnBadExit, status != 0 { stop("task \(tasks[i].id) failed (--kill-on-bad-exit)") }
            }
            turns += 1
            if turns % 20 == 0, stopping == nil, let why = jobEnded() { stop(why) }
            if let s = stopping, Int(time(nil)) >= s.killAt, leader > 0 {
                kill(-leader, SIGKILL)
                stopping = (s.reason, Int.max / 2)
            }
        }
        for t in tasks { for fd in t.pipes where fd >= 0 { close(fd) } }
        let ends = tasks.map { t -> StepEnd.Task in
            let s = t.status ?? (1 << 8)
            let exited = s & 0x7f == 0
            return StepEnd.Task(task: t.id, node: t.node, exitCode: exited ? Int((s >> 8) & 0xff) : 0,
                                signal: exited ? nil : Int(s & 0x7f))
        }
        let end = StepEnd(step: plan.step, tasks: ends, reason: stopping?.reason)
        log("step \(plan.job).\(plan.step) ended: exit \(end.exitStatus)\(stopping.map { " (\($0.reason))" } ?? "")")
        return end
    }

    /// Reads `signal N` lines from srun and passes each on to the tasks; false when srun has
    /// gone (the connection closed).
    func readControl(leader: pid_t) -> Bool {
        guard let (data, _) = try? UnixSocket.receive(Self.control, limit: 4096), !data.isEmpty else { return false }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "signal", let n = Int32(words[1]), n > 0, n < 65, leader > 0 {
                log("signal \(n) from srun")
                kill(-leader, n)
            }
        }
        return true
    }

    /// Label mode: what a task wrote, line by line, prefixed with its number, to srun's output.
    func drain(_ fd: Int32, tasks: inout [Task], width: Int) {
        guard let i = tasks.firstIndex(where: { $0.pipes.contains(fd) }), let k = tasks[i].pipes.firstIndex(of: fd) else { return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buffer, buffer.count)
        let target: Int32 = k == 0 ? 1 : 2
        let prefix = Array((String(repeating: " ", count: max(width - String(tasks[i].id).count, 0)) + "\(tasks[i].id): ").utf8)
        if n <= 0 {
            if !tasks[i].partial[k].isEmpty { Self.writeAll(target, prefix + tasks[i].partial[k] + [10]) }
            tasks[i].partial[k] = []
            close(fd)
            tasks[i].pipes[k] = -1
            return
        }
        var pending = tasks[i].partial[k] + buffer.prefix(n)
        var out: [UInt8] = []
        while let nl = pending.firstIndex(of: 10) {
            out += prefix + pending[...nl]
            pending.removeSubrange(...nl)
        }
        tasks[i].partial[k] = pending
        if !out.isEmpty { Self.writeAll(target, out) }
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

    /// Why the step's job is over, if it is: cancelled, ended, or its supervisor gone.
    func jobEnded() -> String? {
        if jobSpool.exists("result.json") { return "the job ended" }
        if let why = jobSpool.read("cancel") { return "the job was cancelled (\(String(decoding: why, as: UTF8.self)))" }
        if !jobSpool.supervisorAlive { return "the job's supervisor is gone" }
        return nil
    }

    /// Where execvp would look for `command`: itself when it names a path, else each `PATH`
    /// folder in turn (an empty entry is the working folder).
    static func candidates(for command: String, path: String) -> [String] {
        if command.contains("/") { return [command] }
        return path.split(separator: ":", omittingEmptySubsequences: false).map { $0.isEmpty ? command : "\($0)/\(command)" }
    }
}
