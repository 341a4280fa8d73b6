import Testing
@testable import SchedulerCore

/// `Jk(submit, run, procs[, requested])` as SIMULATION.md §8 writes them.
private func J(_ id: Int, _ submit: Int, _ run: Int, _ procs: Int, _ requested: Int? = nil) -> ReplayJob {
    ReplayJob(id: id, submit: submit, run: run, requested: requested, procs: procs)
}

/// Start times by job id.
private func starts(_ n: Int, _ jobs: [ReplayJob], _ policy: ReplayPolicy) -> [Int: Int] {
    let w = SWFWorkload(machineSize: n, unorderedJobs: jobs)
    let outcome = FlatMachineReplay(workload: w, policy: policy).run()
    return Dictionary(uniqueKeysWithValues: zip(w.jobs.map(\.id), outcome.starts))
}

private func ordered(_ s: [Int: Int]) -> [Int] { s.keys.sorted().map { s[$0]! } }

@Suite("SIMULATION.md §8 worked examples")
struct WorkedExampleTests {
    @Test func exampleA() {
        let jobs = [J(1, 0, 10, 2), J(2, 1, 5, 4), J(3, 2, 2, 1)]
        #expect(ordered(starts(4, jobs, .fcfs)) == [0, 10, 15])
        #expect(ordered(starts(4, jobs, .easy)) == [0, 10, 2])
        #expect(ordered(starts(4, jobs, .conservative)) == [0, 10, 2])
    }

    @Test func exampleBBackfillThroughExtraProcessors() {
        let jobs = [J(1, 0, 10, 4), J(2, 1, 50, 6), J(3, 2, 100, 1), J(4, 2, 100, 2), J(5, 2, 100, 1)]
        #expect(ordered(starts(8, jobs, .easy)) == [0, 10, 2, 60, 2])
    }

    @Test func exampleCConservativeDiffersFromEasy() {
        let jobs = [J(1, 0, 10, 2), J(2, 1, 10, 3), J(3, 2, 10, 4), J(4, 3, 20, 1), J(5, 4, 5, 1)]
        #expect(ordered(starts(4, jobs, .fcfs)) == [0, 10, 20, 30, 30])
        #expect(ordered(starts(4, jobs, .easy)) == [0, 10, 23, 3, 4])
        #expect(ordered(starts(4, jobs, .conservative)) == [0, 10, 20, 30, 4])
    }

    @Test(arguments: ReplayPolicy.allCases)
    func exampleDSimultaneousEvents(policy: ReplayPolicy) {
        let jobs = [J(1, 0, 10, 4), J(5, 10, 5, 4), J(3, 10, 5, 4)]
        let s = starts(4, jobs, policy)
        #expect(s == [1: 0, 3: 10, 5: 15])
    }

    @Test func exampleEConservativeRebuildCanDelayAJob() {
        let jobs = [J(1, 0, 8, 1, 17), J(2, 0, 6, 2), J(3, 1, 7, 1), J(4, 1, 4, 1)]
        let s = starts(2, jobs, .conservative)
        #expect(s[3] == 1)
        #expect(s[2] == 8)
        #expect(s[4] == 14)
    }

    @Test(arguments: ReplayPolicy.allCases)
    func exampleFRunBeyondRequestedIsCut(policy: ReplayPolicy) throws {
        let trace = """
            ; MaxProcs: 4
            1 0 -1 100 4 -1 -1 4 50 -1 1 1 1 -1 -1 -1 -1 -1
            2 1 -1 10 4 -1 -1 4 10 -1 1 1 1 -1 -1 -1 -1 -1
            """
        let w = try SWFParser.parse(Array(trace.utf8))
        #expect(w.truncatedToRequested == 1)
        #expect(w.jobs[0].run == 50)
        let outcome = FlatMachineReplay(workload: w, policy: policy).run()
        #expect(outcome.starts == [0, 50])
        #expect(outcome.metrics.lastEnd == 60)
    }
}

