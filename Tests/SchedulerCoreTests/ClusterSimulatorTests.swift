import Testing
@testable import SchedulerCore

@Suite("Cluster-mode simulator")
struct ClusterSimulatorTests {
    func job(_ id: JobID, submit: Int, run: Int, time: Int, cores: Int = 16, nodes: Int? = 1, qos: String = "normal",
             user: String = "alice") -> ScenarioJob {
        ScenarioJob(job: pending(id, cores: cores, nodes: nodes, time: time, user: user, submit: submit, qos: qos), run: run)
    }

    func byID(_ outcome: ClusterSimulator.Outcome) -> [JobID: SimulatedJob] {
        Dictionary(uniqueKeysWithValues: outcome.jobs.map { ($0.id, $0) })
    }

    /// SIMULATION.md example C on four one-core... here four 16-core nodes, jobs taking whole
    /// nodes: the cluster planner must make the same choices as the flat replay.
    @Test func exampleCOnWholeNodesMatchesTheFlatReplay() {
        let cluster = makeCluster(makeNodes(4))
        let jobs = [job(1, submit: 0, run: 10, time: 10, nodes: 2), job(2, submit: 1, run: 10, time: 10, nodes: 3),
                    job(3, submit: 2, run: 10, time: 10, nodes: 4), job(4, submit: 3, run: 20, time: 20, nodes: 1),
                    job(5, submit: 4, run: 5, time: 5, nodes: 1)]
        let expected: [SchedulingPolicy: [Int]] = [.fifo: [0, 10, 20, 30, 30], .easy: [0, 10, 23, 3, 4],
                                                   .conservative: [0, 10, 20, 30, 4]]
        for (policy, starts) in expected {
            // Age-only priority so that queue order is submit order, as in the flat replay.
            var config = PlannerConfiguration(policy: policy)
            config.weights = .fifo
            let outcome = ClusterSimulator(cluster: cluster, configuration: config, jobs: jobs).run()
            let s = byID(outcome)
            #expect((1...5).map { s[$0]!.start! } == starts, "\(policy)")
        }
    }

    @Test func timeLimitsEndJobsAsTimeout() {
        let cluster = makeCluster(makeNodes(1))
        let outcome = ClusterSimulator(cluster: cluster, configuration: PlannerConfiguration(),
                                       jobs: [job(1, submit: 0, run: 500, time: 100)]).run()
        let j = byID(outcome)[1]!
        #expect(j.state == .timeout)
        #expect(j.end == 100)
        #expect(j.coreSeconds == 16 * 100)
    }

    @Test(arguments: [PreemptMode.cancel, .requeue, .suspend])
    func preemptionModes(mode: PreemptMode) {
        let qos = [QoS(name: "spot", preemptMode: mode, graceTime: 10), QoS(name: "urgent", priority: 100, preempt: ["spot"])]
        let cluster = makeCluster(makeNodes(1), qos: qos)
        let outcome = ClusterSimulator(cluster: cluster, configuration: PlannerConfiguration(),
                                       jobs: [job(1, submit: 0, run: 1000, time: 2000, qos: "spot"),
                                              job(2, submit: 100, run: 50, time: 100, qos: "urgent")]).run()
        let s = byID(outcome)
        #expect(s[2]!.start == 110)                       // after the grace time
        #expect(s[2]!.state == .completed)
        #expect(s[1]!.preemptions == 1)
        switch mode {
        case .cancel:
            #expect(s[1]!.state == .preempted)
            #expect(s[1]!.end == 110)
        case .requeue:
            #expect(s[1]!.state == .completed)
            #expect(s[1]!.end == 160 + 1000)              // starts over when the urgent job ends
        case .suspend:
            #expect(s[1]!.state == .completed)
            #expect(s[1]!.end == 160 + (1000 - 110))      // resumes where it stopped
        case .off:
            break
        }
        #expect(outcome.metrics.preemptions == 1)
    }

    @Test func arraysDependenciesAndFairShareRunToTheEnd() {
        let cluster = Cluster(nodes: makeNodes(2), partitions: [Partition(name: "batch", nodes: ["n01", "n02"])],
                              accounts: [Account(name: "a", shares: 1), Account(name: "b", shares: 1)])
        var array = job(1, submit: 0, run: 100, time: 200, cores: 4)
        array.job.array = ArrayTasks(pending: Array(1...12), maxRunning: 4)
        array.job.account = "a"
        var after = job(2, submit: 0, run: 10, time: 20, cores: 1)
        after.job.dependencies = [Dependency(.afterok, [1])]
        let outcome = ClusterSimulator(cluster: cluster, configuration: PlannerConfiguration(), jobs: [array, after]).run()
        let tasks = outcome.jobs.filter { $0.arrayJobID == 1 }
        #expect(tasks.count == 12)
        #expect(tasks.allSatisfy { $0.state == .completed })
        // Never more than four tasks at once.
        for t in stride(from: 0, to: 400, by: 10) {
            #expect(tasks.filter { $0.start! <= t && t < $0.end! }.count <= 4)
        }
        let dependent = outcome.jobs.first { $0.id == 2 }!
        #expect(dependent.start == tasks.map { $0.end! }.max())
        #expect(outcome.metrics.neverStarted == 0)
    }

    @Test func aPreemptorIsNotOvertakenByItsOwnVictims() {
        // FIFO weights: the spot job is older, yet the nodes it frees must go to the urgent job.
        let qos = [QoS(name: "spot", preemptMode: .requeue), QoS(name: "urgent", preempt: ["spot"])]
        let cluster = makeCluster(makeNodes(2), qos: qos)
        let outcome = ClusterSimulator(cluster: cluster, configuration: PlannerConfiguration(policy: .fifo),
                                       jobs: [job(1, submit: 0, run: 1000, time: 1000, nodes: 2, qos: "spot"),
                                              job(2, submit: 10, run: 100, time: 100, nodes: 2, qos: "urgent")]).run()
        let s = byID(outcome)
        #expect(s[2]!.start == 10)
        #expect(s[1]!.end == 110 + 1000)
        #expect(outcome.metrics.passes < 20)
    }
}
