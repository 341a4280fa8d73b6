import ChessAPI
import ControllerCore
import Foundation
import GRDB
import SchedulerCore

/// Accounting reads: every job row the store holds, finished or not, in a time window.
extension Controller {
    struct AccountingQuery {
        /// Jobs that existed at some point in `[start, end]`.
        var start: Int
        var end: Int
        var users: Set<String>?
        var accounts: Set<String>?
        var partitions: Set<String>?
        var states: Set<JobState>?
        var ids: Set<JobID>?
    }

    func accounting(_ q: AccountingQuery) throws(APIError) -> [AccountingRecord] {
        let rows: [JobRecord]
        do {
            rows = try store.read { try JobTable.existing(from: q.start, to: q.end, in: $0) }
        } catch {
            throw .internal("reading accounting: \(error)")
        }
        lock.lock()
        let index = self.index
        lock.unlock()
        let now = clock.now()
        // sacct's order: by job id, an array's tasks together under it.
        let ordered = rows.sorted { ($0.job.arrayJobID ?? $0.job.id, $0.job.arrayTaskIndex ?? -1) < ($1.job.arrayJobID ?? $1.job.id, $1.job.arrayTaskIndex ?? -1) }
        return ordered.flatMap { r -> [AccountingRecord] in
            // An array's own row stands for its tasks not yet started, and for those cancelled
            // before they started (a record of their own, CANCELLED); the started tasks speak
            // for themselves.
            guard let a = r.job.array else { return record(r, q, index: index, now: now).map { [$0] } ?? [] }
            var records: [AccountingRecord] = []
            if !a.pending.isEmpty, let rec = record(r, q, index: index, now: now) { records.append(rec) }
            if let cancelled = a.cancelled, !cancelled.isEmpty {
                var c = r
                c.job.state = .cancelled
                c.job.array = ArrayTasks(pending: cancelled)
                c.endReason = "cancelled before it started"
                c.exitCode = nil
                if let rec = record(c, q, index: index, now: now) { records.append(rec) }
            }
            return records
        }
    }

    private func record(_ r: JobRecord, _ q: AccountingQuery, index: ClusterIndex, now: Int) -> AccountingRecord? {
        let j = r.job
        if let u = q.users, !u.contains(j.user) { return nil }
        if let a = q.accounts, !a.contains(j.account) { return nil }
        if let p = q.partitions, !p.contains(j.partition) { return nil }
        if let s = q.states, !s.contains(j.state) { return nil }
        if let ids = q.ids, !ids.contains(j.id), !(j.arrayJobID.map(ids.contains) ?? false) { return nil }
        let tres = j.allocation?.tres ?? index.tres(of: j)
        var rec = AccountingRecord(
            id: j.id, jobID: r.displayID, name: j.name, user: j.user, account: j.account, partition: j.partition,
            qos: j.qos, state: j.state.rawValue, submitTime: j.submitTime,
            elapsed: r.runSeconds(at: now), allocCPUs: j.allocation == nil ? 0 : tres.cpus,
            allocMemoryMB: j.allocation == nil ? 0 : tres.memoryMB, allocGPUs: j.allocation == nil ? 0 : tres.gpus,
            allocNodes: j.allocation == nil ? 0 : tres.nodes, requeues: r.requeueCount)
        rec.arrayJobID = j.arrayJobID
        rec.arrayTaskID = j.arrayTaskIndex
        rec.reason = j.state.isWaiting ? j.reason?.rawValue : r.endReason
        rec.exitCode = r.exitCode
        rec.eligibleTime = r.eligibleTime
        rec.startTime = j.startTime
        rec.endTime = j.endTime
        rec.timeLimit = j.request.timeLimit
        rec.nodeList = j.allocation.map { HostList.compress($0.nodeNames) }
        rec.cpuSeconds = r.usage?.cpuSeconds
        rec.maxRSSMB = r.usage?.maxRSSMB
        rec.gpuSeconds = r.usage?.gpuSeconds
        rec.steps = r.steps
        return rec
    }
}
