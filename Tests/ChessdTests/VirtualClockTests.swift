import ChessAPI
@testable import chessd
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
