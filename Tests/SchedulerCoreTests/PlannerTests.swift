import Testing
@testable import SchedulerCore

/// `count` nodes `n01…`: 2 sockets × `cores/2` cores, one NUMA domain each, `gpus` GPUs spread
/// over the domains, `perSwitch` nodes per leaf switch.
func makeNodes(_ count: Int, cores: Int = 16, memoryMB: Int = 64_000, gpus: Int = 0, gpuType: String = "a100",
               perSwitch: Int = 1000, features: Set<String> = []) -> [Node] {
    (1...count).map { i in
        Node(name: "n" + (i < 10 ? "0" : "") + "\(i)",
             topology: .uniform(sockets: 2, coresPerSocket: cores / 2, memoryMB: memoryMB, gpus: gpus, gpuType: gpuType,
                                leafSwitch: "sw\((i - 1) / perSwitch)"),
             features: features)
    }
}

func makeCluster(_ nodes: [Node], qos: [QoS] = [QoS(name: "normal")], reservations: [Reservation] = [],
                 exclusive: Bool = false) -> Cluster {
    Cluster(nodes: nodes, partitions: [Partition(name: "batch", nodes: nodes.map(\.name), maxTime: 86400,
                                                exclusiveByDefault: exclusive)],
            qos: qos, reservations: reservations)
}

func pending(_ id: JobID, cores: Int = 1, nodes: Int? = nil, time: Int = 3600, gpus: Int? = nil, user: String = "alice",
             submit: Int = 0, qos: String = "normal", exclusive: Bool? = nil, constraint: String? = nil,
             memoryMB: Int? = nil) -> Job {
    Job(id: id, user: user, partition: "batch", qos: qos,
        request: JobRequest(nodes: nodes, tasks: nodes.map { $0 * cores } ?? 1, cpusPerTask: nodes == nil ? cores : 1,
                            memory: memoryMB.map { .perNode($0) }, gpus: gpus.map { GPURequest(count: $0) },
                            timeLimit: time, exclusive: exclusive, constraint: constraint.flatMap(FeatureExpression.init)),
        submitTime: submit)
}

/// A job already running with the given allocation.
func running(_ id: JobID, on allocation: [(String, [Int])], start: Int = 0, time: Int = 3600, qos: String = "normal",
             user: String = "bob", gpus: [Int] = []) -> Job {
    var job = Job(id: id, user: user, partition: "batch", qos: qos, request: JobRequest(timeLimit: time), submitTime: start)
    job.state = .running
    job.startTime = start
    job.allocation = Allocation(nodes: allocation.map {
        NodeAllocation(node: $0.0, cores: $0.1, memoryMB: 0, numaDomains: [], gpus: gpus, exclusive: false)
    })
    return job
}

func plan(_ cluster: Cluster, _ jobs: [Job], now: Int = 100, policy: SchedulingPolicy = .easy,
          finished: [JobID: FinishedJob] = [:]) -> SchedulingDecisions {
    Planner().plan(SchedulingSnapshot(now: now, cluster: cluster, jobs: jobs, finished: finished,
                                      configuration: PlannerConfiguration(policy: policy)))
}

extension SchedulingDecisions {
    func start(of id: JobID) -> Start? { starts.first { $0.job == id } }
}

@Suite("Allocation")
struct AllocationTests {
    @Test func coresArePackedInsideOneNUMADomain() throws {
        let cluster = makeCluster(makeNodes(1))
        let d = plan(cluster, [pending(1, cores: 4), pending(2, cores: 6)])
        let a = try #require(d.start(of: 1)?.allocation.nodes.first)
        let b = try #require(d.start(of: 2)?.allocation.nodes.first)
        #expect(a.numaDomains.count == 1)
        #expect(b.numaDomains.count == 1)
        // The 6-core job cannot fit next to the 4-core one, so it takes the other domain.
        #expect(a.numaDomains != b.numaDomains)
        #expect(Set(a.cores).isDisjoint(with: b.cores))
    }

