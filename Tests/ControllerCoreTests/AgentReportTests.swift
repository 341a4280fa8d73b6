import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// Registrations, heartbeats and completions on the state alone.
@Suite("Agent reports on the state") struct AgentReportTests {
    /// What an agent probes on a node of `cores` cores in two NUMA domains of 32,000 MiB.
    static func probe(cores: Int = 16) -> AgentTopology {
        let half = cores / 2
        return AgentTopology(sockets: 2, threadsPerCore: 1, numa: [
            .init(id: 0, cores: Array(0..<half), memoryMB: 32_000), .init(id: 1, cores: Array(half..<cores), memoryMB: 32_000),
        ])
    }

    static func unregistered(nodes: Int = 2) -> ControllerState {
        var state = makeState(nodes: nodes)
        for name in state.nodes.keys { state.nodes[name] = NodeStatus(adminState: .down, reason: NodeStatus.notRegistered, registered: false) }
        state.nodeAgents = ["n01": "host-a", "n02": "host-a"]
        return state
    }

    @Test func anAgentSpeaksOnlyForItsNodesAndAShortNodeIsDrained() {
        var state = Self.unregistered()
        state.nodeAgents["n02"] = "host-b"
        var changes = StateChanges()
        let outcome = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [
            AgentNodeReport(name: "n01", topology: Self.probe(cores: 8)),
            AgentNodeReport(name: "n02", topology: Self.probe()),
            AgentNodeReport(name: "n99", topology: Self.probe()),
        ]), now: 50, changes: &changes)
        #expect(outcome.nodes.map(\.state) == ["drain", "refused", "unknown"])
        #expect(outcome.nodes[0].reason == "Low core count (8 < 16 configured)")
        #expect(state.nodes["n01"]?.registered == true)
        #expect(state.nodes["n01"]?.lastHeartbeat == 50)
        #expect(state.nodes["n02"]?.registered == false)
        #expect(changes.notices.map(\.message) == ["registration refused"])
        #expect(changes.nodes.map(\.0) == ["n01"])
    }

    @Test func aJobTheAgentDoesNotKnowLostItsLaunchAndOneItRunsGetsItsTimeLimitAgain() {
        var state = Self.unregistered()
        var changes = StateChanges()
        _ = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [
            AgentNodeReport(name: "n01", topology: Self.probe()), AgentNodeReport(name: "n02", topology: Self.probe()),
        ]), now: 0, changes: &changes)
        let lost = submit(&state, cores: 16, limit: 600)
        let kept = submit(&state, cores: 16, limit: 900)
        pass(&state, now: 1)
        state.pendingTimeLimits.removeAll()

        // The agent restarts and registers again, running only `kept`, and a job long gone.
        var again = StateChanges()
        let outcome = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [
            AgentNodeReport(name: "n01", topology: Self.probe()), AgentNodeReport(name: "n02", topology: Self.probe()),
        ], running: [kept, 77]), now: 10, changes: &again)
        #expect(state.records[lost]?.job.state == .pending)
        #expect(again.events.contains { $0.0 == lost && $0.2.hasPrefix("launch lost") })
        #expect(state.records[kept]?.job.state == .running)
        #expect(outcome.terminate == [77])
        #expect(state.pendingTimeLimits.map(\.job) == [kept])
        #expect(state.pendingTimeLimits.first?.seconds == 900)
    }

    @Test func heartbeatsKeepNodesAliveAndOnlyTheBatchAgentEndsAJob() throws {
        var state = Self.unregistered(nodes: 1)
        var changes = StateChanges()
        // An agent with no registered node is refused.
        #expect(throws: APIError.self) { try state.heartbeat(AgentHeartbeat(agent: "host-a"), now: 1, healthCheckConfigured: false, changes: &changes) }
        _ = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [AgentNodeReport(name: "n01", topology: Self.probe())]),
                           now: 1, changes: &changes)
        let id = submit(&state)
        pass(&state, now: 2)
        state.nodes["n01"]!.lastHeartbeat = 2

        var beat = StateChanges()
        let acked = try state.heartbeat(AgentHeartbeat(agent: "host-a", completions: [
            JobCompletion(job: id, state: "COMPLETED", exitCode: 0, endTime: 40, cpuSeconds: 12),
        ]), now: 41, healthCheckConfigured: false, changes: &beat)
        #expect(acked == [id])
        #expect(state.nodes["n01"]?.lastHeartbeat == 41)
        #expect(state.finished[id] == FinishedJob(state: .completed, exitCode: 0))
        #expect(beat.jobs.last?.usage?.cpuSeconds == 12)
        #expect(beat.jobs.last?.job.endTime == 40)
    }

    @Test func aFailedHealthCheckDrainsANodeAndAPassingOneResumesOnlyWhatItDrained() throws {
        var state = Self.unregistered(nodes: 1)
        var changes = StateChanges()
        _ = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [AgentNodeReport(name: "n01", topology: Self.probe())]),
                           now: 0, changes: &changes)
        _ = try state.heartbeat(AgentHeartbeat(agent: "host-a", health: HealthReport(ok: false, message: "disk full", time: 1)),
                                now: 1, healthCheckConfigured: true, changes: &changes)
        #expect(state.nodes["n01"]?.adminState == .drain)
        #expect(state.nodes["n01"]?.reason == "health check: disk full")
        _ = try state.heartbeat(AgentHeartbeat(agent: "host-a", health: HealthReport(ok: true, message: nil, time: 2)),
                                now: 2, healthCheckConfigured: true, changes: &changes)
        #expect(state.nodes["n01"]?.adminState == .up)
        // An administrator's drain is not undone by a passing check.
        state.nodes["n01"]!.adminState = .drain
        state.nodes["n01"]!.adminSet = true
        _ = try state.heartbeat(AgentHeartbeat(agent: "host-a", health: HealthReport(ok: true, message: nil, time: 3)),
                                now: 3, healthCheckConfigured: true, changes: &changes)
        #expect(state.nodes["n01"]?.adminState == .drain)
    }
}

