import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// The reads (queue, show job, nodes) and the step rules, on the state alone.
@Suite("Queries and steps on the state") struct QueryAndStepTests {
    /// Four nodes, n01/n02 registered by host-a, n03/n04 by host-b; a job of alice (uid 1000)
    /// running on all four, and what its batch agent would ask for.
    static func fourNodeJob() -> (ControllerState, JobID, StepPlan) {
        var state = makeState(nodes: 4)
        for (node, agent) in [("n01", "host-a"), ("n02", "host-a"), ("n03", "host-b"), ("n04", "host-b")] {
            state.nodes[node]?.agent = agent
            state.nodeAgents[node] = agent
        }
        let id = submit(&state, cores: 16, nodes: 4, limit: 600)
        state.records[id]?.uid = 1000
        state.records[id]?.gid = 100
        pass(&state, now: 1)
        let names = state.records[id]?.job.allocation?.nodeNames ?? ["none"]
        let nodes = names.map { StepPlan.Node(name: $0, cpus: [0], mems: [0], gpus: [], memoryMB: 0, jobCores: [0], numa: [0],
                                              firstTask: 0, tasks: 1) }
        var plan = StepPlan(job: id, run: 0, step: 0, name: "hostname", clusterName: "test", user: "root", uid: 0, gid: 0,
                            request: StepRequest(job: id, argv: ["hostname"], environment: [:], workdir: "/tmp"), killWait: 2, nodes: nodes)
        plan.runsOn = [names[0]]
        return (state, id, plan)
    }

    @Test func aStepOverAgentsGoesToEachOtherAgentAsTheJobsOwnUser() throws {
        let (state, id, plan) = Self.fourNodeJob()
        #expect(state.records[id]?.job.state == .running)
        #expect(state.records[id]?.job.allocation?.nodeNames == ["n01", "n02", "n03", "n04"])
        let parts = try state.remoteStepParts(plan, from: "host-a")
        #expect(parts.keys.sorted() == ["host-a", "host-b"])
        #expect(parts["host-a"]?.runsOn == ["n02"])
        #expect(parts["host-b"]?.runsOn == ["n03", "n04"])
        // Who the tasks run as is the job's record's, not what the asking agent wrote.
        #expect(parts["host-b"].map { [$0.uid, $0.gid] } == [1000, 100])
        #expect(parts["host-b"]?.user == "alice")
    }

    @Test func onlyTheBatchAgentMayAskForItsJobsCurrentRunOnTheJobsNodes() {
        var (state, id, plan) = Self.fourNodeJob()
        #expect(throws: APIError.self) { try state.remoteStepParts(plan, from: "host-b") }
        var earlier = plan
        earlier.run = 1
        #expect(throws: APIError.self) { try state.remoteStepParts(earlier, from: "host-a") }
        var stranger = plan
        stranger.nodes.append(StepPlan.Node(name: "n09", cpus: [0], mems: [0], gpus: [], memoryMB: 0, jobCores: [0], numa: [0],
                                            firstTask: 0, tasks: 1))
        #expect(throws: APIError.self) { try state.remoteStepParts(stranger, from: "host-a") }
        state.nodes["n04"]?.registered = false
        #expect(throws: APIError.self) { try state.remoteStepParts(plan, from: "host-a") }
        state.nodes["n04"]?.registered = true
        state.records[id]?.uid = nil
        #expect(throws: APIError.self) { try state.remoteStepParts(plan, from: "host-a") }
    }

    @Test func aPlanNamingMoreNodesThanTheJobHoldsIsRefusedAndALongRunsOnListIsOnlyALookup() throws {
        let (state, _, plan) = Self.fourNodeJob()
        var padded = plan
        padded.nodes += (0..<1_000).map { StepPlan.Node(name: "x\($0)", cpus: [0], mems: [0], gpus: [], memoryMB: 0, jobCores: [0],
                                                         numa: [0], firstTask: 0, tasks: 1) }
        #expect(throws: APIError.self) { try state.remoteStepParts(padded, from: "host-a") }
        var listed = plan
        listed.runsOn = (0..<1_000).map { "x\($0)" }
        #expect(throws: APIError.self) { try state.remoteStepParts(listed, from: "host-a") }
        // Within the job's node count, the answer is the same as ever.
        listed.runsOn = ["n01", "n02", "n01"]
        #expect(try state.remoteStepParts(listed, from: "host-a").keys.sorted() == ["host-b"])
    }

