import ChessAPI
@testable import chessd
import ControllerCore
import Glibc
import SchedulerCore
import Testing

/// The controller's timed rules in process, on a clock the test moves (`ControllerHarness`):
/// what the end-to-end tests can only check by starting daemons and sleeping through short
/// timeouts, checked here at the second, with the real store underneath.
@Suite("controller on a virtual clock") struct VirtualClockTests {
    /// The commands one heartbeat of `agent` collects, by kind.
    func commands(_ h: ControllerHarness, _ agent: String) throws -> [String: [AgentCommand]] {
        Dictionary(grouping: try h.heartbeat(agent).commands, by: \.kind)
    }

    func node(_ h: ControllerHarness, _ name: String) throws -> NodeInfo {
        try #require(h.controller.nodeInfos().first { $0.name == name })
    }

    /// A held job cannot start: its submit asks for no scheduling pass (over a long queue a pass
    /// per `sbatch -H` took half a core), a plain submit and the release do.
    @Test func aHeldSubmitAsksForNoPassItsReleaseDoes() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1"])
        h.controller.passRequested = false
        let held = try h.submit { $0.hold = true }
        #expect(!h.controller.passRequested)
        _ = try h.perform(.release, held)
        #expect(h.controller.passRequested)
        h.controller.passRequested = false
        _ = try h.submit()
        #expect(h.controller.passRequested)
        h.pass()
        #expect(try h.state(held) == "RUNNING")
    }

    @Test func aJobIsLaunchedThroughItsAgentAndEndsWithItsReport() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        let id = try h.submit()
        #expect(try h.state(id) == "PENDING")
        h.pass()
        let info = try h.job(id)
        #expect(info.state == "RUNNING")
        #expect(info.nodeList == "n1")
        #expect(info.startTime == h.clock.now())
        let launch = try #require(try commands(h, "host1")["launch"]?.first)
        #expect(launch.job == id)
        #expect(launch.launch?.script == "#!/bin/sh\ntrue\n")
        #expect(try commands(h, "host2").isEmpty)

        h.advance(42)
        let answer = try h.heartbeat("host1", completions: [h.completion(id)])
        #expect(answer.acknowledged == [id])
        let ended = try h.job(id)
        #expect(ended.state == "COMPLETED")
        #expect(ended.endTime == h.clock.now())
        // Reported again (the acknowledgement was lost): acknowledged again, counted once.
        #expect(try h.heartbeat("host1", completions: [h.completion(id)]).acknowledged == [id])
        #expect(try h.events(id).filter { $0.hasPrefix("COMPLETED") }.count == 1)
    }

    @Test func theTimeLimitEndsAJobAtItsSecondThroughCompleting() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        let id = try h.submit { $0.timeLimit = 120 }
        h.pass()
        _ = try commands(h, "host1")  // the launch

        // Its agent heartbeats meanwhile (a silent one would lose its nodes at 90 s).
        h.advance(60)
        #expect(try commands(h, "host1").isEmpty)
        h.advance(59)
        h.pass()
        #expect(try h.state(id) == "RUNNING")
        #expect(try commands(h, "host1").isEmpty)

        h.advance(1)
        h.pass()
        // The controller asks the agent to stop it, and waits for its processes to be gone.
        #expect(try h.state(id) == "COMPLETING")
        let stop = try #require(try commands(h, "host1")["terminate"]?.first)
        #expect(stop.job == id)
        #expect(stop.reason?.contains("time limit") == true)
        // Its nodes are not given to another job meanwhile.
        let next = try h.submit { $0.nodes = 2; $0.exclusive = true }
        h.pass()
        #expect(try h.state(next) == "PENDING")

        h.advance(3)
        _ = try h.heartbeat("host1", completions: [h.completion(id, state: "CANCELLED", exitCode: 143)])
        let ended = try h.job(id)
        #expect(ended.state == "TIMEOUT")
        #expect(ended.reason?.contains("time limit (00:02:00) reached") == true)
        h.pass()
        #expect(try h.state(next) == "RUNNING")
    }

    @Test func aSilentAgentsNodesGoDownAtTheTimeoutAndTheirJobsRunElsewhere() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        let id = try h.submit()
        h.pass()
        #expect(try h.job(id).nodeList == "n1")
        _ = try commands(h, "host1")

        // host1 falls silent; host2 heartbeats. At 90 s (the timeout) nothing has happened yet.
        for _ in 0..<3 {
            h.advance(30)
            _ = try h.heartbeat("host2")
            h.pass()
        }
        #expect(try node(h, "n1").state != "down")
        #expect(try h.state(id) == "RUNNING")

        h.advance(1)
        _ = try h.heartbeat("host2")
        h.pass()
        #expect(try node(h, "n1").state == "down")
        #expect(try node(h, "n1").reason == "Not responding: no heartbeat for more than 90s")
        #expect(try node(h, "n2").state == "down")
        #expect(try node(h, "n3").state != "down")
        #expect(try h.events(id).contains { $0.contains("node n1 not responding") })

        // Back in the queue, it runs again on the node whose agent still answers: run 1.
        h.pass()
        let again = try h.job(id)
        #expect(again.state == "RUNNING")
        #expect(again.nodeList == "n3")
        let launch = try #require(try commands(h, "host2")["launch"]?.first)
        #expect(launch.job == id)
        // host1 comes back and reports the first run ended: that report does not end run 1.
        h.register("host1", ["n1", "n2"], completions: [h.completion(id, run: 0)])
        #expect(try h.state(id) == "RUNNING")
        _ = try h.heartbeat("host2", completions: [h.completion(id, run: 1)])
        #expect(try h.state(id) == "COMPLETED")
    }

    /// After chessd restarts, each node gets one heartbeat timeout to be registered again: an
    /// agent that comes back keeps its job running (no second launch); the job of one that does
    /// not is given up at the timeout and runs again elsewhere.
    @Test func afterARestartNodesHaveOneTimeoutToComeBack() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        let kept = try h.submit { $0.ntasks = 8 }
        let lost = try h.submit { $0.ntasks = 8 }
        let orphan = try h.submit { $0.ntasks = 8 }
        h.pass()
        #expect(try [kept, lost, orphan].map { try h.job($0).nodeList } == ["n1", "n2", "n3"])
        _ = try commands(h, "host1")
        _ = try commands(h, "host2")

        h.advance(10)
        try h.restart()
        #expect(try [kept, lost, orphan].map { try h.state($0) } == ["RUNNING", "RUNNING", "RUNNING"])
        h.advance(60)
        h.pass()
        #expect(try h.state(orphan) == "RUNNING")
        // host1 is back with `kept` running; `lost` it does not know: its launch was lost.
        let back = h.register("host1", ["n1", "n2"], running: [kept])
        #expect(back.terminate.isEmpty)
        #expect(try h.state(kept) == "RUNNING")
        #expect(try h.state(lost) == "PENDING")
        #expect(try h.events(lost).contains { $0.contains("launch lost") })
        h.pass()
        #expect(try h.state(lost) == "RUNNING")
        #expect((try commands(h, "host1")["launch"] ?? []).map(\.job) == [lost])

        // host2 does not come back: at the timeout its node's job is given up.
        h.advance(20)
        _ = try h.heartbeat("host1")
        h.pass()
        #expect(try h.state(orphan) == "RUNNING")
        h.advance(11)
        _ = try h.heartbeat("host1")
        h.pass()
        #expect(try h.state(orphan) == "PENDING")
        #expect(try h.events(orphan).contains { $0.contains("node n3 not responding") })
        #expect(try h.state(kept) == "RUNNING")
    }

    @Test func aRequeuedJobWaitsForItsAgentThenRunsAgain() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        let id = try h.submit()
        h.pass()
        _ = try commands(h, "host1")
        h.advance(10)
        #expect(try h.perform(.requeue, id).state == "COMPLETING")
        #expect(try commands(h, "host1")["terminate"]?.first?.job == id)
        h.advance(5)
        h.pass()
        #expect(try h.state(id) == "COMPLETING")  // not started twice while its processes may run

        _ = try h.heartbeat("host1", completions: [h.completion(id, state: "CANCELLED", exitCode: 143)])
        #expect(try h.state(id) == "PENDING")
        h.pass()
        #expect(try h.state(id) == "RUNNING")
        let launch = try #require(try commands(h, "host1")["launch"]?.first)
        #expect(launch.launch?.run == 1)
        #expect(try h.events(id).contains { $0.hasPrefix("REQUEUED") })
    }
}

