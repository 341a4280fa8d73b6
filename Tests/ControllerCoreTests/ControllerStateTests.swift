import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// The controller's rules on the state alone: a pass's starts, time limits through COMPLETING,
/// silent agents, array ends. Times are plain seconds: the core reads no clock.
@Suite("Controller state") struct ControllerStateTests {
    @Test func aJobRunsToItsTimeLimitThroughCompleting() {
        var state = makeState()
        let id = submit(&state, cores: 4, limit: 60)
        let started = pass(&state, now: 10)
        #expect(state.records[id]?.job.state == .running)
        #expect(state.records[id]?.job.startTime == 10)
        #expect(state.pendingLaunches == [id])
        #expect(started.events.map(\.2) == ["started on n01"])
        #expect(state.startedCount == 1)

        // One second short of the limit: nothing; at it: COMPLETING, the agent told, cores held.
        var early = StateChanges()
        state.enforceTimeLimits(now: 69, changes: &early)
        #expect(early.isEmpty)
        var atLimit = StateChanges()
        state.enforceTimeLimits(now: 70, changes: &atLimit)
        #expect(state.records[id]?.job.state == .completing)
        #expect(state.records[id]?.job.allocation != nil)
        #expect(state.pendingTerminations.map(\.job) == [id])
        #expect(state.pendingTerminations.first?.reason == "time limit (00:01:00) reached")
        #expect(atLimit.ended.isEmpty)

        // The agent reports the processes gone: TIMEOUT at the time the controller ended it.
        var gone = StateChanges()
        state.complete(id, changes: &gone)
        #expect(state.records[id] == nil)
        #expect(state.finished[id] == FinishedJob(state: .timeout, exitCode: 0))
        #expect(gone.ended.map { gone.jobs[$0].id } == [id])
        #expect(gone.jobs.last?.job.endTime == 70)
        #expect(state.endedCounts[.timeout] == 1)
        // Fair share charged for 60 s of 4 cores.
        #expect(state.chargedAccounts == ["default"])
        #expect(state.ledger.usage["default", default: 0] > 0)
    }

    @Test func aSilentNodeGoesDownJustPastTheTimeoutAndItsJobIsRequeued() {
        var state = makeState(nodes: 1)
        let id = submit(&state)
        pass(&state, now: 0)
        state.nodes["n01"]!.lastHeartbeat = 100

        var atTimeout = StateChanges()
        state.checkHeartbeats(now: 130, timeout: 30, changes: &atTimeout)
        #expect(atTimeout.isEmpty)
        #expect(state.nodes["n01"]?.registered == true)

        var past = StateChanges()
        state.checkHeartbeats(now: 131, timeout: 30, changes: &past)
        #expect(past.notices == [.warning("node not responding", ["node": "n01"])])
        #expect(state.nodes["n01"]?.adminState == .down)
        #expect(state.nodes["n01"]?.reason == "Not responding: no heartbeat for more than 30s")
        #expect(past.nodes.map(\.0) == ["n01"])
        let r = state.records[id]
        #expect(r?.job.state == .pending)
        #expect(r?.job.allocation == nil)
        #expect(r?.requeueCount == 1)
        #expect(past.events.map(\.2) == ["node n01 not responding", "requeued"])
        #expect(state.finished.isEmpty)
        // The node being down, the next pass does not start the job again.
        pass(&state, now: 132)
        #expect(state.records[id]?.job.state == .pending)
    }

    @Test func aNoRequeueJobEndsNodeFailWithItsNode() {
        var state = makeState(nodes: 1)
        let id = submit(&state, requeue: false)
        pass(&state, now: 0)
        var changes = StateChanges()
        state.checkHeartbeats(now: 31, timeout: 30, changes: &changes)
        #expect(state.finished[id] == FinishedJob(state: .nodeFail, exitCode: 0))
        #expect(changes.ended.map { changes.jobs[$0].id } == [id])
        // The agent is gone: no termination is sent to it.
        #expect(state.pendingTerminations.isEmpty)
    }

    @Test func anArrayEndsWithItsLastTaskAndMailsOneSummary() {
        var state = makeState()
        let array = submit(&state, cores: 16, array: [0, 1], mail: MailRequest(types: [.end], recipient: "alice@example.org"))
        pass(&state, now: 0)
        let tasks = state.records.keys.filter { $0 != array }.sorted()
        #expect(tasks.count == 2)
        #expect(state.records[array]?.job.array?.pending == [])

        var first = StateChanges()
        state.finish(tasks[0], state: .completed, exitCode: 0, reason: "exited with 0", now: 5, changes: &first, notifyAgent: false)
        #expect(state.records[array] != nil)
        #expect(state.pendingMail.isEmpty)

        var last = StateChanges()
        state.finish(tasks[1], state: .failed, exitCode: 3, reason: "exit code 3", now: 7, changes: &last, notifyAgent: false)
        #expect(state.records[array] == nil)
        #expect(state.finished[array] == FinishedJob(state: .failed, exitCode: 1))
        #expect(last.events.map(\.2) == ["exit code 3", "all tasks ended"])
        // One mail for the array (END was asked for, FAIL not), with the tasks' exit codes.
        #expect(state.pendingMail.count == 1)
        #expect(state.pendingMail.first?.subject.contains("ExitCode [0-3]") == true)
        #expect(state.arrayExits[array] == nil)
    }

    @Test func aCancelOfARunningJobWaitsForItsAgentAndAnUnregisteredOneEndsAtOnce() {
        var state = makeState()
        // A whole node each, so that one node's agent can be gone and the other's not.
        let a = submit(&state, cores: 16)
        let b = submit(&state, cores: 16)
        pass(&state, now: 0)
        let nodeOfB = state.records[b]!.job.allocation!.nodes[0].node
        state.nodes[nodeOfB]!.registered = false

        var changes = StateChanges()
        state.finish(a, state: .cancelled, exitCode: 0, reason: "cancelled by alice", now: 3, changes: &changes)
        state.finish(b, state: .cancelled, exitCode: 0, reason: "cancelled by alice", now: 3, changes: &changes)
        #expect(state.records[a]?.job.state == .completing)
        #expect(state.finished[b] == FinishedJob(state: .cancelled, exitCode: 0))
        #expect(changes.ended.map { changes.jobs[$0].id } == [b])
        #expect(state.pendingTerminations.map(\.job).sorted() == [a, b])
    }
}
