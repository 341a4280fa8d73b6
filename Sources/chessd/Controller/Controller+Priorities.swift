import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl priority` (sprio): what each pending job's priority is made of.
extension Controller {
    /// Pending jobs (arrays with tasks not yet started count once) with their priority and its
    /// weighted factors as the next pass computes them, highest first; `users` and `ids` filter.
    func priorities(users: Set<String>?, ids: Set<JobID>?) -> JobPriorityList {
        let now = Controller.now()
        lock.lock()
        defer { lock.unlock() }
        ledger.decay(to: now)
        let cluster = effectiveClusterLocked()
        let calculator = PriorityCalculator(weights: configuration.planner.effectiveWeights, now: now, cluster: cluster, usage: ledger.usage)
        var list: [JobPriorityInfo] = []
        for id in records.keys {
            guard let info = records.read(id, { r -> JobPriorityInfo? in
                let j = r.job
                guard j.state.isWaiting, !(j.array?.pending.isEmpty ?? false) else { return nil }
                if let users, !users.contains(j.user) { return nil }
                if let ids, !ids.contains(j.id) { return nil }
                let b = calculator.breakdown(of: j, cpus: PriorityCalculator.requestedCPUs(j), partition: cluster.partition(named: j.partition),
                                             qos: cluster.qos(named: j.qos))
                return JobPriorityInfo(id: j.id, displayID: r.displayID, user: j.user, account: j.account, partition: j.partition, qos: j.qos,
                                       priority: b.total, age: b.age, fairShare: b.fairShare, jobSize: b.jobSize,
                                       partitionFactor: b.partition, qosFactor: b.qos, adminSet: b.override != nil)
            }) ?? nil else { continue }
            list.append(info)
        }
        list.sort { ($0.priority, -$0.id) > ($1.priority, -$1.id) }
        return JobPriorityList(jobs: list)
    }
}
