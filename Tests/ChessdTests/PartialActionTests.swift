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