    @Test func gpusComeFromTheDomainOfTheCores() throws {
        let cluster = makeCluster(makeNodes(1, gpus: 4))
        let d = plan(cluster, [pending(1, cores: 2, gpus: 1), pending(2, cores: 2, gpus: 2)])
        let topology = cluster.nodes[0].topology
        for id in [1, 2] {
            let a = try #require(d.start(of: id)?.allocation.nodes.first)
            let domains = Set(a.gpus.map { g in topology.gpus.first { $0.index == g }!.numaDomain! })
            #expect(domains.isSubset(of: Set(a.numaDomains)), "job \(id): GPUs \(a.gpus), domains \(a.numaDomains)")
        }
        #expect(d.start(of: 1)!.allocation.nodes[0].gpus.count == 1)
        #expect(d.start(of: 2)!.allocation.nodes[0].gpus.count == 2)
    }

    /// `--cpus-per-gpu` and `--mem-per-gpu`: cores and memory follow the GPUs a node gets.
    @Test func coresAndMemoryPerGPU() throws {
        let cluster = makeCluster(makeNodes(1, gpus: 4))
        var job = pending(1, gpus: 2)
        job.request.cpusPerGPU = 4
        job.request.memory = .perGPU(8000)
        var perTask = pending(2)
        perTask.request.tasks = 2
        perTask.request.gpus = GPURequest(count: 1, per: .perTask)
        perTask.request.cpusPerGPU = 3
        let d = plan(cluster, [job, perTask])
        let a = try #require(d.start(of: 1)?.allocation.nodes.first)
        #expect(a.cores.count == 8 && a.memoryMB == 16_000 && a.gpus.count == 2)
        let b = try #require(d.start(of: 2)?.allocation.nodes.first)
        #expect(b.cores.count == 6 && b.gpus.count == 2)
    }

    @Test func exclusiveTakesTheWholeNodeAndConstraintsFilterNodes() throws {
        var nodes = makeNodes(3)
        nodes[2].features = ["bigmem"]
        let cluster = makeCluster(nodes)
        let d = plan(cluster, [pending(1, cores: 2, exclusive: true), pending(2, cores: 1, constraint: "bigmem"),
                               pending(3, constraint: "nosuchfeature")])
        let a = try #require(d.start(of: 1)?.allocation.nodes.first)
        #expect(a.exclusive && a.cores.count == 16 && a.memoryMB == 64_000)
        #expect(d.start(of: 2)?.allocation.nodeNames == ["n03"])
        #expect(d.reasons[3] == .badConstraints)
    }

    /// `--mem=0` is all of the node's memory, as in Slurm: the job gets it (and its limit), and
    /// shares the node only with jobs that ask for no memory.
    @Test func memZeroTakesTheWholeNodesMemory() throws {
        let cluster = makeCluster(makeNodes(2))
        var holder = running(1, on: [("n01", [0])], time: 10_000)
        holder.allocation!.nodes[0].memoryMB = 1000
        let d = plan(cluster, [holder, pending(2, cores: 2, memoryMB: 0), pending(3, cores: 2, memoryMB: 1000), pending(4, cores: 2)])
        let whole = try #require(d.start(of: 2)?.allocation.nodes.first)
        #expect(whole.node == "n02" && whole.memoryMB == 64_000 && !whole.exclusive && whole.cores.count == 2)
        // n02's memory is all taken: a job that wants some goes to n01, one that wants none may share n02.
        #expect(d.start(of: 3)?.allocation.nodeNames == ["n01"])
        #expect(d.start(of: 4) != nil)
        // With both nodes' memory partly held, a --mem=0 job waits.
        let busy = plan(cluster, [holder, running(5, on: [("n02", [0])], time: 10_000), pending(6, memoryMB: 0)].map { j in
            var j = j
            if j.id == 5 { j.allocation!.nodes[0].memoryMB = 10 }
            return j
        })
        #expect(busy.start(of: 6) == nil && busy.reasons[6] == .resources)
    }

    /// Slurm's node Weight: the lowest-weight nodes first, whatever their order or fit.
    @Test func lowerWeightNodesAreUsedFirst() throws {
        var nodes = makeNodes(3)
        nodes[0].weight = 10
        nodes[1].weight = 5
        nodes[2].weight = 5
        let busy = running(1, on: [("n01", [0])], time: 10_000)  // the tightest fit, were weight ignored
        let d = plan(makeCluster(nodes), [busy, pending(2, cores: 1)])
        #expect(d.start(of: 2)?.allocation.nodeNames == ["n02"])
        let pair = plan(makeCluster(nodes), [pending(3, cores: 8, nodes: 2)])
        #expect(Set(try #require(pair.start(of: 3)?.allocation.nodeNames)) == ["n02", "n03"], "the heavy n01 comes last")
    }

