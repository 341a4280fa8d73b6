import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// The configuration read again, and runtime changes, on the state alone.
@Suite("Reconfiguration on the state") struct ReconfigurationTests {
    static func cluster(_ names: [String], cores: Int = 8) -> Cluster {
        let nodes = names.map { Node(name: $0, topology: .uniform(sockets: 2, coresPerSocket: cores, memoryMB: 64_000)) }
        return Cluster(nodes: nodes, partitions: [Partition(name: "batch", nodes: names, maxTime: 86400)], qos: [QoS(name: "normal")])
    }

    /// Two registered nodes (host-a's), probed with 16 cores each.
    static func registered() -> ControllerState {
        var state = AgentReportTests.unregistered()
        var changes = StateChanges()
        _ = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [
            AgentNodeReport(name: "n01", topology: AgentReportTests.probe()), AgentNodeReport(name: "n02", topology: AgentReportTests.probe()),
        ]), now: 0, changes: &changes)
        return state
    }

    @Test func aNodeThatRunsAJobCannotLeaveTheFileAndNothingChanges() {
        var state = Self.registered()
        let id = submit(&state, cores: 16, limit: 600)
        pass(&state, now: 1)
        let held = state.records[id]?.job.allocation?.nodeNames ?? []
        #expect(held.count == 1)
        let kept = ["n01", "n02"].filter { !held.contains($0) }
        var changes = StateChanges()
        #expect(throws: APIError.self) {
            try state.reconfigureNodes(file: Self.cluster(kept), effective: Self.cluster(kept), nodeAgents: [:], fairShareHalfLife: 1,
                                       source: "chess.toml", changes: &changes)
        }
        #expect(state.nodes.keys.sorted() == ["n01", "n02"])
        #expect(state.index.cluster.nodes.count == 2)
        #expect(state.ledger.halfLife == 7 * 86400)
    }

    @Test func anAddedNodeWaitsForItsAgentARemovedOneIsForgottenAndAProbeIsCheckedAgain() throws {
        var state = Self.registered()
        var changes = StateChanges()
        // n02 goes, n03 comes, and n01 is now said to have 2 × 16 cores: its probe has 16.
        let file = Cluster(nodes: [Node(name: "n01", topology: .uniform(sockets: 2, coresPerSocket: 16, memoryMB: 64_000)),
                                   Node(name: "n03", topology: .uniform(sockets: 2, coresPerSocket: 8, memoryMB: 64_000))],
                           partitions: [Partition(name: "batch", nodes: ["n01", "n03"])], qos: [QoS(name: "normal")])
        let outcome = try state.reconfigureNodes(file: file, effective: file, nodeAgents: ["n01": "host-a", "n03": "host-b"],
                                                 fairShareHalfLife: 3600, source: "chess.toml", changes: &changes)
        #expect(outcome.added == ["n03"])
        #expect(outcome.removed == ["n02"])
        #expect(state.nodes["n02"] == nil && state.reportedTopology["n02"] == nil)
        #expect(state.nodes["n03"]?.registered == false)
        #expect(state.nodes["n03"]?.reason == NodeStatus.notRegistered)
        #expect(state.nodes["n01"]?.adminState == .drain)
        #expect(state.nodes["n01"]?.reason == "Low core count (16 < 32 configured)")
        #expect(changes.nodes.map(\.0) == ["n01"])
        #expect(state.configuredTopology["n01"]?.coreCount == 32)
        #expect(state.agent(of: "n03") == "host-b")
        #expect(state.ledger.halfLife == 3600)
        #expect(state.index.cluster.nodes.map(\.name) == ["n01", "n03"])
    }

    @Test func aRuntimeChangeKeepsTheProbedTopologiesAndLiveJobsHoldTheirNames() {
        var state = Self.registered()
        let probed = state.index.node("n01")?.topology
        var next = Self.cluster(["n01", "n02"], cores: 4)
        next.partitions.append(Partition(name: "debug", nodes: ["n01"]))
        state.adoptRuntimeChange(next)
        #expect(state.index.cluster.partitions.map(\.name) == ["batch", "debug"])
        #expect(state.index.node("n01")?.topology == probed)
        _ = submit(&state)
        #expect(state.liveJobsUse(.partitions, named: "batch"))
        #expect(!state.liveJobsUse(.partitions, named: "debug"))
        #expect(state.liveJobsUse(.accounts, named: "debug") == false)
    }
}
