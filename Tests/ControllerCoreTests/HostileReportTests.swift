import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// Every number an agent sends is hostile until bounded: seeded random sequences of
/// registrations, heartbeats (completions, usage, metrics, health), step reports and updates with
/// extreme values, interleaved with scheduling passes, time limits, silent-agent checks and every
/// read, on the state alone. A trap anywhere stops the test process, so the test passes only when
/// none of them traps (the two traps found before this test existed, a far-future end time and
/// a huge NUMA domain, are in the regression corpus). Bounded: 80 sequences of 40 steps.
@Suite("Hostile agent reports on the state") struct HostileReportTests {
    /// SchedulerCore's SplitMix64: the same sequences on every run.
    struct Generator {
        var random: SplitMix64
        mutating func next() -> UInt64 { random.next() }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }

        /// A number an attacker would send.
        mutating func hostile() -> Int {
            pick([0, 1, -1, 2, 7, 600, 86_400, Int.max, Int.min, Int.max - 1, Int.min + 1, 1 << 31, -(1 << 31), 1 << 53, -(1 << 53),
                  1 << 62, Int(bitPattern: UInt(next())), below(1_000_000)])
        }
        mutating func maybe() -> Int? { below(3) == 0 ? nil : hostile() }
    }

    @Test func noSequenceOfExtremeReportsTrapsTheRulesOrTheReads() throws {
        var g = Generator(random: SplitMix64(seed: 0x00C4_E550_2026_1207))
        var steps = 0
        var ended = 0, registrations = 0, drained = 0
        for _ in 0..<80 {
            var state = AgentReportTests.unregistered()
            var changes = StateChanges()
            _ = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [
                AgentNodeReport(name: "n01", topology: AgentReportTests.probe()), AgentNodeReport(name: "n02", topology: AgentReportTests.probe()),
            ]), now: 0, changes: &changes)
            var ids: [JobID] = []
            for _ in 0..<3 { ids.append(submit(&state, cores: 4, limit: 600)) }
            ids.append(submit(&state, cores: 2, array: [0, 1, 2]))
            var now = 1
            pass(&state, now: now)
            for _ in 0..<40 {
                steps += 1
                now += g.pick([0, 1, 30, 600, 86_400])
                let job = g.below(4) == 0 ? g.hostile() : g.pick(ids + state.records.keys.map { $0 })
                var changes = StateChanges()
                switch g.below(8) {
                case 0:
                    // Half of them for a job that runs, of its current run: those the rules take.
                    let running = state.records.values.filter { $0.job.state == .running }
                    let target = g.below(2) == 0 ? running.first : nil
                    var c = JobCompletion(job: target?.id ?? job, state: g.pick(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "", "x"]),
                                          exitCode: g.hostile(), signal: g.maybe(), startTime: g.maybe(), endTime: g.hostile(),
                                          cpuSeconds: g.hostile(), maxRSSMB: g.hostile(), gpuSeconds: g.hostile(), reason: nil, run: target.map { $0.requeueCount } ?? g.maybe())
                    if g.below(2) == 0 {
                        var step = StepRecord(step: g.hostile(), name: "s", nodeList: "n01", nodes: g.hostile(), tasks: g.hostile(),
                                              cpus: g.hostile(), startTime: g.hostile())
                        step.endTime = g.maybe()
                        c.steps = [step]
                    }
                    _ = try? state.heartbeat(AgentHeartbeat(agent: "host-a", completions: [c]), now: now, healthCheckConfigured: g.below(2) == 0,
                                             changes: &changes)
                    ended += changes.ended.count
                case 1:
                    let metrics = NodeMetrics(load1Centi: g.hostile(), memoryFreeMB: g.hostile(), memoryTotalMB: g.hostile(), gpus: [
                        .init(index: g.hostile(), utilizationPercent: g.maybe(), memoryUsedMB: g.maybe(), temperatureC: g.maybe(),
                              powerMilliwatts: g.maybe(), eccUncorrected: g.maybe()),
                    ])
                    let usage = JobLiveUsage(job: job, run: g.hostile() % 3, cpuSeconds: g.hostile(), memoryMB: g.hostile(),
                                             processes: g.hostile(), time: g.hostile())
                    let health = g.below(3) == 0 ? HealthReport(ok: g.below(2) == 0, message: "disk", time: g.hostile()) : nil
                    _ = try? state.heartbeat(AgentHeartbeat(agent: g.pick(["host-a", "host-b"]), metrics: metrics, usage: [usage], health: health),
                                             now: now, healthCheckConfigured: true, changes: &changes)
                case 2:
                    var record = StepRecord(step: g.hostile(), name: "s", nodeList: "n[01-02]", nodes: g.hostile(), tasks: g.hostile(),
                                            cpus: g.hostile(), startTime: g.hostile())
                    record.state = g.pick(["RUNNING", "COMPLETED"])
                    state.applyStepReports([StepReport(job: job, run: g.hostile() % 2, record: record)], from: "host-a")
                case 3:
                    let half = max(g.below(64), 1)
                    let topology = AgentTopology(sockets: g.pick([1, 2, g.hostile()]), threadsPerCore: g.pick([1, 2, g.hostile()]), numa: [
                        .init(id: g.pick([0, g.hostile()]), cores: Array(0..<half), memoryMB: g.hostile()),
                        .init(id: 1, cores: [g.hostile(), g.hostile()], memoryMB: g.pick([32_000, g.hostile()])),
                    ], gpus: g.below(2) == 0 ? [.init(index: g.hostile(), type: "a100", numa: g.maybe())] : [])
                    let outcome = state.register(AgentRegistration(agent: "host-a", version: "1", nodes: [AgentNodeReport(name: g.pick(["n01", "n02"]), topology: topology)],
                                                                   running: [job], completions: []), now: now, changes: &changes)
                    registrations += 1
                    drained += outcome.nodes.filter { $0.state == "drain" }.count
                case 4:
                    let update = JobUpdate(timeLimit: g.maybe(), priority: g.maybe())
                    _ = try? state.update(JobReference(id: job, task: g.below(2) == 0 ? nil : g.hostile()), update, JobActionTests.root,
                                          now: now, defaultPartition: "batch", mailDomain: nil)
                case 5:
                    _ = try? state.perform(g.pick([.cancel, .hold, .release, .requeue, .suspend, .resume]), JobReference(id: job, task: nil),
                                           JobActionTests.root, now: now, changes: &changes)
                case 6:
                    state.checkHeartbeats(now: now, timeout: g.pick([1, 300, Int.max / 4]), changes: &changes)
                default:
                    pass(&state, now: now)
                }
                // Every read, after every step.
                _ = state.nodeInfos()
                _ = state.queued(QueueFilter())
                _ = state.runningSteps()
                _ = state.priorities(users: nil, ids: nil, weights: PriorityWeights(), now: now)
                _ = state.shares(weights: PriorityWeights(), now: now)
                _ = try? state.runningUsage(of: state.records.keys.map { JobReference(id: $0, task: nil) })
                for r in state.records.values {
                    _ = state.info(of: r)
                    _ = r.launch(script: "#!/bin/sh\n", environment: [:], clusterName: "test")
                    _ = r.supervisorTimeLimit
                }
                _ = state.takeOutgoing()
            }
        }
        #expect(steps == 80 * 40)
        // The sequences reach the rules, not only their refusals.
        #expect(ended > 20, "\(ended) jobs ended by a reported completion")
        #expect(registrations > 100 && drained > 20, "\(registrations) registrations, \(drained) drains")
    }
}