/// Preemption with a grace time, each mode, on one node: what the victim's agent is told and
/// when the preemptor gets the node.
@Suite("preemption on a virtual clock") struct PreemptionClockTests {
    static func config(mode: String) -> String {
        ControllerHarness.header + """
        [scheduler]
        policy = "easy"
        preemption = true
        [[nodes]]
        names = "n1"
        sockets = 2
        cores_per_socket = 4
        memory_mb = 16000
        agent = "host1"
        [[partitions]]
        name = "batch"
        nodes = "n1"
        default_time = "1:00:00"
        [[qos]]
        name = "normal"
        [[qos]]
        name = "high"
        priority = 100
        preempt = ["spot"]
        [[qos]]
        name = "spot"
        preempt_mode = "\(mode)"
        grace_time = 60
        """
    }

    func commands(_ h: ControllerHarness) throws -> [String: [AgentCommand]] {
        Dictionary(grouping: try h.heartbeat("host1").commands, by: \.kind)
    }

    /// The spot job running on all the node's cores, and a high job that preempts it, requested
    /// now. Each asks for little memory: a suspended job keeps its memory.
    func preempting(_ mode: String) throws -> (ControllerHarness, victim: Int, preemptor: Int) {
        let h = try ControllerHarness(config: Self.config(mode: mode))
        h.register("host1", ["n1"])
        let victim = try h.submit { $0.qos = "spot"; $0.ntasks = 8; $0.memMB = 1_000 }
        h.pass()
        #expect(try commands(h)["launch"]?.first?.job == victim)
        h.advance(10)
        let preemptor = try h.submit { $0.qos = "high"; $0.ntasks = 8; $0.memMB = 1_000 }
        h.pass()
        #expect(try h.events(victim).contains { $0.contains("preemption requested for job \(preemptor)") })
        // The grace time: the victim runs on, the preemptor waits.
        h.advance(59)
        _ = try commands(h)
        h.pass()
        #expect(try h.state(victim) == "RUNNING")
        #expect(try h.state(preemptor) == "PENDING")
        h.advance(1)
        h.pass()
        return (h, victim, preemptor)
    }

