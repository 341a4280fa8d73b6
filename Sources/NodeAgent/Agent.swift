import CChessSystem
import CNuma
import ChessAPI
import NodeSupervisor
import Foundation
import Glibc
import Logging
import Spawning

/// The nodes one agent presents (the host itself and emulated ones), its spool, and what it
/// does with the controller's commands. Jobs run under supervisors (`Supervisor`) that outlive
/// the agent; the spool is how a restarted agent finds them again.
final class Agent: @unchecked Sendable {
    let id: String
    let nodes: [(name: String, topology: HostTopology, emulated: Bool)]
    let spoolDirectory: String
    let executable: String
    let logger: Logger
    let killWait: Int
    /// CPUs this process may use: emulated nodes' cores are mapped onto them.
    let hostCPUs: [Int]
    let hostNUMA: [Int]
    /// The host's own node as registered (not an emulated one): whose GPUs the driver reports on.
    var hostTopology: AgentTopology? { nodes.first { !$0.emulated }?.topology.wire }
    /// The cluster's name when a launch does not carry one (an older controller).
    var clusterName = "chess"
    /// The step socket `srun` reaches this agent on (set once its listener runs).
    var stepSocket: String?
    /// A client for the controller (signed as this agent), and the address other agents reach
    /// this host on: for steps over several agents.
    var controllerClient: (() -> ControllerClient)?
    var advertisedHost: String?
    /// Where `srun` is, when it is beside this binary: first in every job's `PATH`.
    let toolsDirectory: String?

    let lock = NSLock()
    /// Supervisors this process started and has not reaped yet.
    private var spawned = Set<pid_t>()
    /// Of those, the supervisors of steps this agent is the hub of: their end is reported.
    var stepSupervisors: [pid_t: (job: Int, run: Int, directory: String)] = [:]
    /// Step supervisors found running when this agent started (a restart): their end is
    /// reported too, when their pid is gone.
    private var adoptedSteps: [pid_t: (job: Int, run: Int, directory: String)] = [:]
    private let stepReportQueue = DispatchQueue(label: "chess.step-reports")
    /// Rung by supervisors when a job or step ends (and by a launch, a stop): the reporter
    /// sleeps on it. Nil when it cannot be bound; the reporter then looks every 20 ms.
    let bell: SpoolBell?
    private let usageLock = NSLock()
    private var lastUsageAt = 0

