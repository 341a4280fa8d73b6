import CNuma
import CChessSystem
import ChessWire
import FoundationEssentials
import Glibc

/// One job's supervisor: `chess-supervisor SPOOL/jobs/ID` (a small static binary that starts in
/// about a millisecond), started by the agent in a session of its own so that it outlives an
/// agent restart.
///
/// It creates the job's cgroup, forks the job (its own process group; CPU and memory binding,
/// output files, environment, the job's user), enforces the time limit (TERM, then KILL after
/// the grace time), collects usage, and writes `result.json` durably before it exits. The agent
/// reads the result from the spool and reports it until the controller acknowledges it.
public struct Supervisor {
    let spool: JobSpool
    let plan: LaunchPlan

    /// Runs the job to its end; returns the process exit status for the supervisor itself.
    public static func main(directory: String) -> Int32 {
        let spool = JobSpool(directory: directory)
        guard let plan = spool.plan else {
            PlainText.complain("chess-nodeagent supervise: \(directory): no readable plan.json")
            return 2
        }
        let supervisor = Supervisor(spool: spool, plan: plan)
        let result = supervisor.run()
        do {
            if let bytes = result.jsonBytesWithoutSteps {
                try spool.writeDurably("result.json", bytes: bytes)
            } else {
                try spool.writeDurably("result.json", JSONEncoder().encode(result))
            }
        } catch {
            supervisor.log("cannot write the result: \(error)")
            return 1
        }
        // The agent reports the end now rather than at its next look at the spool.
        SpoolBell.ring(spool: SpoolBell.spool(ofFolder: directory))
        return 0
    }

    /// A line in the spool's `supervisor.log`, stamped in UTC (plain system calls: this runs
    /// for every job).
    func log(_ message: String) { Self.log(message, to: spool.path("supervisor.log")) }

    static func log(_ message: String, to path: String) {
        let line = "\(SlurmTime.utcTimestamp(Int(time(nil)))) \(message)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    func run() -> JobResult {
        let launch = plan.launch
        let start = Int(time(nil))
        func failed(_ reason: String, state: String = "FAILED") -> JobResult {
            log(reason)
            return JobResult(job: launch.job, state: state, exitCode: 1, startTime: start,
                             endTime: Int(time(nil)), reason: reason, run: launch.run)
        }

        // The script, readable and executable by the job's user only.
        let scriptPath = spool.path("script")
        if let failure = JobSpool.writeFile(scriptPath, Array(launch.script.utf8), mode: 0o700) {
            return failed("cannot write the script: \(failure)", state: "NODE_FAIL")
        }
        chmod(scriptPath, 0o700)
        if getuid() == 0, let uid = launch.uid, let gid = launch.gid { chown(scriptPath, uid, gid) }

        // The cluster's prolog: a failure keeps the job off this node (it goes back to the queue
        // and the node is drained, as in Slurm).
        if let prolog = launch.prolog, let failure = runAdministrative(prolog, context: "prolog") {
            var result = failed("prolog failed: \(failure.message ?? "")", state: "NODE_FAIL")
            result.drainReason = result.reason
            return result
        }

        let cgroup: Cgroup?
        do {
            cgroup = try Cgroup.create(name: Cgroup.name(plan), cpus: plan.cpus, mems: plan.mems,
                                       memoryBytes: plan.memoryBytes)
        } catch {
            log("running without a cgroup: \(error)")
            cgroup = nil
        }
        defer { cgroup?.remove() }

        // Everything the child needs is prepared before fork: after it, only plain system calls.
        // The working directory and the output files are the job's user's business: the child
        // enters and opens them after it has become that user, so that no path a user names
        // (a symlink, `..`, a root-only folder) is ever opened with root's rights. When the
        // working directory cannot be entered, the job runs in /tmp, and relative output paths
        // are taken from there (as slurmstepd does).
        let workdir = launch.workdir ?? "/tmp"
        func files(in directory: String) -> (output: String, error: String?) {
            (OutputPattern.resolve(launch.output ?? OutputPattern.defaultOutput(isArrayTask: launch.arrayJobID != nil), launch,
                                   workdir: directory, node: plan.node),
             launch.error.map { OutputPattern.resolve($0, launch, workdir: directory, node: plan.node) })
        }
        let inWorkdir = files(in: workdir), inTmp = files(in: "/tmp")
        let environment = JobEnvironment.build(plan, workdir: workdir)
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(scriptPath), nil]
        let paths: [UnsafeMutablePointer<CChar>?] = [workdir, inWorkdir.output, inWorkdir.error, inTmp.output, inTmp.error]
            .map { $0.flatMap { strdup($0) } }
        defer {
            for p in envp { free(p) }
            for p in argv { free(p) }
            for p in paths { free(p) }
        }
        // Truncated as Slurm does, unless the job asked to append or this is a later run.
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (launch.appendOutput == false ? O_TRUNC : 0)
        let setup = ChildSetup(cgroup: cgroup, cpus: plan.cpus, mems: plan.mems, uid: launch.uid, gid: launch.gid, user: launch.user,
                               groups: plan.groups)
        var report: [Int32] = [-1, -1]
        guard chess_pipe_cloexec(&report) == 0 else { return failed("pipe failed: \(String(cString: strerror(errno)))", state: "NODE_FAIL") }