    @Test func multiNodeJobsUseTheFewestLeafSwitches() throws {
        let cluster = makeCluster(makeNodes(8, perSwitch: 4))
        let busy = running(1, on: [("n02", [0])], time: 10_000)
        let d = plan(cluster, [busy, pending(2, cores: 16, nodes: 4)])
        let names = try #require(d.start(of: 2)?.allocation.nodeNames)
        #expect(Set(names) == ["n05", "n06", "n07", "n08"])
    }
}

@Suite("Planner policies")
struct PlannerPolicyTests {
    /// Four 16-core nodes; a 4-node job runs until 1000; a 4-node job waits; a small short job and
    /// a small long job come after it.
    func scenario() -> (Cluster, [Job]) {
        let cluster = makeCluster(makeNodes(4))
        let first = running(1, on: [("n01", Array(0..<8))], time: 1000)
        return (cluster, [first, pending(2, cores: 16, nodes: 4, submit: 1), pending(3, cores: 1, time: 500, submit: 2),
                          pending(4, cores: 1, time: 5000, submit: 3)])
    }

    @Test func fifoBlocksThePartitionBehindTheFirstBlockedJob() {
        let (cluster, jobs) = scenario()
        let d = plan(cluster, jobs, policy: .fifo)
        #expect(d.starts.isEmpty)
        #expect(d.reasons == [2: .resources, 3: .priority, 4: .priority])
        #expect(d.plannedStarts.isEmpty)
    }

    /// Slurm's ReqNodeNotAvail: the job would fit on the partition's nodes, but too many of them
    /// are drained or down; Resources when they are merely busy.
    @Test func jobsWaitingOnDrainedOrDownNodesSaySo() {
        var nodes = makeNodes(4)
        nodes[2].adminState = .drain
        nodes[3].adminState = .down
        let d = plan(makeCluster(nodes), [pending(1, cores: 16, nodes: 3), pending(2, cores: 16, nodes: 2)])
        #expect(d.start(of: 2) != nil)
        #expect(d.reasons[1] == .reqNodeNotAvail)
        let busy = plan(makeCluster(makeNodes(2)), [running(1, on: [("n01", Array(0..<16))], time: 1000), pending(2, cores: 16, nodes: 2)])
        #expect(busy.reasons[2] == .resources)
    }

    /// A DOWN or INACTIVE partition starts nothing (PartitionDown); a DRAIN one starts its queue.
    @Test func partitionStatesGateStarts() {
        for (state, starts) in [(PartitionState.down, false), (.inactive, false), (.drain, true), (.up, true)] {
            var cluster = makeCluster(makeNodes(2))
            cluster.partitions[0].state = state
            let d = plan(cluster, [pending(1)])
            #expect((d.start(of: 1) != nil) == starts, "\(state)")
            #expect(starts || d.reasons[1] == .partitionDown, "\(state)")
        }
    }

    @Test func easyBackfillsOnlyWhatDoesNotDelayTheReservation() {
        let (cluster, jobs) = scenario()
        let d = plan(cluster, jobs, policy: .easy)
        #expect(d.plannedStarts[2] == 1000)
        #expect(d.start(of: 3) != nil)          // ends at 600, before 1000
        #expect(d.start(of: 4) == nil)          // would hold a core past 1000
        #expect(d.reasons[2] == .resources)
        #expect(d.reasons[4] == .priority)
        #expect(d.plannedStarts[4] == nil)      // EASY: one reservation per partition
    }

    @Test func conservativeReservesForEveryJob() {
        let (cluster, jobs) = scenario()
        let d = plan(cluster, jobs, policy: .conservative)
        #expect(d.plannedStarts[2] == 1000)
        #expect(d.start(of: 3) != nil)
        #expect(d.plannedStarts[4] == 1000 + 3600)   // after job 2's reservation
    }