    init(id: String, nodes: [(name: String, topology: HostTopology, emulated: Bool)], spool: String, executable: String,
         killWait: Int = 30, logger: Logger) throws {
        self.id = id
        self.nodes = nodes
        // Traversable, not readable, down to each job's script: the job's user executes it (the
        // script is theirs alone; the rest of a run's folder is root's, 0600).
        try FileManager.default.createDirectory(atPath: "\(spool)/jobs", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o711])
        // One spelling of the spool for good (`/var/spool/chess/`, a relative path, a link): the
        // supervisors it starts are known by their folder as their argument.
        let spool = JobSpool.resolved(spool) ?? spool
        spoolDirectory = spool
        self.executable = executable
        let dir = (executable as NSString).deletingLastPathComponent
        toolsDirectory = FileManager.default.isExecutableFile(atPath: dir + "/srun") ? dir : nil
        self.killWait = killWait
        self.logger = logger
        for dir in [spool, "\(spool)/jobs"] {
            var info = stat()
            if stat(dir, &info) == 0, info.st_mode & 0o001 == 0 { chmod(dir, (info.st_mode & 0o7777) | 0o011) }
        }
        do {
            bell = try SpoolBell(spool: spool)
        } catch {
            logger.warning("cannot bind the spool's bell; job ends are looked for every 20 ms", metadata: ["error": "\(error)"])
            bell = nil
        }
        var cpus = [Int32](repeating: 0, count: 4096)
        let n = cpus.withUnsafeMutableBufferPointer { chess_allowed_cpus($0.baseAddress, Int32($0.count)) }
        hostCPUs = n > 0 ? cpus.prefix(Int(n)).map(Int.init) : [0]
        hostNUMA = numa_available() >= 0 ? Array(0...Int(max(numa_max_node(), 0))) : []
    }

    // MARK: Spool

    func spools() -> [JobSpool] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(spoolDirectory)/jobs")) ?? []
        return names.filter { !$0.hasPrefix(".") }.map { JobSpool(directory: "\(spoolDirectory)/jobs/\($0)") }
            .filter { $0.job != nil }
            .sorted { ($0.job ?? 0, $0.run) < ($1.job ?? 0, $1.run) }
    }

    /// After a restart: the running steps of running jobs here, whose end is then reported.
    func adoptSteps() {
        var found: [pid_t: (job: Int, run: Int, directory: String)] = [:]
        for spool in spools() where !spool.exists("result.json") {
            guard let job = spool.job else { continue }
            for s in spool.runningSteps { found[s.supervisor] = (job, spool.run, s.folder.directory) }
        }
        lock.withLock { adoptedSteps = found }
    }

    /// Jobs whose supervisor still runs.
    func runningJobs() -> [Int] {
        spools().filter { !$0.exists("result.json") && $0.supervisorAlive }.compactMap(\.job)
    }

    /// What each running job uses, for the heartbeat — nil until `interval` seconds have passed
    /// since the last measure: a busy agent's long poll returns with each batch of commands, and
    /// a pass over /proc (and the usage in each heartbeat) would cost every one of them.
    func liveUsage(interval: Int) -> [JobLiveUsage]? {
        let now = Int(Date().timeIntervalSince1970)
        guard usageLock.withLock({ now - lastUsageAt >= interval }) else { return nil }
        var groups: [Int32: (job: Int, run: Int)] = [:]
        for spool in spools() where !spool.exists("result.json") {
            guard let job = spool.job, let pgid = spool.jobGroup else { continue }
            groups[pgid] = (job, spool.run)
            // Its steps' tasks here too (their own process groups).
            for g in spool.runningStepGroups { groups[g] = (job, spool.run) }
        }
        usageLock.withLock { lastUsageAt = now }
        return JobUsageSampler.sample(groups: groups, now: now)
    }

    /// Ended runs not yet acknowledged, with their spool folders; a supervisor that vanished
    /// without a result (killed, machine reboot) is reported as a launch failure so that the
    /// controller requeues the job.
    /// `checkLost` looks for vanished supervisors too (a read of /proc per running job: the
    /// reporter does it about once a second, not on every 20 ms turn).
    func pendingReports(checkLost: Bool = true) -> [(spool: JobSpool, completion: JobCompletion)] {
        var out: [(JobSpool, JobCompletion)] = []
        for spool in spools() {
            if let result = spool.result {
                out.append((spool, result))
            } else if checkLost, spool.exists("plan.json"), spool.exists("supervisor.pid"), !spool.supervisorAlive {
                // Check again after the supervisor's last write could have landed.
                if let result = spool.result { out.append((spool, result)); continue }
                let lost = JobCompletion(job: spool.job ?? 0, state: "NODE_FAIL", exitCode: 1,
                                         endTime: Int(Date().timeIntervalSince1970), reason: "the job's supervisor was lost",
                                         run: spool.run)
                try? spool.writeDurably("result.json", JSONEncoder().encode(lost))
                // Only while that group is still the job's: after a reboot the pid names
                // whatever process has it now.
                if let pgid = spool.jobGroup { kill(-pgid, SIGKILL) }
                out.append((spool, lost))
            }
        }
        return out
    }

    func pendingCompletions() -> [JobCompletion] { pendingReports().map(\.completion) }

    /// Forgets the reported runs the controller acknowledged (only those that were reported: a
    /// later run of the same job that ended meanwhile is reported next time).
    func acknowledge(_ jobs: [Int], reported: [JobSpool]) {
        let acked = Set(jobs)
        for spool in reported where spool.job.map(acked.contains) == true { spool.remove() }
    }

    /// The spool folder of a job's run; without a run, the latest one.
    func spool(job: Int, run: Int?) -> JobSpool? {
        if let run { return JobSpool(spool: spoolDirectory, job: job, run: run) }
        return spools().last { $0.job == job }
    }

    /// Collects exited supervisors (our children until an agent restart). Only those: other
    /// children (the health check) are waited for by whoever started them.
    func reapChildren() {
        lock.lock()
        let children = spawned
        let adopted = adoptedSteps
        lock.unlock()
        var status: Int32 = 0
        let gone = children.filter { waitpid($0, &status, WNOHANG) != 0 }
        // Step supervisors a previous run of the agent started are not our children: gone when
        // their pid is.
        let goneAdopted = adopted.keys.filter { kill($0, 0) != 0 && errno == ESRCH }
        guard !gone.isEmpty || !goneAdopted.isEmpty else { return }
        lock.lock()
        spawned.subtract(gone)
        let steps = gone.compactMap { stepSupervisors.removeValue(forKey: $0) } + goneAdopted.compactMap { adoptedSteps.removeValue(forKey: $0) }
        lock.unlock()
        // Ended steps leave `squeue -s`.
        let ended = steps.compactMap { s in
            JobSpool(directory: s.directory).read("record.json").flatMap { try? JSONDecoder().decode(StepRecord.self, from: $0) }
                .map { StepReport(job: s.job, run: s.run, record: $0) }
        }
        if !ended.isEmpty { reportSteps(ended) }
    }

    // MARK: Commands

    func handle(_ commands: [AgentCommand]) {
        for c in commands {
            switch c.kind {
            case "launch":
                guard let l = c.launch else { continue }
                launch(l)
            case "terminate":
                terminate(c.job, run: c.run, reason: c.reason ?? "cancelled", grace: c.grace ?? killWait)
            case "suspend":
                signal(c.job, run: c.run, SIGSTOP, freeze: true)
            case "resume":
                signal(c.job, run: c.run, SIGCONT, freeze: false)
            case "signal":
                guard let s = c.signal.flatMap(SignalName.init) else { continue }
                send(s, to: c.job, run: c.run)
            case "time-limit":
                guard let seconds = c.timeLimit else { continue }
                setTimeLimit(c.job, run: c.run, seconds: seconds)
            case "step":
                guard let plan = c.step else { continue }
                startMemberStep(plan)
            default:
                logger.warning("unknown command from the controller", metadata: ["kind": "\(c.kind)", "job": "\(c.job)"])
            }
        }
    }

    /// Starts a job's supervisor, once: a launch repeated after a lost answer finds the spool.
    func launch(_ l: JobLaunch) {
        let spool = JobSpool(spool: spoolDirectory, job: l.job, run: l.run)
        lock.lock()
        defer { lock.unlock() }
        if spool.exists("plan.json") {
            logger.info("launch already received", metadata: ["job": "\(l.job)"])
            return
        }
        guard let part = l.nodes.first, let (cpus, mems) = binding(part) else {
            reportLaunchFailure(l.job, spool, "node \(l.nodes.first?.node ?? "?") is not served by agent \(id)")
            return
        }
        let plan = LaunchPlan(launch: l, node: part.node, cpus: cpus, mems: mems,
                              memoryBytes: part.memoryMB > 0 ? part.memoryMB * 1_048_576 : nil, gpus: part.gpus,
                              killWait: killWait, clusterName: l.cluster ?? clusterName, stepSocket: stepSocket,
                              toolsDirectory: toolsDirectory, groups: UserGroups.forJob(user: l.user, uid: l.uid, gid: l.gid))
        do {
            try spool.create()
            try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        } catch {
            reportLaunchFailure(l.job, spool, "cannot write the spool: \(error)")
            return
        }
        let pid: pid_t
        do {
            // Its own output (a crash's message) goes to its log: one file fewer per job.
            pid = try spawnSupervisor(["supervise", spool.directory], output: spool.path("supervisor.log"))
        } catch {
            reportLaunchFailure(l.job, spool, "\(error)")
            return
        }
        try? spool.writeDurably("supervisor.pid", Data("\(pid)".utf8))
        logger.info("launched", metadata: ["job": "\(l.job)", "node": "\(part.node)", "cpus": "\(cpus)", "supervisor": "\(pid)"])
    }

    /// The OS CPUs and NUMA nodes of a job's share of one of this agent's nodes; nil when the
    /// node is not this agent's.
    func binding(_ part: JobLaunch.NodePart) -> (cpus: [Int], mems: [Int])? {
        guard let node = nodes.first(where: { $0.name == part.node }) else { return nil }
        var cpus = part.cores.flatMap { core in core < node.topology.coreCPUs.count ? node.topology.coreCPUs[core] : [] }
        var mems = part.numa.flatMap { node.topology.memoryNodes[$0] ?? [] }
        if node.emulated {
            // An emulated node's cores are another machine's: run on this host's CPUs, same count.
            cpus = Array(Set(cpus.map { hostCPUs[$0 % hostCPUs.count] })).sorted()
            mems = hostNUMA.isEmpty ? [] : Array(Set(mems.map { hostNUMA[$0 % hostNUMA.count] })).sorted()
        }
        return (cpus, mems)
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts a supervisor in a session of its own (it outlives this agent): `chess-supervisor`
    /// beside this binary, else this binary, with `arguments` (`supervise DIR`, `step DIR`;
    /// `chess-supervisor` takes a job's folder alone). Standard input and output are /dev/null
    /// and `output`, or the descriptors `stdio` maps to 0, 1, 2, 3…. Called under `lock`.
    func spawnSupervisor(_ arguments: [String], output: String? = nil, stdio: [Int32] = []) throws(SpawnFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Copies above any target first, so that no mapping overwrites a source still to come.
        let copies = stdio.map { fcntl($0, F_DUPFD_CLOEXEC, 10) }
        defer { for c in copies where c >= 0 { close(c) } }
        if stdio.isEmpty {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            guard !copies.contains(-1) else { throw SpawnFailure(description: "cannot pass the descriptors: \(String(cString: strerror(errno)))") }
            for (target, source) in copies.enumerated() { posix_spawn_file_actions_adddup2(&actions, source, Int32(target)) }
        }
        // Nothing else of the agent's: its sockets (the event loops' are not close-on-exec) would
        // outlive it in the supervisor, holding the /metrics port after a restart.
        _ = chess_spawn_addclosefrom(&actions, Int32(max(3, stdio.count)))
        let sibling = (executable as NSString).deletingLastPathComponent + "/chess-supervisor"
        let supervisor = FileManager.default.isExecutableFile(atPath: sibling) ? sibling : executable
        let words = supervisor == executable ? [executable] + arguments
            : [supervisor] + (arguments.first == "supervise" ? Array(arguments.dropFirst()) : arguments)
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let attributes = SpawnAttributes(flags: SpawnAttributes.setSession)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, supervisor, &actions, &attributes.raw, argv, environ)
        guard rc == 0 else { throw SpawnFailure(description: "cannot start the supervisor: \(String(cString: strerror(rc)))") }
        spawned.insert(pid)
        // The reporter may be asleep with nothing to watch: from now on it looks for a lost
        // supervisor about once a second.
        bell?.ring()
        return pid
    }

    /// Whether anything here can still end or wait to be reported: a supervisor this process
    /// started (a zombie to reap, or one that may vanish), a step supervisor of an earlier
    /// run, a run's folder. With none, the reporter sleeps until the bell rings.
    var hasRunningWork: Bool {
        if lock.withLock({ !spawned.isEmpty || !adoptedSteps.isEmpty }) { return true }
        return !spools().isEmpty
    }

    /// Sleeps until a supervisor rings the bell, or `milliseconds` pass (-1: until it rings).
    func waitForEnds(milliseconds: Int32) {
        guard let bell else {
            usleep(20_000)
            return
        }
        bell.wait(milliseconds: milliseconds)
    }

    private func reportLaunchFailure(_ job: Int, _ spool: JobSpool, _ reason: String) {
        logger.error("launch failed", metadata: ["job": "\(job)", "reason": "\(reason)"])
        try? spool.create()
        let result = JobCompletion(job: job, state: "NODE_FAIL", exitCode: 1, endTime: Int(Date().timeIntervalSince1970), reason: reason,
                                   run: spool.run)
        try? spool.writeDurably("result.json", JSONEncoder().encode(result))
    }

    /// TERM to the job's process group now, KILL after `grace` (the supervisor follows up too).
    func terminate(_ job: Int, run: Int?, reason: String, grace: Int) {
        signalMembers(of: job, [SIGCONT, SIGTERM], then: SIGKILL, after: grace)
        guard let spool = spool(job: job, run: run), spool.exists("plan.json"), !spool.exists("result.json") else { return }
        try? spool.writeDurably("cancel", Data(reason.utf8))
        guard spool.pid("job.pid") != nil else { return }
        spool.signalJob(SIGCONT)
        spool.signalJob(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(grace)) {
            if !spool.exists("result.json") { spool.signalJob(SIGKILL) }
        }
        logger.info("terminating", metadata: ["job": "\(job)", "reason": "\(reason)"])
    }

    /// A running job's new time limit (`chessctl update`), for its supervisor, which reads it
    /// from the spool while it waits.
    func setTimeLimit(_ job: Int, run: Int?, seconds: Int) {
        guard let spool = spool(job: job, run: run), spool.exists("plan.json"), !spool.exists("result.json") else { return }
        do {
            try spool.writeDurably("time-limit", Data("\(seconds)\n".utf8))
            logger.info("time limit changed", metadata: ["job": "\(job)", "seconds": "\(seconds)"])
        } catch {
            logger.error("cannot write the new time limit", metadata: ["job": "\(job)", "error": "\(error)"])
        }
    }

    /// Suspend (freeze) or resume a job: the cgroup freezer when there is one, else signals.
    func signal(_ job: Int, run: Int?, _ sig: Int32, freeze: Bool) {
        signalMembers(of: job, [sig])
        guard let spool = spool(job: job, run: run), let pgid = spool.jobGroup, let plan = spool.plan else { return }
        let name = Cgroup.name(plan)
        let v2 = "\(Cgroup.root)/chess/\(name)/cgroup.freeze"
        let v1 = "\(Cgroup.root)/freezer/chess/\(name)/freezer.state"
        if FileManager.default.fileExists(atPath: v2) {
            try? Cgroup.write(freeze ? "1" : "0", to: v2)
        } else if FileManager.default.fileExists(atPath: v1) {
            try? Cgroup.write(freeze ? "FROZEN" : "THAWED", to: v1)
        } else {
            kill(-pgid, sig)
        }
        // Steps on the job's other nodes are in groups of their own (those on the batch node
        // are frozen with it; a stop pending there is taken back by the resume's CONT).
        spool.signalJob(sig, batch: false)
        logger.info(freeze ? "suspended" : "resumed", metadata: ["job": "\(job)"])
    }

    /// `scancel --signal`: the signal to the job's process group (the batch script and what it
    /// started) and its steps' tasks, if the job still runs here.
    func send(_ s: SignalName, to job: Int, run: Int?) {
        signalMembers(of: job, [s.number])
        guard let spool = spool(job: job, run: run), !spool.exists("result.json"), spool.pid("job.pid") != nil else { return }
        spool.signalJob(s.number)
        logger.info("signal sent", metadata: ["job": "\(job)", "signal": "\(s)"])
    }

    /// Tells chessd about steps started or ended here (for `squeue -s`), in the background and
    /// in order (a short step's end must not overtake its start): a lost report only leaves the
    /// list behind until the job's end.
    func reportSteps(_ reports: [StepReport]) {
        guard let client = controllerClient?() else { return }
        stepReportQueue.async { [logger] in
            do {
                _ = try client.request("POST", "/v1/agent/step-reports", body: Data(try JSONEncoder().encode(reports)))
            } catch {
                logger.warning("cannot report steps", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Signals to the tasks of `job`'s steps on this agent's nodes when its batch script runs
    /// elsewhere (the controller sends a job's signals to all of its agents); `then` follows
    /// `after` seconds later to those still there.
    func signalMembers(of job: Int, _ signals: [Int32], then last: Int32? = nil, after seconds: Int = 0) {
        let groups = memberStepGroups(job)
        guard !groups.isEmpty else { return }
        for g in groups { for s in signals { kill(-g, s) } }
        if let last {
            DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) { [self] in
                for g in memberStepGroups(job) where groups.contains(g) { kill(-g, last) }
            }
        }
    }

    func registration(version: String, completions: [JobCompletion]) -> AgentRegistration {
        AgentRegistration(agent: id, version: version, nodes: nodes.map { AgentNodeReport(name: $0.name, topology: $0.topology.wire) },
                          running: runningJobs(), completions: completions)
    }
}