        let pid = fork()
        if pid == 0 {
            // The job: its own process group, so that signals reach every process it starts.
            setpgid(0, 0)
            setup.enter()
            let devnull = open("/dev/null", O_RDONLY)
            if devnull >= 0 { dup2(devnull, 0) }
            guard setup.becomeUser() else { ChildFailure.becomeUser.report(report[1], errno: errno) }
            let entered = chdir(paths[0]!) == 0
            if !entered { _ = chdir("/tmp") }
            let (output, error) = entered ? (paths[1]!, paths[2]) : (paths[3]!, paths[4])
            let outFD = open(output, flags, 0o644)
            guard outFD >= 0 else { ChildFailure.outputFile.report(report[1], errno: errno) }
            var errFD = outFD
            if let error {
                errFD = open(error, flags, 0o644)
                guard errFD >= 0 else { ChildFailure.errorFile.report(report[1], errno: errno) }
            }
            dup2(outFD, 1)
            dup2(errFD, 2)
            ChildSetup.closeInherited(above: 2, keeping: report[1])
            execve(scriptPath, argv, envp)
            let msg = "chess: cannot execute the batch script: \(String(cString: strerror(errno)))\n"
            _ = Glibc.write(2, msg, msg.utf8.count)
            _exit(127)
        }
        close(report[1])
        guard pid > 0 else {
            close(report[0])
            return failed("fork failed: \(String(cString: strerror(errno)))", state: "NODE_FAIL")
        }
        if let (failure, code) = ChildFailure.read(report[0]) {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let why = String(cString: strerror(code))
            switch failure {
            case .becomeUser: return failed("cannot become the job's user \(launch.user): \(why)")
            case .outputFile: return failed("cannot open the output file \(inWorkdir.output) as \(launch.user): \(why)")
            case .errorFile: return failed("cannot open the error file \(inWorkdir.error ?? "") as \(launch.user): \(why)")
            }
        }
        // Not fsynced, nor through a temporary file: after a machine's crash the job is gone too,
        // and one small write() is seen whole or not at all, like a rename (one file and two
        // fsyncs fewer per job).
        _ = JobSpool.writeFile(spool.path("job.pid"), Array("\(pid)".utf8), mode: 0o600)
        // Which process that pid is (this boot, this start time): the agent signals the group
        // only while it still is (`JobSpool.jobGroup`).
        if let identity = ProcessIdentity.of(pid) {
            _ = JobSpool.writeFile(spool.path("job.identity"), Array(identity.text.utf8), mode: 0o600)
        }
        log("started job \(launch.job) as process group \(pid) on CPUs [\(plan.cpus.map(String.init).joined(separator: ", "))] in \(workdir)")

