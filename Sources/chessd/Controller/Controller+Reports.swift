import ChessAPI
import ControllerCore
import SchedulerCore

/// `chessctl report` (sreport): the cluster's use over a period, from the jobs the store holds
/// and the outages it recorded.
extension Controller {
    /// Allocated CPU- and GPU-seconds of every job that held resources in `[start, end)` (a
    /// running job up to `end`), with its user and account: what both reports add up.
    private func holdings(from start: Int, to end: Int) throws(APIError) -> [(job: Job, cpuSeconds: Int, gpuSeconds: Int)] {
        let rows: [JobRecord]
        do { rows = try store.read { try JobTable.existing(from: start, to: end, in: $0) } } catch {
            throw .internal("reading accounting: \(error)")
        }
        return rows.compactMap { r in
            guard let began = r.job.startTime, let allocation = r.job.allocation else { return nil }
            let seconds = max(min(r.job.endTime ?? end, end) - max(began, start), 0)
            guard seconds > 0 else { return nil }
            let tres = allocation.tres
            return (r.job, tres.cpus * seconds, tres.gpus * seconds)
        }
    }

    /// The period clipped to now: a report says what happened, not what may.
    private func period(_ start: Int, _ end: Int) throws(APIError) -> (Int, Int) {
        let end = min(end, clock.now())
        guard end >= start else { throw .badRequest("the period ends before it starts (start \(start), end \(end))") }
        return (start, end)
    }

    /// sreport cluster utilization: reported = the configured nodes' cores over the period;
    /// down = each node's outages times its cores; allocated = what jobs held; idle = the rest.
    func utilization(from start: Int, to end: Int) throws(APIError) -> UtilizationReport {
        let (start, end) = try period(start, end)
        lock.lock()
        let nodes = index.cluster.nodes
        lock.unlock()
        let outages: [String: Int]
        do { outages = try store.read { try MarketTable.outageSecondsByNode(from: start, to: end, in: $0) } } catch {
            throw .internal("reading node outages: \(error)")
        }
        let cpus = nodes.reduce(0) { $0 + $1.topology.coreCount }
        let reported = cpus * (end - start)
        let down = min(nodes.reduce(0) { $0 + $1.topology.coreCount * (outages[$1.name] ?? 0) }, reported)
        let allocated = min(try holdings(from: start, to: end).reduce(0) { $0 + $1.cpuSeconds }, reported)
        return UtilizationReport(start: start, end: end, nodes: nodes.count, cpus: cpus, reported: reported, allocated: allocated,
                                 down: down, idle: max(reported - allocated - down, 0))
    }

    /// sreport user topusage: users by the CPU-seconds their jobs held, most first.
    func topUsage(from start: Int, to end: Int, top: Int) throws(APIError) -> TopUsageReport {
        let (start, end) = try period(start, end)
        guard top >= 1 else { throw .badRequest("top must be at least 1") }
        lock.lock()
        let cpus = index.cluster.nodes.reduce(0) { $0 + $1.topology.coreCount }
        lock.unlock()
        var byUser: [String: UserUsage] = [:]
        var accounts: [String: Set<String>] = [:]
        for h in try holdings(from: start, to: end) {
            var u = byUser[h.job.user] ?? UserUsage(user: h.job.user, accounts: [], cpuSeconds: 0, gpuSeconds: 0, jobs: 0)
            u.cpuSeconds += h.cpuSeconds
            u.gpuSeconds += h.gpuSeconds
            u.jobs += 1
            byUser[h.job.user] = u
            accounts[h.job.user, default: []].insert(h.job.account)
        }
        let users = byUser.values.map { u -> UserUsage in
            var u = u
            u.accounts = accounts[u.user, default: []].sorted()
            return u
        }.sorted { ($0.cpuSeconds, $1.user) > ($1.cpuSeconds, $0.user) }
        return TopUsageReport(start: start, end: end, reported: cpus * (end - start), users: Array(users.prefix(top)))
    }
}
