import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// What the state owes agents after a change, addressed, taken once.
@Suite("Agent commands from the state") struct AgentCommandTests {
    @Test func aStartedArrayTaskIsLaunchedOnItsBatchAgentWithItsArraysBounds() throws {
        var state = QueryAndStepTests.fourNodeJob().0
        let array = submit(&state, cores: 16, nodes: 2, array: [3, 5, 7])
        state.records[array]?.arrayExpression = "3-7:2"
        state.pendingLaunches.removeAll()
        state.records.keys.filter { $0 != array && state.records[$0]?.job.arrayJobID == nil }.forEach { state.records[$0] = nil }
        pass(&state, now: 1)
        let out = state.takeOutgoing()
        #expect(out.launches.count == 2)
        #expect(Set(out.launches.map(\.agent)) == ["host-a", "host-b"])
        let first = try #require(out.launches.first)
        #expect(first.arrayBounds.map { [$0.count, $0.min, $0.max] } == [3, 3, 7])
        let launch = try #require(first.record.launch(script: "#!/bin/sh\n", environment: ["A": "1"], clusterName: "test"))
        #expect(launch.nodes.count == 2 && launch.tasks == 2 && launch.cpusPerTask == 16)
        #expect(launch.nodeList == HostList.compress(first.record.job.allocation?.nodeNames ?? []))
        #expect(launch.environment == ["A": "1"])
        // Taken once.
        #expect(state.takeOutgoing().isEmpty)
    }

    @Test func aCancelTerminatesOnEveryAgentOfTheJobsNodesAndATimeLimitGoesToTheBatchAgent() throws {
        var (state, id, _) = QueryAndStepTests.fourNodeJob()
        _ = state.takeOutgoing()
        var changes = StateChanges()
        _ = try state.perform(.cancel, JobReference(id: id, task: nil), JobActionTests.alice, now: 5, changes: &changes)
        state.pendingTimeLimits.append((job: id, node: "n03", seconds: 60, run: 0))
        let out = state.takeOutgoing()
        #expect(out.commands.filter { $0.command.kind == "terminate" }.map(\.agent) == ["host-a", "host-b"])
        #expect(out.commands.filter { $0.command.kind == "time-limit" }.map(\.agent) == ["host-b"])
        #expect(out.commands.allSatisfy { $0.command.job == id })
        #expect(state.pendingTerminations.isEmpty && state.pendingTimeLimits.isEmpty)
    }

    @Test func aLaunchOfAJobThatEndedBeforeTheCommitIsDropped() {
        var state = makeState()
        let id = submit(&state)
        pass(&state, now: 0)
        #expect(state.pendingLaunches == [id])
        var changes = StateChanges()
        state.finish(id, state: .cancelled, exitCode: 0, reason: "cancelled", now: 1, changes: &changes, notifyAgent: false)
        #expect(state.takeOutgoing().launches.isEmpty)
    }
}
