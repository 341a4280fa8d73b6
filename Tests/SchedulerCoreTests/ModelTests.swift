import Testing
@testable import SchedulerCore

@Suite("Model helpers")
struct ModelTests {
    @Test func stepProfileQueries() {
        // 4 free now, 2 more at 10, 4 more at 20 (10 in all).
        var p = StepProfile<Int>(now: 0, free: 4, releases: [(time: 10, amount: 2), (time: 20, amount: 4)])
        p.reserve(5, from: 30, to: 40)
        #expect(p.earliestFit(6, duration: 5)?.start == 10)
        #expect(p.earliestFit(6, duration: 25)?.start == 40)       // [30, 40) has only 5
        #expect(p.earliestFit(6, duration: 25, before: 40) == nil)
        #expect(p.earliestFit(11, duration: 1) == nil)
        #expect(p.fits(6, from: 10, duration: 20) == true)
        #expect(p.fits(6, from: 10, duration: 21) == false)
        #expect(p.feasibleStarts(6, duration: 5).map { [$0.from, $0.to] } == [[10, 26], [40, Int.max]])
        #expect(p.availableNow == 4 && p.eventually == 10)
    }

    @Test func nodeStateFollowsAdminStateAndUse() {
        #expect(NodeState.of(.up, usedCores: 0, totalCores: 64) == .idle)
        #expect(NodeState.of(.up, usedCores: 8, totalCores: 64) == .mixed)
        #expect(NodeState.of(.up, usedCores: 64, totalCores: 64) == .allocated)
        #expect(NodeState.of(.drain, usedCores: 8, totalCores: 64) == .draining)
        #expect(NodeState.of(.drain, usedCores: 0, totalCores: 64) == .drain)
        #expect(NodeState.of(.down, usedCores: 8, totalCores: 64) == .down)
        #expect(NodeState.of(.fail, usedCores: 0, totalCores: 64) == .fail)
    }

    @Test func reservationsByAmountArePinnedToNodes() {
        var nodes = makeNodes(4, cores: 16, gpus: 2)
        nodes[0].adminState = .drain
        #expect(Reservation.pinNodes(for: TRES(cpus: 20), among: nodes) == ["n02", "n03"])
        #expect(Reservation.pinNodes(for: TRES(gpus: 6), among: nodes) == ["n02", "n03", "n04"])
        #expect(Reservation.pinNodes(for: TRES(cpus: 64), among: nodes) == nil)
    }

    @Test func jobShapesFromSlurmStyleRequests() {
        #expect(JobRequest(tasks: 100).shape(coresPerNode: 64, exclusiveByDefault: false)
                .map { [$0.nodeCount, $0.perNode.cores] } == [2, 50])
        #expect(JobRequest(nodes: 2, tasksPerNode: 4, cpusPerTask: 2, memory: .perCPU(100))
                .shape(coresPerNode: 64, exclusiveByDefault: false)?.perNode == NodeCapacity(cores: 8, memoryMB: 800, gpus: 0))
        #expect(JobRequest(tasks: 4, gpus: GPURequest(count: 1, per: .perTask)).shape(coresPerNode: 64, exclusiveByDefault: true)
                .map { [$0.perNode.gpus, $0.exclusive ? 1 : 0] } == [4, 1])
        #expect(JobRequest(nodes: 1, tasksPerNode: 128).shape(coresPerNode: 64, exclusiveByDefault: false) == nil)
    }
}