    @Test func everyWaitingJobLeavesThePassWithAReason() {
        var jobs: [Job] = []
        var rng = SplitMix64(seed: 42)
        for id in 1...300 {
            var job = pending(id, cores: 1 + rng.next(16), nodes: rng.next(4) == 0 ? 1 + rng.next(3) : nil,
                              time: 60 + rng.next(7200), user: "u\(rng.next(5))", submit: rng.next(100))
            if rng.next(20) == 0 { job.hold = true }
            if rng.next(15) == 0 { job.dependencies = [Dependency(.afterok, [1 + rng.next(300)])] }
            jobs.append(job)
        }
        let cluster = makeCluster(makeNodes(10, perSwitch: 3))
        for policy in SchedulingPolicy.allCases {
            let d = plan(cluster, jobs, policy: policy)
            let started = Set(d.starts.map(\.job))
            for job in jobs where !started.contains(job.id) {
                #expect(d.reasons[job.id] != nil, "\(policy): job \(job.id) has no reason")
            }
            // No node is oversubscribed by the starts.
            var used: [String: Set<Int>] = [:]
            for s in d.starts { for a in s.allocation.nodes {
                #expect(used[a.node, default: []].isDisjoint(with: a.cores))
                used[a.node, default: []].formUnion(a.cores)
            } }
            #expect(d == plan(cluster, jobs, policy: policy))   // deterministic
        }
    }

    /// n01 is reserved on [10, 100); n02 is busy until 20 and reserved on [110, 200). A two-node
    /// 30 s job: each node alone could start it at 100 and 20, but together only at 200, which
    /// the planner must find past its first guess (the k-th smallest single-node start, 100).
    @Test func multiNodeStartIsTheFirstTimeAllNodesFitTogether() {
        let nodes = makeNodes(2)
        let cluster = makeCluster(nodes, reservations: [
            Reservation(name: "a", nodes: ["n01"], start: 10, end: 100, users: ["x"]),
            Reservation(name: "b", nodes: ["n02"], start: 110, end: 200, users: ["x"]),
        ])
        let busy = running(1, on: [("n02", Array(0..<16))], start: 0, time: 20)
        for policy in [SchedulingPolicy.easy, .conservative] {
            let d = plan(cluster, [busy, pending(2, cores: 16, nodes: 2, time: 30)], now: 0, policy: policy)
            #expect(d.plannedStarts[2] == 200, "\(policy)")
        }
    }

    @Test func priorityOrdersByQoSThenAge() {
        let cluster = makeCluster(makeNodes(1), qos: [QoS(name: "normal"), QoS(name: "high", priority: 100)])
        let busy = running(1, on: [("n01", Array(0..<16))], time: 1000)
        let d = plan(cluster, [busy, pending(2, cores: 16, submit: 0), pending(3, cores: 16, submit: 50, qos: "high")],
                     policy: .conservative)
        #expect(d.plannedStarts[3] == 1000)
        #expect(d.plannedStarts[2] == 1000 + 3600)
        #expect(d.priorities[3]! > d.priorities[2]!)
    }
}

@Suite("Eligibility, limits, arrays, reservations")
struct EligibilityTests {
    @Test func holdsBeginTimesAndDependencies() {
        let cluster = makeCluster(makeNodes(2))
        var held = pending(1); held.hold = true
        var later = pending(2); later.beginTime = 500
        var okDep = pending(3); okDep.dependencies = [Dependency(.afterok, [90])]
        var failedDep = pending(4); failedDep.dependencies = [Dependency(.afterok, [91])]
        var notOk = pending(5); notOk.dependencies = [Dependency(.afternotok, [91])]
        var waitDep = pending(6); waitDep.dependencies = [Dependency(.afterany, [20])]
        var afterStart = pending(7); afterStart.dependencies = [Dependency(.after, [20])]
        var unknown = pending(8); unknown.dependencies = [Dependency(.afterany, [12345])]
        let d = plan(cluster, [held, later, okDep, failedDep, notOk, waitDep, afterStart, unknown, running(20, on: [("n02", [0])])],
                     finished: [90: FinishedJob(state: .completed, exitCode: 0), 91: FinishedJob(state: .failed, exitCode: 1)])
        #expect(d.reasons[1] == .jobHeld)
        #expect(d.reasons[2] == .beginTime)
        #expect(d.start(of: 3) != nil)
        #expect(d.reasons[4] == .dependencyNeverSatisfied)
        #expect(d.start(of: 5) != nil)
        #expect(d.reasons[6] == .dependency)
        #expect(d.start(of: 7) != nil)
        #expect(d.reasons[8] == .dependencyNeverSatisfied)
    }

    @Test func singletonWaitsForTheRunningJobOfTheSameNameAndUser() {
        let cluster = makeCluster(makeNodes(2))
        var a = pending(1); a.name = "nightly"; a.singleton = true
        var b = pending(2); b.name = "nightly"; b.singleton = true
        let d = plan(cluster, [a, b])
        #expect(d.start(of: 1) != nil)
        #expect(d.reasons[2] == .dependency)
    }