/// An administrator's word on nodes, on the state alone.
@Suite("Node administration on the state") struct NodeAdminTests {
    static let alice = Identity(user: "alice", uid: 1000, gid: 1000, admin: false)
    static let root = Identity(user: "root", uid: 0, gid: 0, admin: true)

    @Test func drainNeedsAReasonAndResumeGoesBackToWhatTheAgentSays() throws {
        var state = makeState()
        #expect(throws: APIError.self) { try state.changeNode("n01", NodeStateChange(action: "drain", reason: "disk"), identity: Self.alice) }
        #expect(throws: APIError.self) { try state.changeNode("n01", NodeStateChange(action: "drain", reason: nil), identity: Self.root) }
        #expect(throws: APIError.self) { try state.changeNode("n09", NodeStateChange(action: "down", reason: nil), identity: Self.root) }
        let drained = try state.changeNode("n01", NodeStateChange(action: "drain", reason: "disk"), identity: Self.root)
        #expect(drained.adminState == .drain)
        #expect(state.effectiveCluster().nodes.first { $0.name == "n01" }?.adminState == .drain)
        _ = try state.changeNode("n01", NodeStateChange(action: "resume", reason: nil), identity: Self.root)
        #expect(state.nodes["n01"]?.adminState == .up)
        state.nodes["n02"]!.registered = false
        let resumed = try state.changeNode("n02", NodeStateChange(action: "resume", reason: nil), identity: Self.root)
        #expect(resumed.adminState == .down)
        #expect(resumed.reason == NodeStatus.notRegistered)
    }
}

/// Times an agent reports are its word, not the controller's clock: bounded by the job's start
/// and the controller's now before any arithmetic (a far-future end once trapped the fair-share
/// charge: cores × seconds × usage factor past `Int`).
@Suite("Agent times on the state") struct AgentTimeTests {
    @Test(arguments: [InputLimits.jsonInteger, -InputLimits.jsonInteger, 0])
    func aCompletionsEndTimeIsKeptBetweenTheStartAndNow(_ reported: Int) throws {
        var state = makeState(nodes: 1)
        let id = submit(&state, cores: 16)
        pass(&state, now: 100)
        state.nodes["n01"]!.agent = "n01"
        var changes = StateChanges()
        _ = try state.heartbeat(AgentHeartbeat(agent: "n01", completions: [
            JobCompletion(job: id, state: "COMPLETED", exitCode: 0, endTime: reported),
        ]), now: 160, healthCheckConfigured: false, changes: &changes)
        let end = try #require(changes.jobs.last?.job.endTime)
        #expect(end == (reported > 160 ? 160 : 100))
        #expect(state.ledger.usage["default", default: 0] >= 0)
    }
}

/// What an agent says of its hardware is bounded before the controller computes with it.
@Suite("Agent topology bounds") struct AgentTopologyBoundsTests {
    static func registration(_ domains: [AgentTopology.Domain], gpus: [AgentTopology.GPU] = []) -> AgentRegistration {
        AgentRegistration(agent: "n01", version: "1", nodes: [
            AgentNodeReport(name: "n01", topology: AgentTopology(sockets: 2, threadsPerCore: 1, numa: domains, gpus: gpus)),
        ])
    }

    @Test func hugeOrNegativeMemoryAndEndlessDomainsAreRefusedNotTrapped() {
        let huge = InputLimits.jsonInteger
        for domains in [
            [AgentTopology.Domain(id: 0, cores: Array(0..<16), memoryMB: huge)],
            [AgentTopology.Domain(id: 0, cores: Array(0..<8), memoryMB: huge), .init(id: 1, cores: Array(8..<16), memoryMB: huge)],
            [AgentTopology.Domain(id: 0, cores: Array(0..<16), memoryMB: 64_000), .init(id: 1, cores: [], memoryMB: -huge)],
            (0..<2_000).map { AgentTopology.Domain(id: $0, cores: $0 < 16 ? [$0] : [], memoryMB: huge / 1_000) },
        ] {
            var state = makeState(nodes: 1)
            var changes = StateChanges()
            let outcome = state.register(Self.registration(domains), now: 1, changes: &changes)
            #expect(outcome.nodes.first?.state == "drain")
            #expect(outcome.nodes.first?.reason?.hasPrefix("Implausible topology") == true)
        }
    }

    @Test func aPlausibleProbeStillRegisters() {
        var state = makeState(nodes: 1)
        var changes = StateChanges()
        let outcome = state.register(Self.registration([.init(id: 0, cores: Array(0..<8), memoryMB: 32_000),
                                                        .init(id: 1, cores: Array(8..<16), memoryMB: 32_000)]), now: 1, changes: &changes)
        #expect(outcome.nodes.first?.state == "up")
    }
}
