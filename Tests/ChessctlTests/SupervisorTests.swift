import ChessAPI
import Foundation
import NodeSupervisor
import Spawning
import Testing

/// The real `chess-supervisor` binary, run on spool folders written here.
@Suite("chess-supervisor") struct SupervisorTests {
    /// Two clusters (or two emulating agents) on one host both have a job 1. When the short one
    /// ends, removing its cgroup must not kill the other's processes: each run has a group of
    /// its own. (Found when parallel end-to-end tests killed each other's job 1.)
    @Test func twoClustersJobOneDoNotShareACgroup() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func start(cluster: String, script: String) throws -> (JobSpool, ChildProcess) {
            let spool = JobSpool(spool: "\(dir)/\(cluster)", job: 1, run: 0)
            try spool.create()
            let launch = JobLaunch(job: 1, arrayJobID: nil, arrayTaskID: nil, name: "one", user: "root", uid: 0, gid: 0,
                                   account: "default", partition: "batch", script: script, workdir: spool.directory,
                                   output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                                   nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
            let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                                  clusterName: cluster)
            try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
            return (spool, try ChildProcess(builtBinary("chess-supervisor").path, [spool.directory]))
        }
        let (long, longProcess) = try start(cluster: "alpha", script: "#!/bin/sh\nsleep 2\necho survived\n")
        usleep(300_000)
        let (short, shortProcess) = try start(cluster: "beta", script: "#!/bin/sh\ntrue\n")
        for p in [shortProcess, longProcess] {
            let deadline = Date().addingTimeInterval(30)
            while p.isRunning, Date() < deadline { usleep(50_000) }
            p.signal(SIGKILL)
        }
        #expect(short.result?.state == "COMPLETED")
        #expect(long.result?.state == "COMPLETED", "\(String(describing: long.result))")
        #expect(String(decoding: long.read("out") ?? Data(), as: UTF8.self) == "survived\n")
    }

    /// The agent signals the process groups of the steps whose supervisor it believes alive, as
    /// root: a pid the kernel has since given to another process must not count, nor one whose
    /// arguments name another folder that merely starts with this one's name (step 10's, for
    /// step 1).
    @Test func aPidGivenToAnotherProcessIsNotTheSupervisor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = JobSpool(spool: dir, job: 3, run: 0)
        try spool.create()
        let step = JobSpool(directory: spool.stepDirectory(1))
        try FileManager.default.createDirectory(atPath: step.directory, withIntermediateDirectories: true)
        let other = try ChildProcess("/bin/sleep", ["30"])
        let sibling = try ChildProcess("/bin/sh", ["-c", "sleep 30; exit 0", step.directory + "0"], newProcessGroup: true)
        let stepSupervisor = try ChildProcess("/bin/sh", ["-c", "sleep 30; exit 0", step.directory], newProcessGroup: true)
        let jobSupervisor = try ChildProcess("/bin/sh", ["-c", "sleep 30; exit 0", spool.directory], newProcessGroup: true)
        defer {
            other.signal(SIGKILL)
            for p in [sibling, stepSupervisor, jobSupervisor] { p.signalGroup(SIGKILL) }  // the shells' sleeps too
            for p in [other, sibling, stepSupervisor, jobSupervisor] { p.waitUntilExit() }
        }
        // (`; exit 0`: a shell may exec the last command of `-c` in its place, and lose the
        // folder from its arguments.)
        usleep(100_000)
        func claim(_ folder: JobSpool, _ p: ChildProcess) throws {
            try folder.writeDurably("supervisor.pid", Data("\(p.processIdentifier)".utf8))
        }
        try claim(spool, other)
        #expect(!spool.supervisorAlive, "an unrelated process")
        try claim(spool, jobSupervisor)
        #expect(spool.supervisorAlive)
        // The same folder spelled otherwise (an agent restarted with `--spool DIR/` or a link).
        let otherSpelling = JobSpool(directory: dir + "//jobs/../jobs/3.0")
        #expect(otherSpelling.supervisorAlive)
        try step.writeDurably("tasks.pgid", Data("\(other.processIdentifier)".utf8))
        for p in [other, sibling] {
            try claim(step, p)
            #expect(!step.supervisorAlive && spool.runningSteps.isEmpty && spool.runningStepGroups.isEmpty, "\(p.processIdentifier)")
        }
        // Another user's process naming the folder (a pid reused by a user's process): its
        // arguments are that user's choosing, not a supervisor's.
        let foreign = try ChildProcess("/usr/sbin/runuser", ["-u", "nobody", "--", "/bin/sh", "-c", "sleep 30; exit 0", step.directory],
                                       newProcessGroup: true)
        defer { foreign.signalGroup(SIGKILL); foreign.waitUntilExit() }
        let started = Date().addingTimeInterval(10)
        while Date() < started, !((try? String(contentsOfFile: "/proc/\(foreign.processIdentifier)/cmdline", encoding: .utf8)) ?? "").contains("runuser") { usleep(10_000) }
        var pids = ((try? String(contentsOfFile: "/proc/\(foreign.processIdentifier)/task/\(foreign.processIdentifier)/children", encoding: .utf8)) ?? "")
        for _ in 0..<200 where pids.isEmpty {
            usleep(10_000)
            pids = (try? String(contentsOfFile: "/proc/\(foreign.processIdentifier)/task/\(foreign.processIdentifier)/children", encoding: .utf8)) ?? ""
        }
        let shell = try #require(Int32(pids.split(separator: " ").first ?? ""), "runuser's shell")
        try step.writeDurably("supervisor.pid", Data("\(shell)".utf8))
        #expect(!step.supervisorAlive, "a process of nobody's")
        try claim(step, stepSupervisor)
        #expect(step.supervisorAlive && spool.runningSteps.map(\.step) == [1])
        #expect(spool.runningStepGroups == [other.processIdentifier])
    }

    /// The agent signals a job's process group as root only while the pid in `job.pid` is still
    /// the process the supervisor started: same boot, same start time (`job.identity`). A spool
    /// folder from before a reboot names a pid the kernel may have given to anything since.
    @Test func aJobGroupIsSignalledOnlyWhileItIsStillTheJobs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = JobSpool(spool: dir, job: 4, run: 0)
        try spool.create()
        let launch = JobLaunch(job: 4, arrayJobID: nil, arrayTaskID: nil, name: "long", user: "root", uid: 0, gid: 0,
                               account: "default", partition: "batch", script: "#!/bin/sh\nsleep 30\n", workdir: spool.directory,
                               output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                               nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                              clusterName: "identity")
        try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        let supervisor = try ChildProcess(builtBinary("chess-supervisor").path, [spool.directory])
        defer {
            if let pgid = spool.pid("job.pid") { kill(-pgid, SIGKILL) }
            supervisor.signal(SIGKILL)
            supervisor.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(20)
        while !spool.exists("job.identity"), Date() < deadline { usleep(20_000) }
        let pgid = try #require(spool.pid("job.pid"))
        let recorded = try #require(ProcessIdentity(text: String(decoding: spool.read("job.identity") ?? Data(), as: UTF8.self)))
        #expect(ProcessIdentity.of(pgid) == recorded)
        #expect(spool.jobGroup == pgid)
        // The same pid in another boot, or started at another time, is another process.
        try spool.writeDurably("job.identity", Data("another-boot \(recorded.startTicks)".utf8))
        #expect(spool.jobGroup == nil)
        try spool.writeDurably("job.identity", Data("\(recorded.boot) \(recorded.startTicks + 1)".utf8))
        #expect(spool.jobGroup == nil)
        // Without the identity, only while the job's supervisor lives.
        try FileManager.default.removeItem(atPath: spool.path("job.identity"))
        try spool.writeDurably("supervisor.pid", Data("\(supervisor.processIdentifier)".utf8))
        #expect(spool.jobGroup == pgid)
        try spool.writeDurably("supervisor.pid", Data("1".utf8))
        #expect(spool.jobGroup == nil)
    }

    /// Root runs a job as root only when its plan says uid 0: a plan without a user id (an old
    /// record, a forged step) runs nothing.
    @Test func aPlanWithoutAUserIDRunsNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = JobSpool(spool: dir, job: 2, run: 0)
        try spool.create()
        let marker = dir + "/ran"
        let launch = JobLaunch(job: 2, arrayJobID: nil, arrayTaskID: nil, name: "anon", user: "root", uid: nil, gid: nil,
                               account: "default", partition: "batch", script: "#!/bin/sh\ntouch \(marker)\n", workdir: spool.directory,
                               output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                               nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                              clusterName: "anon")
        try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        try ChildProcess(builtBinary("chess-supervisor").path, [spool.directory]).waitUntilExit()
        #expect(spool.result?.state == "FAILED")
        #expect(spool.result?.reason?.contains("cannot become the job's user") == true, "\(String(describing: spool.result))")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A job's folder with a plan to run `script` as root; the supervisor not started yet.
    private func prepare(_ dir: String, job: Int, script: String, timeLimit: Int = 60, killWait: Int = 2) throws -> JobSpool {
        let spool = JobSpool(spool: dir, job: job, run: 0)
        try spool.create()
        let launch = JobLaunch(job: job, arrayJobID: nil, arrayTaskID: nil, name: "watch", user: "root", uid: 0, gid: 0,
                               account: "default", partition: "batch", script: script, workdir: spool.directory,
                               output: "out", error: nil, environment: [:], timeLimit: timeLimit, nodeList: "host",
                               nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: killWait,
                              clusterName: "watch-\(UUID().uuidString.prefix(6))")
        try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        return spool
    }

    private func supervise(_ spool: JobSpool) throws -> ChildProcess {
        try ChildProcess(builtBinary("chess-supervisor").path, [spool.directory])
    }

    /// The supervisor, once it has started the job (at most 10 s).
    private func superviseUntilStarted(_ spool: JobSpool) throws -> ChildProcess {
        let p = try supervise(spool)
        let deadline = Date().addingTimeInterval(10)
        while spool.pid("job.pid") == nil, Date() < deadline { usleep(20_000) }
        return p
    }

    /// Waits at most `seconds` for the supervisor to end; kills it past that.
    private func finish(_ p: ChildProcess, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.signal(SIGKILL)
            p.waitUntilExit()
            return false
        }
        return true
    }

    /// The agent sleeps until a supervisor rings the spool's bell: one ring per ended job,
    /// after its result is durable.
    @Test func aSupervisorRingsTheSpoolsBellOnceItsResultIsWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try prepare(dir, job: 3, script: "#!/bin/sh\ntrue\n")
        let bell = try SpoolBell(spool: dir)
        #expect(bell.wait(milliseconds: 0) == false)
        let p = try supervise(spool)
        #expect(finish(p, within: 30))
        #expect(spool.result?.state == "COMPLETED")
        #expect(bell.wait(milliseconds: 0) == true)
        // Swallowed: the next wait sleeps again.
        #expect(bell.wait(milliseconds: 0) == false)
        // Only root may ring it.
        var info = stat()
        #expect(stat(bell.path, &info) == 0 && info.st_mode & 0o077 == 0)
    }

    /// The supervisor sleeps until the job ends or its deadline comes, yet a new time limit
    /// the agent writes meanwhile (`chessctl update TimeLimit=`) is held at once.
    @Test func aShorterTimeLimitWrittenWhileTheSupervisorSleepsEndsTheJob() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try prepare(dir, job: 4, script: "#!/bin/sh\nsleep 120\n", timeLimit: 600, killWait: 1)
        let p = try superviseUntilStarted(spool)
        try spool.writeDurably("time-limit", Data("1\n".utf8))
        #expect(finish(p, within: 30), "the job outlived its new one-second limit by 30 s")
        #expect(spool.result?.state == "TIMEOUT", "\(String(describing: spool.result))")
    }

    /// A time limit no arithmetic can hold (Int.max seconds) is bounded, not trapped on: the
    /// job runs on and ends as itself.
    @Test func anEnormousTimeLimitInTheSpoolDoesNotStopTheSupervisor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try prepare(dir, job: 6, script: "#!/bin/sh\nsleep 1\n", timeLimit: 600)
        let p = try superviseUntilStarted(spool)
        try spool.writeDurably("time-limit", Data("9223372036854775807\n".utf8))
        #expect(finish(p, within: 30))
        #expect(p.terminationStatus == 0)
        #expect(spool.result?.state == "COMPLETED", "\(String(describing: spool.result))")
    }

    /// A cancel the agent writes (after signalling the job) wakes the supervisor, which sends
    /// KILL after the grace time to a job that ignores TERM.
    @Test func aCancelWrittenWhileTheSupervisorSleepsIsFollowedByKill() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = try prepare(dir, job: 5, script: "#!/bin/sh\ntrap '' TERM\nsleep 120 &\nwait\nwait\n", timeLimit: 600, killWait: 1)
        let p = try superviseUntilStarted(spool)
        usleep(200_000)
        try spool.writeDurably("cancel", Data("cancelled by the test".utf8))
        if let group = spool.pid("job.pid") { kill(-group, SIGTERM) }
        #expect(finish(p, within: 30), "a job that ignores TERM was not killed after the grace time")
        #expect(spool.result?.state == "CANCELLED", "\(String(describing: spool.result))")
        let log = String(decoding: spool.read("supervisor.log") ?? Data(), as: UTF8.self)
        #expect(log.contains("after TERM: KILL"), "\(log)")
    }

    /// The job's process takes the groups the agent resolved, as they are (`setgroups`): the
    /// static supervisor does not look the user up itself (`initgroups` would load NSS modules).
    @Test func aJobTakesTheGroupsItsPlanNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = JobSpool(spool: dir, job: 3, run: 0)
        try spool.create()
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let nobody = JobFilesEndToEndTests.nobody
        chown(work, nobody.uid, nobody.gid)
        chmod(dir, 0o755)
        let launch = JobLaunch(job: 3, arrayJobID: nil, arrayTaskID: nil, name: "groups", user: "nobody", uid: nobody.uid, gid: nobody.gid,
                               account: "default", partition: "batch", script: "#!/bin/sh\nid -G\nid -g\n", workdir: work,
                               output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                               nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                              clusterName: "groups", groups: [nobody.gid, 4242, 4343])
        try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        try ChildProcess(builtBinary("chess-supervisor").path, [spool.directory]).waitUntilExit()
        #expect(spool.result?.state == "COMPLETED", "\(String(describing: spool.result))")
        let out = String(decoding: FileManager.default.contents(atPath: work + "/out") ?? Data(), as: UTF8.self)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(out)")
        #expect(Set(lines.first?.split(separator: " ").map(String.init) ?? []) == ["\(nobody.gid)", "4242", "4343"], "\(out)")
        #expect(lines.last == "\(nobody.gid)", "\(out)")
    }

    /// Where a supervisor finds the bell from its folder: a job's run, a step in it, and a
    /// member step's folder on another agent.
    @Test func theBellIsFoundFromEveryKindOfFolder() {
        #expect(SpoolBell.spool(ofFolder: "/var/spool/chess/jobs/12.0") == "/var/spool/chess")
        #expect(SpoolBell.spool(ofFolder: "/var/spool/chess/jobs/12.1/steps/3") == "/var/spool/chess")
        #expect(SpoolBell.spool(ofFolder: "/var/spool/chess/steps/12.0.3") == "/var/spool/chess")
        // Written by hand since session 18 (not through URL): the forms a path can take.
        #expect(SpoolBell.spool(ofFolder: "/var/spool/chess/jobs/12.0/") == "/var/spool/chess")
        #expect(SpoolBell.spool(ofFolder: "/var/spool/./chess//jobs/12.0") == "/var/spool/chess")
        #expect(SpoolBell.spool(ofFolder: "/var/spool/x/../chess/jobs/12.1/steps/3") == "/var/spool/chess")
        #expect(SpoolBell.spool(ofFolder: "/jobs/1.0") == "/")
        #expect(SpoolBell.path(spool: "/var/spool/chess") == "/var/spool/chess/bell")
    }
}