    @Test func qosLimits() {
        let limited = QoS(name: "normal", limits: QoSLimits(maxJobsPerUser: 2, maxTRESPerJob: TRESLimit(cpus: 8),
                                                             grpTRES: TRESLimit(cpus: 20)))
        let cluster = makeCluster(makeNodes(4), qos: [limited])
        // FIFO: considered in id order, so which limit bites is predictable.
        let d = plan(cluster, [pending(1, cores: 4), pending(2, cores: 4), pending(3, cores: 4),
                               pending(4, cores: 12, user: "bob"), pending(5, cores: 8, user: "carol"),
                               pending(6, cores: 8, user: "dave")], policy: .fifo)
        #expect(d.start(of: 1) != nil && d.start(of: 2) != nil)
        #expect(d.reasons[3] == .qosMaxJobsPerUser)
        #expect(d.reasons[4] == .qosMaxTRESPerJob)
        #expect(d.start(of: 5) != nil)            // 16 of 20 CPUs
        #expect(d.reasons[6] == .qosGrpTRES)      // 24 > 20
    }

    @Test func partitionAndQoSTimeLimits() {
        let qos = QoS(name: "normal", limits: QoSLimits(maxWall: 7200))
        let cluster = makeCluster(makeNodes(1), qos: [qos])
        let d = plan(cluster, [pending(1, time: 100_000), pending(2, time: 10_000), pending(3, qos: "gold")])
        #expect(d.reasons[1] == .partitionTimeLimit)
        #expect(d.reasons[2] == .qosMaxWall)
        #expect(d.reasons[3] == .invalidQoS)
    }

    @Test func arraysStartTasksLazilyUnderTheirThrottle() {
        let cluster = makeCluster(makeNodes(1))
        var array = pending(1, cores: 1)
        array.array = ArrayTasks(pending: Array(1...10), maxRunning: 3)
        let d = plan(cluster, [array])
        #expect(d.starts.map(\.arrayTaskIndex) == [1, 2, 3])
        #expect(d.reasons[1] == .arrayTaskLimit)
        // With two tasks already running, one more may start.
        var task = running(50, on: [("n01", [0])]); task.arrayJobID = 1
        var task2 = running(51, on: [("n01", [1])]); task2.arrayJobID = 1
        array.array = ArrayTasks(pending: Array(3...10), maxRunning: 3)
        let d2 = plan(cluster, [array, task, task2])
        #expect(d2.starts.map(\.arrayTaskIndex) == [3])
    }

    @Test func advanceReservationsKeepOutsidersOffAndLetMembersIn() {
        let nodes = makeNodes(2)
        let r = Reservation(name: "maint", nodes: ["n01", "n02"], start: 1000, end: 5000, users: ["alice"])
        let cluster = makeCluster(nodes, reservations: [r])
        var member = pending(1, cores: 16, time: 2000, user: "alice")
        member.request.reservation = "maint"
        var intruder = pending(4, user: "mallory")
        intruder.request.reservation = "maint"
        let d = plan(cluster, [member, pending(2, cores: 16, time: 800, user: "bob"),
                               pending(3, cores: 16, time: 2000, user: "bob"), intruder], now: 100, policy: .conservative)
        #expect(d.start(of: 2) != nil)                 // ends at 900, before the window
        #expect(d.start(of: 3) == nil)                 // would overlap the window
        #expect(d.plannedStarts[3] == 5000)
        #expect(d.plannedStarts[1] == 1000)
        #expect(d.reasons[1] == .reservation)
        #expect(d.reasons[4] == .reservationInvalid)
    }
}