        // Wait, enforcing the time limit: asleep until the job ends, the agent changes the
        // spool (a new limit, a cancel) or the next deadline comes (ExitWatch).
        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        var termSentAt: Int?
        var deadline = launch.timeLimit.map { start + $0 }
        // sbatch's --signal: once before each deadline (a changed limit arms it again).
        var warned = false
        let warning = launch.warningSignal.flatMap { w in SignalName(w.signal).map { (w, $0) } }
        let watch = ExitWatch(pid: pid, folder: spool.directory)
        defer { watch.close() }
        var limitText: Data?
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            let now = Int(time(nil))
            // A new limit from `chessctl update`, through the agent (it rewrites `time-limit`).
            if termSentAt == nil, let text = spool.read("time-limit"), text != limitText {
                limitText = text
                // Bounded (a year) before it is added: no value in the file can trap the sum.
                if let seconds = Int(PlainText.trimmed(text)), seconds > 0,
                   case let limit = start + min(seconds, 366 * 86_400), limit != deadline {
                    deadline = limit
                    warned = false
                    log("time limit changed to \(seconds)s")
                }
            }
            if let (w, s) = warning, !warned, termSentAt == nil, let deadline, now >= deadline - w.secondsBefore {
                warned = true
                log("\(w.secondsBefore)s before the time limit: \(s) to \(w.batchOnly ? "the batch shell" : "the job")")
                if w.batchOnly { kill(pid, s.number) } else { spool.signalJob(s.number) }
            }
            if let deadline, now >= deadline, termSentAt == nil {
                timedOut = true
                log("time limit reached: TERM")
                spool.signalJob(SIGTERM)
                termSentAt = now
            }
            if let t = termSentAt, t < Int.max / 2, now >= t + plan.killWait {
                log("still running \(plan.killWait)s after TERM: KILL")
                spool.signalJob(SIGKILL)
                termSentAt = Int.max / 2
            }
            if termSentAt == nil, spool.exists("cancel") {
                // The agent asked (and signalled the group itself); make sure KILL follows.
                termSentAt = now
            }
            // The next moment something is due: the warning, the limit, KILL after TERM.
            var due: [Int] = []
            if termSentAt == nil, let deadline {
                due.append(deadline)
                if let (w, _) = warning, !warned { due.append(deadline - w.secondsBefore) }
            }
            if let t = termSentAt, t < Int.max / 2 { due.append(t + plan.killWait) }
            watch.wait(until: due.min().map(Double.init))
        }
        // Stray processes of the job's group go too, and its steps (as in Slurm, a job's steps
        // end with its batch script; their hubs stop the tasks on other agents' nodes).
        // (A job without steps, nearly every one, pays one stat for them here.)
        let hasSteps = spool.exists("steps")
        kill(-pid, SIGKILL)
        if hasSteps {
            _ = JobSpool.writeFile(spool.path("ending"), [], mode: 0o644)
            spool.signalJob(SIGKILL, batch: false)
        }
        let end = Int(time(nil))
        let cpuSeconds = Int(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Int((usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000)
        let peak = max(Int(usage.ru_maxrss) / 1024, (cgroup?.peakMemoryBytes ?? 0) / (1024 * 1024))
        let exited = status & 0x7f == 0
        let exitCode = exited ? Int((status >> 8) & 0xff) : 0
        let signal = exited ? nil : Int(status & 0x7f)
        var state: String
        var reason: String
        if spool.exists("cancel") {
            state = "CANCELLED"
            reason = spool.read("cancel").map { String(decoding: $0, as: UTF8.self) } ?? "cancelled"
        } else if timedOut {
            state = "TIMEOUT"
            reason = "time limit reached"
        } else if cgroup?.hadOOMKill == true {
            state = "OUT_OF_MEMORY"
            reason = "killed by the kernel: out of memory (limit \((plan.memoryBytes ?? 0) / 1_048_576) MiB)"
        } else if exited && exitCode == 0 {
            state = "COMPLETED"
            reason = "exited with 0"
        } else {
            state = "FAILED"
            reason = exited ? "exit code \(exitCode)" : "killed by signal \(signal!)"
        }
        log("job \(launch.job) ended: \(state) (\(reason))")
        var result = JobResult(job: launch.job, state: state, exitCode: exitCode, signal: signal, startTime: start, endTime: end,
                               cpuSeconds: cpuSeconds, maxRSSMB: peak, gpuSeconds: plan.gpus.count * max(end - start, 0), reason: reason,
                               run: launch.run)
        if hasSteps {
            let steps = spool.stepRecords()
            if !steps.isEmpty { result.steps = steps }
        }
        // The cluster's epilog: the job's end stands; a failure drains the node.
        if let epilog = launch.epilog, let failure = runAdministrative(epilog, context: "epilog") {
            result.drainReason = "epilog failed: \(failure.message ?? "")"
        }
        return result
    }

    /// Runs the cluster's prolog or epilog as this process's user (root in production) with
    /// Slurm's variables for it, not the job's environment (the submitter's `LD_PRELOAD` must not
    /// reach a root program); logs the outcome. The failure, or nil when it passed.
    func runAdministrative(_ program: String, context: String) -> TimedProgram.Outcome? {
        let l = plan.launch
        var env: [String: String] = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let values: [(String, String)] = [
            ("JOB_ID", "\(l.job)"), ("JOB_USER", l.user), ("JOB_PARTITION", l.partition), ("JOB_ACCOUNT", l.account),
            ("JOB_NODELIST", l.nodeList), ("CLUSTER_NAME", plan.clusterName), ("SCRIPT_CONTEXT", "\(context)_slurmd"),
            ("JOB_GPUS", plan.gpus.map(String.init).joined(separator: ",")), ("RESTART_COUNT", "\(l.run)"),
        ]
        for (k, v) in values {
            env["SLURM_\(k)"] = v
            env["CHESS_\(k)"] = v
        }
        if let uid = l.uid { env["SLURM_JOB_UID"] = "\(uid)"; env["CHESS_JOB_UID"] = "\(uid)" }
        if let gid = l.gid { env["SLURM_JOB_GID"] = "\(gid)"; env["CHESS_JOB_GID"] = "\(gid)" }
        if let a = l.arrayJobID, let t = l.arrayTaskID {
            env["SLURM_ARRAY_JOB_ID"] = "\(a)"
            env["SLURM_ARRAY_TASK_ID"] = "\(t)"
        }
        env["CUDA_VISIBLE_DEVICES"] = env["SLURM_JOB_GPUS"]
        let outcome = TimedProgram.run(program, environment: env, timeout: l.prologEpilogTimeout ?? 300)
        log(outcome.ok ? "\(context) \(program) passed" : "\(context) \(program) failed: \(outcome.message ?? "")")
        return outcome.ok ? nil : outcome
    }
}

