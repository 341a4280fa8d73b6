import ChessAPI
import SchedulerCore

/// `chessctl diag` (sdiag): counters since start, the scheduler's pass times, nodes and the store.
extension Controller {
    func diagnostics() -> Diagnostics {
        let passes = passDurations.summary
        let (commits, writes) = store.commitCounts
        var nodesByState: [String: Int] = [:]
        for n in nodeInfos() { nodesByState[n.state, default: 0] += 1 }
        lock.lock()
        defer { lock.unlock() }
        var pending = 0, running = 0
        for r in records.values {
            if r.job.state.isWaiting {
                pending += r.job.array?.pending.count ?? 1
            } else if r.job.state.isActive {
                running += 1
            }
        }
        let agents = Set(nodes.values.compactMap { $0.registered ? $0.agent : nil }).count
        func micro(_ seconds: Double) -> Int { Int((seconds * 1_000_000).rounded()) }
        return Diagnostics(time: clock.now(), startedAt: startedAt, jobsSubmitted: submittedCount, jobsStarted: startedCount,
                           jobsEnded: Dictionary(uniqueKeysWithValues: endedCounts.map { ($0.key.rawValue, $0.value) }),
                           jobsPending: pending, jobsRunning: running, passes: passes.count,
                           lastPassMicroseconds: micro(passes.last), lastPassAt: passes.lastAt, meanPassMicroseconds: micro(passes.mean),
                           maxPassMicroseconds: micro(passes.max), nodes: nodesByState, agents: agents,
                           storeCommits: commits, storeWrites: writes)
    }
}
