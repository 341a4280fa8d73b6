import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl priority` (sprio): what each pending job's priority is made of.
extension Controller {
    /// Pending jobs (arrays with tasks not yet started count once) with their priority and its
    /// weighted factors as the next pass computes them, highest first; `users` and `ids` filter.
    func priorities(users: Set<String>?, ids: Set<JobID>?) -> JobPriorityList {
        let now = clock.now()
        lock.lock()
        defer { lock.unlock() }
        let (calculator, cluster) = priorityCalculatorLocked(now: now)
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
                                       partitionFactor: b.partition, qosFactor: b.qos, nice: b.nice, adminSet: b.override != nil)
            }) ?? nil else { continue }
            list.append(info)
        }
        list.sort { ($0.priority, -$0.id) > ($1.priority, -$1.id) }
        return JobPriorityList(jobs: list)
    }

    /// Priorities as the next pass computes them: usage decayed to `now`, the cluster the
    /// planner sees.
    private func priorityCalculatorLocked(now: Int) -> (PriorityCalculator, Cluster) {
        ledger.decay(to: now)
        let cluster = effectiveClusterLocked()
        return (PriorityCalculator(weights: configuration.planner.effectiveWeights, now: now, cluster: cluster, usage: ledger.usage), cluster)
    }
}

/// `chessctl share` (sshare): each account's shares, decayed usage and fair-share factor.
extension Controller {
    func shares() -> AccountShareList {
        let now = clock.now()
        lock.lock()
        defer { lock.unlock() }
        let (calculator, cluster) = priorityCalculatorLocked(now: now)
        let usage = ledger.usage
        // Configured accounts, then any that has usage without being configured (no shares).
        var accounts = cluster.accounts
        let configured = Set(accounts.map(\.name))
        accounts += usage.keys.filter { !configured.contains($0) }.sorted().map { Account(name: $0, shares: 0) }
        let totalShares = accounts.reduce(0) { $0 + max($1.shares, 0) }
        let totalUsage = usage.values.reduce(0) { $0 + max($1, 0) }
        func fraction(_ part: Int, of whole: Int) -> String {
            Self.sixPlaces(whole > 0 ? Int(Int128(max(part, 0)) * 1_000_000 / Int128(whole)) : 0)
        }
        let infos = accounts.map { a in
            let used = max(usage[a.name] ?? 0, 0)
            return AccountShareInfo(account: a.name, parent: a.parent, shares: a.shares, normalizedShares: fraction(a.shares, of: totalShares),
                                    usage: used, effectiveUsage: fraction(used, of: totalUsage),
                                    fairShare: Self.sixPlaces(calculator.fairShareFactor(account: a.name)))
        }
        return AccountShareList(accounts: infos, halfLife: ledger.halfLife)
    }

    /// Millionths as decimal text: 250000 → `0.250000`.
    static func sixPlaces(_ millionths: Int) -> String {
        let fraction = String(millionths % 1_000_000)
        return "\(millionths / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