@Suite("Preemption")
struct PreemptionTests {
    @Test func smallestSetOfCheapestMostRecentVictims() {
        let qos = [QoS(name: "normal", preemptMode: .requeue, graceTime: 30),
                   QoS(name: "urgent", priority: 1000, preempt: ["normal"], preemptMode: .off)]
        let cluster = makeCluster(makeNodes(2), qos: qos)
        // n01 and n02 are full: four 8-core jobs, started at different times.
        let jobs = [running(10, on: [("n01", Array(0..<8))], start: 10),
                    running(11, on: [("n01", Array(8..<16))], start: 40),
                    running(12, on: [("n02", Array(0..<8))], start: 20),
                    running(13, on: [("n02", Array(8..<16))], start: 30),
                    pending(20, cores: 8, qos: "urgent")]
        let d = plan(cluster, jobs)
        #expect(d.preemptions.map(\.victim) == [11])      // one job frees 8 cores: the latest started
        #expect(d.preemptions.first?.mode == .requeue)
        #expect(d.preemptions.first?.graceTime == 30)
        #expect(d.preemptions.first?.preemptor == 20)
        #expect(d.reasons[20] == .preempting)

        let big = plan(cluster, Array(jobs.dropLast()) + [pending(21, cores: 16, qos: "urgent")])
        // Age makes the earliest starts the most valuable: 11 < 13 < 12 < 10. A whole node is
        // needed; {11, 13, 12} frees n02, and 11 is then unnecessary.
        #expect(Set(big.preemptions.map(\.victim)) == [12, 13])
    }

    @Test func unpreemptableAndUnlistedQoSAreNeverVictims() {
        let qos = [QoS(name: "normal", preemptMode: .off), QoS(name: "scavenger", preemptMode: .cancel),
                   QoS(name: "urgent", priority: 10, preempt: ["scavenger"])]
        let cluster = makeCluster(makeNodes(1), qos: qos)
        let d = plan(cluster, [running(1, on: [("n01", Array(0..<16))], qos: "normal"), pending(2, cores: 4, qos: "urgent")])
        #expect(d.preemptions.isEmpty)
        #expect(d.reasons[2] == .resources)
    }

    @Test func suspendedVictimsResumeWhenTheirCoresAreFree() {
        let cluster = makeCluster(makeNodes(1), qos: [QoS(name: "normal", preemptMode: .suspend)])
        var suspended = running(1, on: [("n01", Array(0..<8))])
        suspended.state = .suspended
        suspended.suspendedByPreemption = true
        let d = plan(cluster, [suspended])
        #expect(d.resumes == [1])
        let blocked = plan(cluster, [suspended, running(2, on: [("n01", [3])])])
        #expect(blocked.resumes.isEmpty)
    }
}

@Suite("Priority")
struct PriorityTests {
    @Test func exp2NegativeIsExactEnough() {
        #expect(FixedPoint.exp2Negative(0, over: 1) == FixedPoint.one)
        #expect(FixedPoint.exp2Negative(1, over: 1) == FixedPoint.one / 2)
        #expect(FixedPoint.exp2Negative(3, over: 1) == FixedPoint.one / 8)
        // 2^-0.5 = 0.70710678…
        #expect(abs(FixedPoint.exp2Negative(1, over: 2) - 759_250_125) <= 1)
        #expect(FixedPoint.exp2Negative(40, over: 1) == 0)
    }

    @Test func fairShareFavoursTheAccountThatUsedLess() {
        let cluster = Cluster(nodes: makeNodes(1), partitions: [], accounts: [Account(name: "a", shares: 1), Account(name: "b", shares: 1)])
        let calc = PriorityCalculator(weights: PriorityWeights(), now: 0, cluster: cluster, usage: ["a": 100, "b": 300])
        // a used a quarter with half the shares: 2^-0.5; b three quarters: 2^-1.5.
        #expect(abs(calc.fairShareFactor(account: "a") - 707_106) <= 1)
        #expect(abs(calc.fairShareFactor(account: "b") - 353_553) <= 1)
        #expect(calc.fairShareFactor(account: "nobody") == 0)
    }