    @Test func anAgentKeepsAtMostMaxStepCountRunningStepsPerJobWithBoundedNames() {
        var (state, id, _) = Self.fourNodeJob()
        func running(_ step: Int, name: String = "s") -> StepReport {
            StepReport(job: id, run: 0, record: StepRecord(step: step, name: name, nodeList: "n01", nodes: 1, tasks: 1, cpus: 1, startTime: 5))
        }
        let limit = ControllerState.maxLiveStepsPerJob
        state.applyStepReports((0..<(limit + 10)).map { running($0) }, from: "host-a")
        #expect(state.liveSteps[id]?.steps.count == limit)
        // An ended step makes room; a known step is still updated at the limit.
        var ended = running(0)
        ended.record.state = "COMPLETED"
        state.applyStepReports([ended, running(limit + 20)], from: "host-a")
        #expect(state.liveSteps[id]?.steps[limit + 20] != nil)
        state.applyStepReports([running(1, name: "renamed")], from: "host-a")
        #expect(state.liveSteps[id]?.steps[1]?.name == "renamed")
        state.applyStepReports([running(2, name: String(repeating: "n", count: ControllerState.maxStepTextBytes + 1))], from: "host-a")
        #expect(state.liveSteps[id]?.steps[2]?.name == "s")
    }

    @Test func runningStepsComeFromTheBatchAgentsReportsOfTheCurrentRun() {
        var (state, id, _) = Self.fourNodeJob()
        func record(_ step: Int, _ s: String) -> StepRecord {
            var r = StepRecord(step: step, name: "s\(step)", nodeList: "n[01-04]", nodes: 4, tasks: 4, cpus: 4, startTime: 5)
            r.state = s
            return r
        }
        state.applyStepReports([StepReport(job: id, run: 0, record: record(0, "RUNNING")),
                                StepReport(job: id, run: 0, record: record(1, "RUNNING"))], from: "host-a")
        // Another agent's report, or one of an earlier run, is dropped.
        state.applyStepReports([StepReport(job: id, run: 0, record: record(2, "RUNNING"))], from: "host-b")
        state.applyStepReports([StepReport(job: id, run: 7, record: record(3, "RUNNING"))], from: "host-a")
        #expect(state.runningSteps().map(\.stepID) == ["\(id).0", "\(id).1"])
        // An ended step goes.
        state.applyStepReports([StepReport(job: id, run: 0, record: record(0, "COMPLETED"))], from: "host-a")
        #expect(state.runningSteps().map(\.stepID) == ["\(id).1"])
    }

    @Test func theQueueFiltersAndNamesTheDrainedNodesThatKeepAJobWaiting() {
        var state = makeState(nodes: 2)
        let running = submit(&state, cores: 4, limit: 600)
        pass(&state, now: 1)
        state.nodes["n02"]?.adminState = .drain
        // Room on n01, none to be had on the drained n02.
        let waiting = submit(&state, cores: 4, nodes: 2, limit: 600)
        pass(&state, now: 2)
        #expect(state.records[running]?.job.state == .running)
        #expect(state.records[waiting]?.job.reason == .reqNodeNotAvail)
        let all = state.queued(QueueFilter())
        #expect(all.count == 2)
        #expect(all.map(\.unavailableNodes) == [nil, "n02"])
        #expect(state.queued(QueueFilter(states: [.pending])).count == 1)
        #expect(state.queued(QueueFilter(users: ["bob"])).isEmpty)
        #expect(state.queued(QueueFilter(ids: [running])).count == 1)
        #expect(state.info(of: state.records[waiting]!).unavailableNodes == "n02")
        #expect(state.info(of: state.records[running]!).unavailableNodes == nil)
    }

    @Test func anArrayTaskIsFoundLiveBeforeAndAfterItStarts() {
        var state = makeState(nodes: 1)
        let array = submit(&state, cores: 16, limit: 600, array: [0, 1])
        #expect(state.liveRecord(JobReference(id: array, task: 1))?.job.array?.pending == [1])
        pass(&state, now: 1)
        let started = state.liveRecord(JobReference(id: array, task: 0))
        #expect(started?.job.state == .running)
        #expect(started?.id != array)
        #expect(state.liveRecord(JobReference(id: array, task: 5)) == nil)
        #expect(state.liveRecord(JobReference(id: 999, task: nil)) == nil)
    }

    @Test func nodesShowWhatTheirJobsHoldAndThePartitionsTheirDefault() {
        var state = makeState(nodes: 2)
        let id = submit(&state, cores: 4, limit: 600)
        pass(&state, now: 1)
        let infos = state.nodeInfos()
        #expect(infos.map(\.name) == ["n01", "n02"])
        #expect(infos[0].allocatedCores == 4 && infos[0].jobs == [id] && infos[0].state == "mixed")
        #expect(infos[1].allocatedCores == 0 && infos[1].state == "idle")
        #expect(state.partitionSummaries(defaultPartition: "batch").map(\.isDefault) == [true])
        #expect(state.partitionSummaries(defaultPartition: "other").map(\.isDefault) == [false])
    }
}
