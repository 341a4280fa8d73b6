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

/// Cluster licenses (Slurm's `Licenses=` and `--licenses`): a job starts only when its licenses
/// are free, counting those held by running jobs and by jobs started earlier in the pass.
@Suite("Licenses")
struct LicensePlanningTests {
    func job(_ id: JobID, _ licenses: [String: Int]?, state: JobState = .pending) -> Job {
        var j = state == .running ? running(id, on: [("n01", [id % 16])], time: 10_000) : pending(id)
        j.request.licenses = licenses
        return j
    }

    @Test func jobsWaitForTheirLicenses() {
        var cluster = makeCluster(makeNodes(2))
        cluster.licenses = ["matlab": 2, "ansys": 1]
        let d = plan(cluster, [job(1, ["matlab": 1], state: .running), job(2, ["matlab": 2]), job(3, ["matlab": 1, "ansys": 1]),
                               job(4, ["matlab": 1]), job(5, ["fluent": 1]), job(6, nil)])
        #expect(d.reasons[2] == .licenses, "2 wanted, 1 free")
        #expect(d.start(of: 3) != nil)
        #expect(d.reasons[4] == .licenses, "job 3 took the last one")
        #expect(d.reasons[5] == .licenses, "none exist")
        #expect(d.start(of: 6) != nil)
    }

    @Test func anArraysTasksStartWhileLicensesLast() {
        var cluster = makeCluster(makeNodes(1))
        cluster.licenses = ["matlab": 2]
        var array = job(1, ["matlab": 1])
        array.array = ArrayTasks(pending: [0, 1, 2, 3])
        let d = plan(cluster, [array])
        #expect(d.starts.count == 2 && d.reasons[1] == .licenses)
    }
}

/// Account limits (Slurm's association GrpTRES and GrpJobs): what the running jobs of an account
/// and of the accounts below it hold together.
@Suite("Account limits")
struct AccountLimitTests {
    func job(_ id: JobID, account: String, cores: Int = 4, state: JobState = .pending) -> Job {
        var j = state == .running ? running(id, on: [("n01", Array(0..<cores))], time: 10_000) : pending(id, cores: cores)
        j.account = account
        return j
    }

    @Test func grpTRESAndGrpJobsCountTheAccountAndThoseBelow() {
        var cluster = makeCluster(makeNodes(4))
        cluster.accounts = [Account(name: "science", grpTRES: TRESLimit(cpus: 12)),
                            Account(name: "physics", parent: "science", grpJobs: 2),
                            Account(name: "chemistry", parent: "science"), Account(name: "default")]
        var holder = job(1, account: "chemistry", state: .running)
        holder.allocation = Allocation(nodes: [NodeAllocation(node: "n01", cores: Array(0..<4), memoryMB: 0, numaDomains: [], gpus: [],
                                                             exclusive: false)])
        let d = plan(cluster, [holder, job(2, account: "physics"), job(3, account: "physics"), job(4, account: "physics"),
                               job(5, account: "chemistry"), job(6, account: "default", cores: 16)])
        // science: 4 held by chemistry; physics' first two take 8 more (12 = GrpTRES cpus).
        #expect(d.start(of: 2) != nil && d.start(of: 3) != nil)
        #expect(d.reasons[4] == .assocGrpJobsLimit, "physics' own limit, nearest first: \(String(describing: d.reasons[4]))")
        #expect(d.reasons[5] == .assocGrpCpuLimit, "the parent's limit counts a sibling's jobs")
        #expect(d.start(of: 6) != nil, "other accounts are not limited")
    }
}