extension OutputPattern {
    static func resolve(_ pattern: String, _ l: JobLaunch, workdir: String, node: String) -> String {
        resolve(pattern, job: l.job, arrayJobID: l.arrayJobID, arrayTaskID: l.arrayTaskID, user: l.user, name: l.name,
                node: node, workdir: workdir)
    }
}

/// The job's environment: the submitter's (Slurm's default `--export=ALL`), then the
/// `CHESS_*` variables and their `SLURM_*` equivalents, and GPU visibility.
enum JobEnvironment {
    static func build(_ plan: LaunchPlan, workdir: String) -> [String: String] {
        let l = plan.launch
        var env = l.environment
        let cpusOnNode = l.nodes.first { $0.node == plan.node }?.cores.count ?? 0
        let values: [(String, String)] = [
            ("JOB_ID", "\(l.job)"), ("JOB_NAME", l.name), ("JOB_NODELIST", l.nodeList), ("JOB_NUM_NODES", "\(l.nodes.count)"),
            ("NTASKS", "\(l.tasks)"), ("CPUS_PER_TASK", "\(l.cpusPerTask)"), ("CPUS_ON_NODE", "\(cpusOnNode)"),
            ("JOB_PARTITION", l.partition), ("JOB_ACCOUNT", l.account), ("JOB_USER", l.user),
            ("SUBMIT_DIR", l.workdir ?? workdir), ("CLUSTER_NAME", plan.clusterName),
        ]
        for (k, v) in values {
            env["CHESS_\(k)"] = v
            env["SLURM_\(k)"] = v
        }
        // What MPI launchers and scripts read from a Slurm batch job: CPUs and tasks per node
        // in Slurm's compressed form (`8(x2),4`), this node's memory and GPUs, the restart count.
        let perNode = [
            ("JOB_CPUS_PER_NODE", Self.compressedCounts(l.nodes.map(\.cores.count))),
            ("TASKS_PER_NODE", Self.compressedCounts(Self.tasksPerNode(l.tasks, nodes: l.nodes.count))),
            ("GPUS_ON_NODE", "\(plan.gpus.count)"),
            ("RESTART_COUNT", "\(l.run)"),
            ("NODEID", "\(l.nodes.firstIndex { $0.node == plan.node } ?? 0)"),
        ]
        for (k, v) in perNode {
            env["CHESS_\(k)"] = v
            env["SLURM_\(k)"] = v
        }
        if let memory = l.nodes.first(where: { $0.node == plan.node })?.memoryMB, memory > 0 {
            env["CHESS_MEM_PER_NODE"] = "\(memory)"
            env["SLURM_MEM_PER_NODE"] = "\(memory)"
        }
        env["SLURM_JOBID"] = "\(l.job)"
        env["SLURM_NODELIST"] = l.nodeList
        env["SLURM_NNODES"] = "\(l.nodes.count)"
        env["SLURM_NPROCS"] = "\(l.tasks)"
        env["SLURMD_NODENAME"] = plan.node
        env["CHESS_NODENAME"] = plan.node
        if let a = l.arrayJobID, let t = l.arrayTaskID {
            for p in ["CHESS", "SLURM"] {
                env["\(p)_ARRAY_JOB_ID"] = "\(a)"
                env["\(p)_ARRAY_TASK_ID"] = "\(t)"
                if let n = l.arrayTaskCount { env["\(p)_ARRAY_TASK_COUNT"] = "\(n)" }
                if let n = l.arrayTaskMin { env["\(p)_ARRAY_TASK_MIN"] = "\(n)" }
                if let n = l.arrayTaskMax { env["\(p)_ARRAY_TASK_MAX"] = "\(n)" }
            }
        }
        if let limit = l.timeLimit { env["CHESS_TIME_LIMIT"] = "\(limit)" }
        // PCI bus order, the order the indices are in; empty hides every GPU.
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        env["CUDA_VISIBLE_DEVICES"] = plan.gpus.map(String.init).joined(separator: ",")
        env["CHESS_JOB_GPUS"] = env["CUDA_VISIBLE_DEVICES"]
        env["CHESS_JOB_CPUS"] = plan.cpus.map(String.init).joined(separator: ",")
        // The node's cores and NUMA domains as the controller allocated them (on an emulated
        // node, the emulated machine's numbers; CHESS_JOB_CPUS are the CPUs the job runs on).
        if let part = l.nodes.first(where: { $0.node == plan.node }) {
            env["CHESS_JOB_CORES"] = HostList.ranges(part.cores)
            env["CHESS_JOB_NUMA"] = part.numa.map(String.init).joined(separator: ",")
        }
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        if let socket = plan.stepSocket { env["CHESS_STEP_SOCKET"] = socket }
        // CHESS's srun first: a Slurm installation beside it (a cluster moving over) has its own.
        if let tools = plan.toolsDirectory, let path = env["PATH"], path.split(separator: ":").first != Substring(tools) {
            env["PATH"] = tools + ":" + path
        }
        // MPI launchers that see SLURM_JOBID start their remote daemons with `srun --nodelist`,
        // which CHESS's srun does not take (and it serves PMI-1, not Open MPI's PMIx): unless
        // the job chose otherwise, they use ssh (on one node, a local fork), as on a cluster
        // without a resource manager. They still read the allocation
        // from SLURM_NODELIST and SLURM_TASKS_PER_NODE.
        for (name, value) in mpiLauncherDefaults where env[name] == nil { env[name] = value }
        return env
    }

    /// Open MPI 4 (`plm`), Open MPI 5 / PRRTE, Intel MPI and MPICH's Hydra.
    static let mpiLauncherDefaults = [("OMPI_MCA_plm", "rsh"), ("PRTE_MCA_plm", "ssh"), ("I_MPI_HYDRA_BOOTSTRAP", "ssh"),
                                      ("HYDRA_BOOTSTRAP", "ssh")]

    /// `tasks` spread over `nodes` as Slurm spreads a batch job's: evenly, the first nodes taking
    /// one more when they do not divide.
    static func tasksPerNode(_ tasks: Int, nodes: Int) -> [Int] {
        guard nodes > 0 else { return [] }
        return (0..<nodes).map { tasks / nodes + ($0 < tasks % nodes ? 1 : 0) }
    }

    /// Slurm's compressed list of counts: runs of equal values as `N(xK)`, e.g. `8(x2),4`.
    static func compressedCounts(_ counts: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < counts.count {
            var j = i
            while j + 1 < counts.count && counts[j + 1] == counts[i] { j += 1 }
            parts.append(j > i ? "\(counts[i])(x\(j - i + 1))" : "\(counts[i])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