    @Test func cancelStopsTheVictimThroughCompletingBeforeThePreemptorStarts() throws {
        let (h, victim, preemptor) = try preempting("cancel")
        #expect(try h.state(victim) == "COMPLETING")
        #expect(try commands(h)["terminate"]?.first?.job == victim)
        h.pass()
        #expect(try h.state(preemptor) == "PENDING")
        _ = try h.heartbeat("host1", completions: [h.completion(victim, state: "CANCELLED", exitCode: 143)])
        #expect(try h.state(victim) == "PREEMPTED")
        h.pass()
        #expect(try h.state(preemptor) == "RUNNING")
    }

    /// Requeue: the victim's processes are stopped (its agent told), and the node is the
    /// preemptor's only once they are gone; the victim waits in the queue for its next run.
    @Test func requeueStopsTheVictimBeforeThePreemptorStartsAndQueuesIt() throws {
        let (h, victim, preemptor) = try preempting("requeue")
        #expect(try h.state(victim) == "COMPLETING")
        let stop = try #require(try commands(h)["terminate"]?.first)
        #expect(stop.job == victim)
        #expect(stop.run == 0)
        h.pass()
        #expect(try h.state(preemptor) == "PENDING")

        _ = try h.heartbeat("host1", completions: [h.completion(victim, state: "CANCELLED", exitCode: 143)])
        #expect(try h.state(victim) == "PENDING")
        h.pass()
        #expect(try h.state(preemptor) == "RUNNING")
        #expect(try h.state(victim) == "PENDING")
        #expect(try h.events(victim).contains { $0.contains("requeued by preemption") })
        #expect(try commands(h)["launch"]?.first?.job == preemptor)
    }

