import Testing
@testable import SchedulerCore

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

    /// Backfill plans licenses with nodes (as Slurm's does): the first job waiting for them holds
    /// them from when they come back, and a later job that would still hold one then does not
    /// start, while one that gives it back in time does.
    @Test func backfillKeepsLicensesForTheJobThatWaitsForThem() {
        var cluster = makeCluster(makeNodes(2))
        cluster.licenses = ["matlab": 2]
        func wanting(_ id: JobID, _ count: Int, time: Int) -> Job {
            var j = pending(id, time: time)
            j.request.licenses = ["matlab": count]
            return j
        }
        var holder = job(1, ["matlab": 1], state: .running)  // until 10_000
        holder.request.timeLimit = 10_000
        for policy in [SchedulingPolicy.easy, .conservative] {
            let d = plan(cluster, [holder, wanting(2, 2, time: 3600), wanting(3, 1, time: 20_000), wanting(4, 1, time: 5000)],
                         policy: policy)
            #expect(d.reasons[2] == .licenses && d.plannedStarts[2] == 10_000, "\(policy): \(d.reasons) \(d.plannedStarts)")
            #expect(d.start(of: 3) == nil, "\(policy): it would still hold a license at 10_000")
            #expect(d.start(of: 4) != nil, "\(policy): it gives its license back by 5_100")
        }
        // Without a plan (FIFO), the partition waits behind the first job.
        let fifo = plan(cluster, [holder, wanting(2, 2, time: 3600), wanting(4, 1, time: 5000)], policy: .fifo)
        #expect(fifo.starts.isEmpty && fifo.reasons[2] == .licenses && fifo.reasons[4] == .priority, "\(fifo.reasons)")
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