    /// sprio's view: each factor weighted, in priority units; together the priority (within the
    /// rounding of each); an administrator's priority replaces the sum.
    @Test func aPriorityBreaksDownIntoItsWeightedFactors() {
        let cluster = Cluster(nodes: makeNodes(2), partitions: [], qos: [QoS(name: "normal"), QoS(name: "high", priority: 100)],
                              accounts: [Account(name: "a", shares: 1), Account(name: "b", shares: 1)])
        let calc = PriorityCalculator(weights: PriorityWeights(), now: 7 * 86400 / 2, cluster: cluster, usage: ["a": 100, "b": 300])
        var job = pending(1, cores: 8)
        job.account = "a"
        job.qos = "high"
        let b = calc.breakdown(of: job, cpus: PriorityCalculator.requestedCPUs(job), partition: nil, qos: cluster.qos(named: "high"))
        #expect(b.age == 500)                    // half of max age × weight 1000
        #expect(abs(b.fairShare - 7071) <= 1)     // 2^-0.5 × 10000
        #expect(b.jobSize == 250)                 // 8 of 32 CPUs × 1000
        #expect(b.qos == 10000 && b.partition == 0 && b.override == nil)
        let sum = b.age + b.fairShare + b.jobSize + b.partition + b.qos
        #expect(b.total >= sum && b.total - sum < 5)
        #expect(b.total == calc.priority(of: job, cpus: 8, partition: nil, qos: cluster.qos(named: "high")))
        // --nice comes off the sum (a negative one adds), which stays at least 1.
        job.nice = 500
        let nice = calc.breakdown(of: job, cpus: 8, partition: nil, qos: cluster.qos(named: "high"))
        #expect(nice.total == b.total - 500 && nice.nice == 500)
        job.nice = -500
        #expect(calc.breakdown(of: job, cpus: 8, partition: nil, qos: cluster.qos(named: "high")).total == b.total + 500)
        job.nice = 1_000_000
        #expect(calc.breakdown(of: job, cpus: 8, partition: nil, qos: cluster.qos(named: "high")).total == 1)
        job.priorityOverride = 42
        let set = calc.breakdown(of: job, cpus: 8, partition: nil, qos: cluster.qos(named: "high"))
        #expect(set.total == 42 && set.override == 42 && set.qos == 10000)
    }

    /// A nice job lets a later one of the same shape go first.
    @Test func aNiceJobGoesAfterOthers() {
        let cluster = makeCluster(makeNodes(1))
        var polite = pending(1, cores: 16, submit: 0)
        polite.nice = 10_000
        let d = plan(cluster, [polite, pending(2, cores: 16, submit: 10)], policy: .conservative)
        #expect(d.start(of: 2) != nil && d.start(of: 1) == nil)
        #expect(d.priorities[1]! < d.priorities[2]!)
    }

    @Test func usageDecaysWithTheHalfLife() {
        var ledger = FairShareLedger(halfLife: 100, now: 0)
        ledger.charge("a", 1_000_000)
        ledger.decay(to: 100)
        #expect(ledger.usage["a"] == 500_000)
        ledger.decay(to: 300)
        #expect(ledger.usage["a"] == 125_000)
    }

    /// The controller decays once a second: small usage must still halve in a half-life, not
    /// lose a unit to rounding at every step (it fell to 0 in ~1,400 s this way).
    @Test func decayingSecondBySecondKeepsTheHalfLife() {
        var ledger = FairShareLedger(halfLife: 1000, now: 0)
        ledger.charge("a", 1000)
        for t in 1...1000 { ledger.decay(to: t) }
        #expect(abs((ledger.usage["a"] ?? 0) - 500) <= 1, "\(ledger.usage)")
        ledger.charge("a", 7)
        #expect(abs((ledger.usage["a"] ?? 0) - 507) <= 1)
    }

    /// Accounts stored at different times (each when it was last charged) come back decayed to
    /// the latest of them.
    @Test func aRestoredLedgerDecaysEachAccountFromItsOwnTime() {
        var ledger = FairShareLedger(halfLife: 1000, restoring: ["a": (1_000 * 1_000_000, 0), "b": (1_000 * 1_000_000, 1000)])
        #expect(ledger.usage == ["a": 500, "b": 1000])
        #expect(ledger.stored(["b"]).micro == ["b": 1_000 * 1_000_000] && ledger.stored(["b"]).asOf == 1000)
        ledger.decay(to: 2000)
        #expect(ledger.usage == ["a": 250, "b": 500])
    }
}

@Suite("Partitions of mixed node sizes")
struct MixedNodeSizeTests {
    /// A share that does not fit the partition's smallest node still runs on the nodes that hold it.
    @Test func largeSharesGoToTheNodesThatHoldThem() {
        let small = makeNodes(1, cores: 2)
        var big = makeNodes(3, cores: 32)
        for i in big.indices { big[i].name = "big\(i)" }
        let cluster = makeCluster(small + big)
        var job = pending(1, cores: 32, nodes: 2)
        job.request = JobRequest(nodes: 2, tasks: 64, timeLimit: 3600)
        let decisions = Planner().plan(SchedulingSnapshot(now: 0, cluster: cluster, jobs: [job]))
        #expect(decisions.starts.count == 1)
        let placed = Set(decisions.starts.first?.allocation.nodeNames ?? [])
        #expect(placed.count == 2 && placed.isSubset(of: Set(big.map(\.name))))
        #expect(decisions.starts.first?.allocation.nodes.allSatisfy { $0.cores.count == 32 } == true)
        // A share larger than any node is still refused.
        var tooBig = pending(2, cores: 1, nodes: 1)
        tooBig.request = JobRequest(nodes: 1, tasks: 33, timeLimit: 3600)
        #expect(Planner().plan(SchedulingSnapshot(now: 0, cluster: cluster, jobs: [tooBig])).reasons[2] == .badConstraints)
    }
}

