import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// `chessctl update` on the state alone: Slurm's rules on who may change what.
@Suite("Job updates on the state") struct JobUpdateTests {
    static let alice = Identity(user: "alice", uid: 1000, gid: 1000, admin: false)
    static let root = Identity(user: "root", uid: 0, gid: 0, admin: true)

    static func update(_ state: inout ControllerState, _ id: JobID, _ u: JobUpdate, as who: Identity) throws(APIError) -> [(JobRecord, String)] {
        try state.update(JobReference(id: id, task: nil), u, who, now: 10, defaultPartition: "batch", mailDomain: nil)
    }

    @Test func anOwnerShortensARunningJobsLimitAndTheAgentIsToldOnlyAnAdministratorLengthensIt() throws {
        var state = makeState()
        let id = submit(&state, limit: 600)
        pass(&state, now: 0)
        let shorter = try Self.update(&state, id, JobUpdate(timeLimit: 300), as: Self.alice)
        #expect(shorter.map(\.1) == ["time limit 00:05:00"])
        #expect(state.records[id]?.job.request.timeLimit == 300)
        #expect(state.pendingTimeLimits.map(\.seconds) == [300])
        #expect(throws: APIError.self) { try Self.update(&state, id, JobUpdate(timeLimit: 900), as: Self.alice) }
        _ = try Self.update(&state, id, JobUpdate(timeLimit: 900), as: Self.root)
        #expect(state.records[id]?.job.request.timeLimit == 900)
    }

    @Test func aNameLosesItsBlanksAndOneSpanningLinesIsRefused() throws {
        var state = makeState()
        let id = submit(&state)
        let renamed = try Self.update(&state, id, JobUpdate(name: " \tlong run\u{00A0} "), as: Self.alice)
        #expect(renamed.first?.0.job.name == "long run")
        #expect(throws: APIError.self) { try Self.update(&state, id, JobUpdate(name: "two\nlines"), as: Self.alice) }
        #expect(throws: APIError.self) { try Self.update(&state, id, JobUpdate(name: " \t "), as: Self.alice) }
        #expect(state.records[id]?.job.name == "long run")
    }

    @Test func nothingChangesUnlessEveryRecordTakesTheChange() throws {
        var state = makeState()
        let id = submit(&state)
        // A priority is an administrator's; the name in the same update is not applied either.
        #expect(throws: APIError.self) { try Self.update(&state, id, JobUpdate(name: "other", priority: 5), as: Self.alice) }
        #expect(state.records[id]?.job.name == "job")
        #expect(state.records[id]?.job.priorityOverride == nil)
        #expect(throws: APIError.self) { try Self.update(&state, id, JobUpdate(partition: "nowhere"), as: Self.alice) }
        #expect(state.records[id]?.job.partition == "batch")
    }
}