@Suite("Flat replay properties")
struct FlatReplayPropertyTests {
    static func randomWorkload(seed: UInt64, jobs count: Int, machine: Int) -> SWFWorkload {
        var rng = SplitMix64(seed: seed)
        var jobs: [ReplayJob] = []
        var t = 0
        for i in 0..<count {
            t += rng.next(4) == 0 ? 0 : rng.next(6)    // frequent simultaneous submits
            let requested = 1 + rng.next(30)
            let run = 1 + rng.next(requested)            // often ends early
            let procs = 1 + rng.next(rng.next(3) == 0 ? machine : max(machine / 3, 1))
            jobs.append(ReplayJob(id: 1000 - rng.next(5) - i, submit: t, run: run, requested: requested, procs: procs))
        }
        return SWFWorkload(machineSize: machine, unorderedJobs: jobs)
    }

    @Test(arguments: ReplayPolicy.allCases)
    func agreesWithTheNaiveReference(policy: ReplayPolicy) {
        for seed in UInt64(1)...60 {
            let w = Self.randomWorkload(seed: seed, jobs: 40, machine: 3 + Int(seed % 9))
            let fast = FlatMachineReplay(workload: w, policy: policy).run().starts
            let reference = ReferenceReplay.starts(w, policy)
            #expect(fast == reference, "seed \(seed)")
            if fast != reference { return }
        }
    }

    /// SIMULATION.md §6: the head starts no later than any shadow time computed for it, and the
    /// successive shadow times computed for one head never increase.
    @Test func easyHeadStartsByItsShadowAndShadowsNeverGrow() {
        for seed in UInt64(200)...230 {
            let w = Self.randomWorkload(seed: seed, jobs: 300, machine: 12)
            var shadows: [Int: [Int]] = [:]
            let s = FlatMachineReplay(workload: w, policy: .easy).run(observeShadow: { head, shadow in
                shadows[head, default: []].append(shadow)
            }).starts
            #expect(!shadows.isEmpty)
            for (head, list) in shadows {
                #expect(s[head] <= list.min()!, "seed \(seed) head \(head)")
                #expect(list == list.sorted(by: >), "seed \(seed) head \(head)")
            }
        }
    }

    @Test func noPolicyStartsAJobEarlyOrOverfillsTheMachine() {
        for seed in UInt64(100)...140 {
            let w = Self.randomWorkload(seed: seed, jobs: 200, machine: 16)
            for policy in ReplayPolicy.allCases {
                let s = FlatMachineReplay(workload: w, policy: policy).run().starts
                var events: [(Int, Int)] = []
                for (job, start) in zip(w.jobs, s) {
                    #expect(start >= job.submit)
                    events.append((start, job.procs))
                    events.append((start + job.run, -job.procs))
                }
                events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                var used = 0
                for (_, delta) in events {
                    used += delta
                    #expect(used <= w.machineSize)
                }
            }
        }
    }

    @Test func replayIsDeterministic() {
        let w = Self.randomWorkload(seed: 7, jobs: 500, machine: 32)
        for policy in ReplayPolicy.allCases {
            let a = FlatMachineReplay(workload: w, policy: policy).run()
            let b = FlatMachineReplay(workload: w, policy: policy).run()
            #expect(a.starts == b.starts)
            #expect(a.metrics == b.metrics)
        }
    }
}

@Suite("Replay metrics")
struct ReplayMetricsTests {
    @Test func figuresOfExampleA() {
        let w = SWFWorkload(machineSize: 4, unorderedJobs: [J(1, 0, 10, 2), J(2, 1, 5, 4), J(3, 2, 2, 1)])
        let m = FlatMachineReplay(workload: w, policy: .easy).run().metrics
        #expect(m.jobs == 3)
        #expect(m.maxWait == 9)
        #expect(m.avgWait == 3.0)                 // (0 + 9 + 0) / 3
        // bsld: max(1, 10/10)=1, (9+5)/10=1.4, max(1, 2/10)=1
        #expect(abs(m.avgBoundedSlowdown - 3.4 / 3) < 1e-12)
        #expect(m.firstSubmit == 0)
        #expect(m.lastEnd == 15)
        #expect(m.makespan == 15)
        #expect(abs(m.utilization - Double(2 * 10 + 4 * 5 + 1 * 2) / Double(4 * 15)) < 1e-12)
    }

    @Test func emptyReplayHasZeroesAndNulls() {
        let w = SWFWorkload(machineSize: 4, jobs: [])
        let m = FlatMachineReplay(workload: w, policy: .conservative).run().metrics
        #expect(m.jobs == 0 && m.makespan == 0 && m.utilization == 0 && m.avgWait == 0)
        #expect(m.firstSubmit == nil && m.lastEnd == nil)
    }
}
