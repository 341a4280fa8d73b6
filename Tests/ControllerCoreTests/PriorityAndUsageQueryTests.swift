import ChessAPI
import ControllerCore
import SchedulerCore
import Testing

/// sprio, sshare and sstat, read from the state alone.
@Suite("Priority, share and usage queries on the state") struct PriorityAndUsageQueryTests {
    @Test func pendingJobsComeHighestPriorityFirstAndAHeavyAccountSinks() {
        var state = makeState(nodes: 1)
        var cluster = state.index.cluster
        cluster.accounts = [Account(name: "heavy", shares: 1), Account(name: "light", shares: 1)]
        state.index = ClusterIndex(cluster)
        let blocker = submit(&state, cores: 16, limit: 600)
        pass(&state, now: 0)
        let heavy = submit(&state, cores: 4, limit: 600)
        state.records[heavy]?.job.account = "heavy"
        let light = submit(&state, cores: 4, limit: 600)
        state.records[light]?.job.account = "light"
        state.ledger.charge("heavy", 1_000_000)
        let weights = PriorityWeights(age: 0, fairShare: 10_000, jobSize: 0, partition: 0)
        let list = state.priorities(users: nil, ids: nil, weights: weights, now: 10)
        // The running job is not pending; the account that used nothing comes first.
        #expect(list.jobs.map(\.id) == [light, heavy])
        #expect(list.jobs[0].fairShare > list.jobs[1].fairShare)
        #expect(state.priorities(users: nil, ids: [heavy], weights: weights, now: 10).jobs.map(\.id) == [heavy])
        #expect(state.priorities(users: ["bob"], ids: nil, weights: weights, now: 10).jobs.isEmpty)
        #expect(!list.jobs.contains { $0.id == blocker })
    }

    @Test func sharesListAccountsWithUsageDecayedToNow() {
        var state = makeState(nodes: 1)
        state.ledger.charge("chem", 3_000)
        state.ledger.charge("physics", 1_000)
        let week = 7 * 86400
        let now = state.shares(weights: PriorityWeights(), now: 0)
        // The configured account first (no usage), then those with usage and no configuration.
        #expect(now.accounts.map(\.account) == ["default", "chem", "physics"])
        #expect(now.accounts.map(\.usage) == [0, 3_000, 1_000])
        #expect(now.accounts.map(\.effectiveUsage) == ["0.000000", "0.750000", "0.250000"])
        // One half-life later, half of it.
        let later = state.shares(weights: PriorityWeights(), now: week)
        #expect(later.accounts.map(\.usage) == [0, 1_500, 500])
        #expect(ControllerState.sixPlaces(250_000) == "0.250000")
        #expect(ControllerState.sixPlaces(1_000_001) == "1.000001")
    }

    @Test func usageIsForRunningJobsOfTheCurrentRunOnly() throws {
        var state = makeState(nodes: 1)
        let running = submit(&state, cores: 16, limit: 600)
        pass(&state, now: 0)
        let waiting = submit(&state, cores: 16, limit: 600)
        #expect(try state.runningUsage(of: [JobReference(id: running, task: nil)]).unmeasured == ["\(running)"])
        state.liveUsage[running] = JobLiveUsage(job: running, run: 0, cpuSeconds: 50, memoryMB: 10, processes: 2, time: 5)
        let measured = try state.runningUsage(of: [JobReference(id: running, task: nil)])
        #expect(measured.jobs.map(\.cpuSeconds) == [50] && measured.jobs.first?.displayID == "\(running)")
        // A measurement of an earlier run does not count.
        state.liveUsage[running]?.run = 3
        #expect(try state.runningUsage(of: [JobReference(id: running, task: nil)]).unmeasured == ["\(running)"])
        #expect(throws: APIError.self) { try state.runningUsage(of: [JobReference(id: waiting, task: nil)]) }
        #expect(throws: APIError.self) { try state.runningUsage(of: [JobReference(id: 999, task: nil)]) }
        var changes = StateChanges()
        state.finish(running, state: .completed, exitCode: 0, reason: "exited with 0", now: 9, changes: &changes, notifyAgent: false)
        do {
            _ = try state.runningUsage(of: [JobReference(id: running, task: nil)])
            Issue.record("an ended job has no running usage")
        } catch {
            #expect(error.status == 409)
        }
    }
}
