import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// Job actions on the state alone: who may, what each does, what each refuses.
@Suite("Job actions on the state") struct JobActionTests {
    static let alice = Identity(user: "alice", uid: 1000, gid: 1000, admin: false)
    static let bob = Identity(user: "bob", uid: 1001, gid: 1001, admin: false)
    static let root = Identity(user: "root", uid: 0, gid: 0, admin: true)

    @Test func onlyTheOwnerOrAnAdministratorActsAndOnlyAnAdministratorSuspends() throws {
        var state = makeState()
        let id = submit(&state)
        pass(&state, now: 0)
        var changes = StateChanges()
        #expect(throws: APIError.self) { try state.perform(.cancel, JobReference(id: id, task: nil), Self.bob, now: 1, changes: &changes) }
        let refused = try? state.perform(.suspend, JobReference(id: id, task: nil), Self.alice, now: 1, changes: &changes)
        #expect(refused == nil)
        #expect(changes.isEmpty)
        #expect(state.records[id]?.job.state == .running)

        let suspended = try state.perform(.suspend, JobReference(id: id, task: nil), Self.root, now: 2, changes: &changes)
        #expect(suspended.state == "SUSPENDED")
        #expect(state.pendingSignals.map(\.kind) == ["suspend"])
        _ = try state.perform(.resume, JobReference(id: id, task: nil), Self.root, now: 3, changes: &changes)
        #expect(state.records[id]?.job.state == .running)
        #expect(changes.events.map(\.2) == ["suspended by root", "resumed by root"])
    }

    @Test func cancellingOneWaitingTaskLeavesTheRestOfItsArray() throws {
        var state = makeState()
        let array = submit(&state, array: [0, 1, 2])
        state.records[array]!.job.hold = true
        var changes = StateChanges()
        _ = try state.perform(.cancel, JobReference(id: array, task: 1), Self.alice, now: 5, changes: &changes)
        #expect(state.records[array]?.job.array?.pending == [0, 2])
        #expect(changes.events.map(\.2) == ["task 1 cancelled by alice"])
        // A hold applies to the whole array until a task starts.
        #expect(throws: APIError.self) { try state.perform(.hold, JobReference(id: array, task: 2), Self.alice, now: 5, changes: &changes) }
        // Cancelling the rest ends the array record (no task ever ran: CANCELLED).
        _ = try state.perform(.cancel, JobReference(id: array, task: nil), Self.alice, now: 6, changes: &changes)
        #expect(state.records[array] == nil)
        #expect(state.finished[array] == FinishedJob(state: .cancelled, exitCode: 1))
    }

    @Test func aRequeueWaitsForTheAgentAndANoRequeueJobRefusesIt() throws {
        var state = makeState()
        let a = submit(&state, cores: 16)
        let b = submit(&state, cores: 16, requeue: false)
        pass(&state, now: 0)
        var changes = StateChanges()
        _ = try state.perform(.requeue, JobReference(id: a, task: nil), Self.alice, now: 4, changes: &changes)
        #expect(state.records[a]?.job.state == .completing)
        #expect(state.records[a]?.pendingEnd?.state == .requeued)
        #expect(throws: APIError.self) { try state.perform(.requeue, JobReference(id: b, task: nil), Self.alice, now: 4, changes: &changes) }
        // The agent reports the processes gone: back in the queue, counted as a restart.
        state.complete(a, changes: &changes)
        #expect(state.records[a]?.job.state == .pending)
        #expect(state.records[a]?.requeueCount == 1)
    }

    @Test func aSignalReachesOnlyRunningJobs() throws {
        var state = makeState(nodes: 1)
        let running = submit(&state, cores: 16)
        let waiting = submit(&state, cores: 16)
        pass(&state, now: 0)
        var changes = StateChanges()
        let usr1 = try #require(SignalName("USR1"))
        #expect(throws: APIError.self) { try state.signal(usr1, JobReference(id: waiting, task: nil), Self.alice, changes: &changes) }
        _ = try state.signal(usr1, JobReference(id: running, task: nil), Self.alice, changes: &changes)
        #expect(state.pendingSignals.map(\.kind) == ["signal"])
        #expect(state.pendingSignals.first?.signal == "USR1")
    }
}

/// Time suspended does not count against a job's time limit (as in Slurm), in the controller's
/// enforcement and in what its supervisor is told.
@Suite("Suspended time") struct SuspendedTimeTests {
    static let root = Identity(user: "root", uid: 0, gid: 0, admin: true)

    @Test func aJobSuspendedForAHundredSecondsRunsAHundredSecondsLonger() throws {
        var state = makeState()
        let id = submit(&state, limit: 60)
        pass(&state, now: 0)
        var changes = StateChanges()
        _ = try state.perform(.suspend, JobReference(id: id, task: nil), Self.root, now: 30, changes: &changes)
        // While suspended the supervisor's deadline is as far as it goes; on resume, the limit
        // plus the time suspended.
        #expect(state.pendingTimeLimits.map(\.seconds) == [JobRecord.farthestTimeLimit])
        // While suspended its run time stands still.
        let suspended = try #require(state.records[id]).info(state.index)
        #expect(QueueColumns.cell(.time, suspended, now: 100) == "0:30")
        state.enforceTimeLimits(now: 120, changes: &changes)
        #expect(state.records[id]?.job.state == .suspended)
        _ = try state.perform(.resume, JobReference(id: id, task: nil), Self.root, now: 130, changes: &changes)
        #expect(state.pendingTimeLimits.map(\.seconds) == [JobRecord.farthestTimeLimit, 160])
        // What squeue shows: 50 s run at 150 s (100 s suspended), 10 s left, ending at 160.
        let record = try #require(state.records[id])
        #expect(record.runSeconds(at: 150) == 50)
        let info = record.info(state.index)
        #expect(QueueColumns.cell(.time, info, now: 150) == "0:50")
        #expect(QueueColumns.cell(.timeLeft, info, now: 150) == "0:10")
        #expect(QueueColumns.cell(.end, info, now: 150) == SlurmTime.timestamp(160))
        state.enforceTimeLimits(now: 159, changes: &changes)
        #expect(state.records[id]?.job.state == .running)
        state.enforceTimeLimits(now: 160, changes: &changes)
        #expect(state.records[id]?.job.state == .completing)
    }

    @Test func aRequeuedRunStartsWithNoSuspendedTime() throws {
        var state = makeState(nodes: 1)
        let id = submit(&state, limit: 60)
        pass(&state, now: 0)
        var changes = StateChanges()
        _ = try state.perform(.suspend, JobReference(id: id, task: nil), Self.root, now: 10, changes: &changes)
        _ = try state.perform(.resume, JobReference(id: id, task: nil), Self.root, now: 50, changes: &changes)
        #expect(state.records[id]?.suspension == JobRecord.Suspension(seconds: 40, since: nil))
        state.checkHeartbeats(now: 100, timeout: 30, changes: &changes)
        #expect(state.records[id]?.job.state == .pending)
        #expect(state.records[id]?.suspension == nil)
    }
}
