import ChessAPI
import SchedulerCore

/// `sprio` and `sshare`: priorities and fair share as the next scheduling pass computes them.
extension ControllerState {
    /// `sprio`: pending jobs (an array with tasks not yet started counts once) with their
    /// priority and its weighted factors as the next pass computes them (usage decayed to `now`,
    /// the cluster the planner sees), highest first; `users` and `ids` filter.
    package mutating func priorities(users: Set<String>?, ids: Set<JobID>?, weights: PriorityWeights, now: Int) -> JobPriorityList {
        ledger.decay(to: now)
        let cluster = effectiveCluster()
        let calculator = PriorityCalculator(weights: weights, now: now, cluster: cluster, usage: ledger.usage)
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

    /// `sshare`: each account's shares, decayed usage (to `now`) and fair-share factor;
    /// configured accounts first, then any with usage and no configuration (no shares).
    package mutating func shares(weights: PriorityWeights, now: Int) -> AccountShareList {
        ledger.decay(to: now)
        let cluster = effectiveCluster()
        let usage = ledger.usage
        let calculator = PriorityCalculator(weights: weights, now: now, cluster: cluster, usage: usage)
        var accounts = cluster.accounts
        let configured = Set(accounts.map(\.name))
        accounts += usage.keys.filter { !configured.contains($0) }.sorted().map { Account(name: $0, shares: 0) }
        // Sums in 128 bits: shares come from the configuration, usage from many jobs' charges.
        let totalShares = accounts.reduce(Int128(0)) { $0 + Int128(max($1.shares, 0)) }
        let totalUsage = usage.values.reduce(Int128(0)) { $0 + Int128(max($1, 0)) }
        func fraction(_ part: Int, of whole: Int128) -> String {
            Self.sixPlaces(whole > 0 ? Int(Int128(max(part, 0)) * 1_000_000 / whole) : 0)
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
    package static func sixPlaces(_ millionths: Int) -> String {
        let fraction = String(millionths % 1_000_000)
        return "\(millionths / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