/// The bounds that spare the earliest-start search most timelines (`PlanningPass.startBounds`)
/// must not change a single decision: random clusters of mixed nodes, mostly busy, with
/// reservations and queues of every kind of job, planned with and without them.
@Suite("Earliest-start search")
struct EarliestStartSearchTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func prunedSearchDecidesExactlyAsThePlainOne(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let now = 10_000
        let nodes = (0..<40).map { i in
            Node(name: "n\(i)", topology: .uniform(sockets: 2, coresPerSocket: [4, 8, 16][rng.next(3)],
                                                  memoryMB: [32_000, 64_000, 256_000][rng.next(3)], gpus: [0, 0, 2, 4][rng.next(4)],
                                                  leafSwitch: "sw\(i / 8)"))
        }
        let cluster = Cluster(nodes: nodes, partitions: [Partition(name: "batch", nodes: nodes.map(\.name))],
                              qos: [QoS(name: "normal")],
                              reservations: [Reservation(name: "maint", nodes: ["n3", "n4", "n5"], start: now + 5000, end: now + 9000,
                                                         users: ["root"])])
        var jobs: [Job] = []
        var id = 1
        for node in nodes where rng.next(10) < 8 {
            let cores = 1 + rng.next(node.topology.capacity.cores)
            var job = Job(id: id, user: "u\(rng.next(9))", partition: "batch",
                          request: JobRequest(timeLimit: 60 * (1 + rng.next(240))), submitTime: 0)
            job.state = .running
            job.startTime = now - rng.next(3000)
            job.allocation = Allocation(nodes: [NodeAllocation(node: node.name, cores: Array(0..<cores), memoryMB: cores * 1000,
                                                               numaDomains: [0], gpus: [], exclusive: false)])
            jobs.append(job)
            id += 1
        }
        for _ in 0..<400 {
            var request: JobRequest
            switch rng.next(10) {
            case 0..<4: request = JobRequest(tasks: 1 + rng.next(12), memory: .perCPU(1000 * (1 + rng.next(8))))
            case 4, 5: request = JobRequest(nodes: 1, tasksPerNode: 1 + rng.next(8), gpus: GPURequest(count: 1 + rng.next(2)))
            case 6, 7: request = JobRequest(nodes: 2 + rng.next(5), tasksPerNode: 1 + rng.next(8))
            case 8: request = JobRequest(nodes: 1 + rng.next(6), tasksPerNode: 1, exclusive: true)
            default: request = JobRequest(tasks: 1 + rng.next(4), memory: .perNode(1000 * (1 + rng.next(200))))
            }
            request.timeLimit = 60 * (1 + rng.next(300))
            jobs.append(Job(id: id, user: rng.next(10) == 0 ? "root" : "u\(rng.next(9))", partition: "batch",
                            request: request, submitTime: rng.next(now)))
            id += 1
        }
        for policy in [SchedulingPolicy.easy, .conservative] {
            let snapshot = SchedulingSnapshot(now: now, cluster: cluster, jobs: jobs, configuration: PlannerConfiguration(policy: policy))
            let pruned = Planner().plan(snapshot, pruning: true)
            let plain = Planner().plan(snapshot, pruning: false)
            // Compared whole; only the first difference is printed (the decisions are long).
            let firstDifference = plain.plannedStarts.keys.sorted().first { pruned.plannedStarts[$0] != plain.plannedStarts[$0] }
                .map { "job \($0) planned at \(pruned.plannedStarts[$0].map(String.init) ?? "-"), plainly at \(plain.plannedStarts[$0]!)" }
            let same = pruned == plain
            #expect(same, "\(policy), seed \(seed): \(firstDifference ?? "the starts or reasons differ")")
            if policy == .conservative { #expect(pruned.plannedStarts.count > 100) }
        }
    }
}