    /// Suspend: the victim's processes are stopped where they are (its agent told), the
    /// preemptor runs, and once it ends the victim is resumed (its agent told again).
    @Test func suspendStopsTheVictimAndResumesItWhenThePreemptorEnds() throws {
        let (h, victim, preemptor) = try preempting("suspend")
        // In the same pass: the victim suspended, the preemptor started; the agent is told in
        // that order (one heartbeat's commands).
        #expect(try h.state(victim) == "SUSPENDED")
        #expect(try h.state(preemptor) == "RUNNING")
        let commands = try h.heartbeat("host1").commands
        #expect(commands.map { "\($0.kind) \($0.job)" } == ["suspend \(victim)", "time-limit \(victim)", "launch \(preemptor)"])
        // Suspended time does not count against its limit: its supervisor's deadline goes as far
        // as it can until the job is resumed.
        #expect(commands.first { $0.kind == "time-limit" }?.timeLimit == JobRecord.farthestTimeLimit)

        h.advance(30)
        _ = try h.heartbeat("host1", completions: [h.completion(preemptor)])
        #expect(try h.state(preemptor) == "COMPLETED")
        h.pass()
        #expect(try h.state(victim) == "RUNNING")
        let resumed = try self.commands(h)
        #expect(resumed["resume"]?.first?.job == victim)
        // Its limit, plus the 30 s it was suspended.
        let limit = try #require(try h.job(victim).timeLimit)
        #expect(resumed["time-limit"]?.first?.timeLimit == limit + 30)
    }
}

/// An advance reservation: its nodes are kept free for it before it starts, and its jobs run
/// from its start, not before.
@Suite("reservations on a virtual clock") struct ReservationClockTests {
    @Test func aReservationsJobsWaitForItsStartAndOthersKeepOffItsNodes() throws {
        let start = 1_790_000_000
        let user = Identity.local(uid: getuid(), gid: getgid(), operators: []).user
        let config = ControllerHarness.config + """

            [[reservations]]
            name = "maint"
            nodes = "n1"
            start = \(start + 100)
            end = \(start + 400)
            users = ["\(user)"]
            """
        let h = try ControllerHarness(config: config, clock: ManualClock(start))
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        let reserved = try h.submit { $0.reservation = "maint"; $0.timeLimit = 60; $0.ntasks = 8 }
        // An hour long: it would still run at the reservation's start, so not on n1.
        let long = try h.submit { $0.timeLimit = 3_600; $0.ntasks = 8 }
        // Done before the reservation starts: n1 is free until then.
        let short = try h.submit { $0.timeLimit = 90; $0.ntasks = 8 }
        h.pass()
        let waiting = try h.job(reserved)
        #expect(waiting.state == "PENDING")
        #expect(waiting.reason == "Reservation")
        #expect(try h.job(long).nodeList != nil && h.job(long).nodeList != "n1")
        #expect(try h.job(short).nodeList == "n1")

        h.advance(60)
        _ = try h.heartbeat("host1")
        _ = try h.heartbeat("host2")
        h.pass()
        #expect(try h.state(reserved) == "PENDING")
        _ = try h.heartbeat("host1", completions: [h.completion(short)])
        h.advance(39)
        h.pass()
        #expect(try h.state(reserved) == "PENDING")
        h.advance(1)
        _ = try h.heartbeat("host1")
        _ = try h.heartbeat("host2")
        h.pass()
        let running = try h.job(reserved)
        #expect(running.state == "RUNNING")
        #expect(running.nodeList == "n1")
        #expect(running.startTime == start + 100)
    }
}
