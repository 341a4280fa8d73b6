import Testing
@testable import SchedulerCore

/// sbatch's `--nodelist` (`-w`: nodes the allocation must include) and `--exclude` (`-x`).
@Suite("Node lists")
struct NodeListPlanningTests {
    func job(_ id: JobID, cores: Int = 1, nodes: Int? = nil, required: [String]? = nil, excluded: [String]? = nil) -> Job {
        var j = pending(id, cores: cores, nodes: nodes)
        j.request.requiredNodes = required
        j.request.excludedNodes = excluded
        return j
    }

    /// n01 is partly busy, so the tightest fit puts a small job there unless it is excluded.
    @Test func excludedNodesAreNeverGiven() throws {
        let cluster = makeCluster(makeNodes(3))
        let busy = running(1, on: [("n01", [0])], time: 10_000)
        let d = plan(cluster, [busy, job(2), job(3, excluded: ["n01"]), job(4, cores: 16, nodes: 2, excluded: ["n02"])])
        #expect(d.start(of: 2)?.allocation.nodeNames == ["n01"])
        let third = try #require(d.start(of: 3)?.allocation.nodeNames)
        #expect(!third.contains("n01"))
        // Two whole nodes without n02: n01 is busy, so the job waits rather than take n02.
        #expect(d.start(of: 4) == nil)
        #expect(d.reasons[4] == .resources)
    }

    @Test func excludingEveryNodeThatCouldHoldTheJobIsABadConstraint() {
        let cluster = makeCluster(makeNodes(2))
        let d = plan(cluster, [job(1, excluded: ["n01", "n02"]), job(2, cores: 16, nodes: 2, excluded: ["n02"])])
        #expect(d.reasons[1] == .badConstraints)
        #expect(d.reasons[2] == .badConstraints)
    }

    @Test func aNodeListIsTheAllocationWhenItNamesEnoughNodes() throws {
        let cluster = makeCluster(makeNodes(4))
        let busy = running(1, on: [("n01", [0])], time: 10_000)
        let d = plan(cluster, [busy, job(2, required: ["n03"]), job(3, nodes: 2, required: ["n04", "n02"])])
        #expect(d.start(of: 2)?.allocation.nodeNames == ["n03"])
        #expect(Set(try #require(d.start(of: 3)?.allocation.nodeNames)) == ["n02", "n04"])
    }

    /// With more nodes asked for than named, the named ones are in the allocation and the
    /// others are chosen as usual.
    @Test func othersAreAddedToANodeListUpToTheNodeCount() throws {
        let cluster = makeCluster(makeNodes(4))
        let d = plan(cluster, [job(1, cores: 16, nodes: 3, required: ["n04"])])
        let names = try #require(d.start(of: 1)?.allocation.nodeNames)
        #expect(names.count == 3 && names.contains("n04"))
    }

    /// A busy named node: the job waits for it (reserving it when it frees) while idle nodes go
    /// to others; with others added, the start waits for the named node too. Job 3, the bigger,
    /// comes first and holds the whole of n02 from 1000 to 4600 in the plan; job 2 follows it.
    @Test func aJobWaitsForItsNamedNodes() {
        let cluster = makeCluster(makeNodes(3))
        let busy = running(1, on: [("n02", Array(0..<16))], time: 1000)
        let d = plan(cluster, [busy, job(2, cores: 4, required: ["n02"]), job(3, cores: 16, nodes: 2, required: ["n02"]),
                               job(4, cores: 16)], policy: .conservative)
        #expect(d.start(of: 2) == nil)
        #expect(d.plannedStarts[2] == 4600)
        #expect(d.start(of: 3) == nil)
        #expect(d.plannedStarts[3] == 1000)
        #expect(d.start(of: 4) != nil)
    }

    @Test func namedNodesThatCannotHoldTheJobOrAreOutSaySo() {
        var nodes = makeNodes(3)
        nodes[2].adminState = .drain
        var cluster = makeCluster(nodes)
        cluster.nodes.append(contentsOf: makeNodes(4).suffix(1))  // n04, in no partition
        let d = plan(cluster, [job(1, required: ["n03"]), job(2, required: ["n04"]), job(3, required: ["nosuch"]),
                               job(4, nodes: 1, required: ["n01", "n02"]), job(5, required: ["n01"], excluded: ["n01"])])
        #expect(d.reasons[1] == .reqNodeNotAvail)
        #expect(d.reasons[2] == .badConstraints)
        #expect(d.reasons[3] == .badConstraints)
        #expect(d.reasons[4] == .badConstraints)
        #expect(d.reasons[5] == .badConstraints)
        #expect(d.starts.isEmpty)
    }

    /// The pruned search and the plain one agree with node lists in the queue.
    @Test func pruningChangesNothing() {
        let cluster = makeCluster(makeNodes(6, perSwitch: 2))
        var jobs = [running(1, on: [("n01", Array(0..<16))], time: 700), running(2, on: [("n03", Array(0..<8))], time: 1500)]
        for i in 0..<12 {
            jobs.append(job(JobID(10 + i), cores: [4, 16, 8][i % 3], nodes: i % 4 == 0 ? 2 : nil,
                            required: i % 3 == 0 ? ["n0\(1 + i % 6)"] : nil, excluded: i % 5 == 0 ? ["n02"] : nil))
        }
        let snapshot = SchedulingSnapshot(now: 100, cluster: cluster, jobs: jobs, finished: [:],
                                          configuration: PlannerConfiguration(policy: .conservative))
        #expect(Planner().plan(snapshot, pruning: true) == Planner().plan(snapshot, pruning: false))
    }
}
