import ChessAPI
@testable import chessd
import ControllerCore
import SchedulerCore
import Testing

/// An action over an array that some of its records refuse (as Slurm's, it applies to those that
/// take it): what it changed is stored, so memory and the store agree after a restart.
@Suite("partly refused actions") struct PartialActionTests {
    @Test func aHoldRefusedByARunningTaskKeepsTheArraysHoldAcrossARestart() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        // Three whole-node tasks on two registered nodes: two run, one waits.
        let array = try h.submit { $0.array = "0-2"; $0.cpusPerTask = 8 }
        h.pass()
        #expect(h.controller.queue(.init(ids: [array])).filter { $0.state == "RUNNING" }.count == 2)
        #expect(throws: APIError.self) { try h.perform(.hold, array) }
        // The waiting task's record took the hold, in memory…
        #expect(try h.job(array).reason == "JobHeldUser")
        // …and in the store.
        try h.restart()
        #expect(try h.job(array).reason == "JobHeldUser")
    }
}

/// An array's outcome is its tasks' (FAILED when one failed, with their exit codes' range in its
/// summary mail), whether or not chessd restarted between them.
@Suite("array outcomes across a restart") struct ArrayRestartTests {
    @Test func aTaskThatFailedBeforeARestartStillFailsTheArray() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1"])
        // Two whole-node tasks on one node: the first runs, the second waits for it.
        let array = try h.submit { $0.array = "0-1"; $0.cpusPerTask = 8 }
        h.pass()
        let first = try #require(h.controller.queue(.init(ids: [array])).first { $0.state == "RUNNING" }?.id)
        h.advance(5)
        _ = try h.heartbeat("host1", completions: [h.completion(first, state: "FAILED", exitCode: 3)])
        #expect(try h.state(first) == "FAILED")

        try h.restart()
        h.register("host1", ["n1"])
        h.pass()
        let second = try #require(h.controller.queue(.init(ids: [array])).first { $0.state == "RUNNING" }?.id)
        h.advance(5)
        _ = try h.heartbeat("host1", completions: [h.completion(second)])
        #expect(try h.state(array) == "FAILED")
    }
}
