import ChessAPI
import SchedulerCore

/// Which live jobs a queue listing shows (squeue's -u, -t, -p, -j); nil lets every one through.
package struct QueueFilter: Sendable {
    package var users: Set<String>?
    package var states: Set<JobState>?
    package var partitions: Set<String>?
    package var ids: Set<JobID>?

    package init(users: Set<String>? = nil, states: Set<JobState>? = nil, partitions: Set<String>? = nil, ids: Set<JobID>? = nil) {
        self.users = users
        self.states = states
        self.partitions = partitions
        self.ids = ids
    }
}

/// Which records a listing shows, asked record by record where it lies (`admit`), so that a
/// long listing can select and render in one pass over the records, in parts on several cores
/// (each part with its own selection): a separate selecting pass over ten thousand records read
/// each one from memory twice, the first time on one core. Holds what one listing works out
/// once: the unavailable nodes of each partition.
package struct QueueSelection {
    private let filter: QueueFilter
    private var unavailable: [String: String?] = [:]  // by partition
    // The last partition's answer, looked at before the table: queues run long in one
    // partition, and hashing each job's partition name was a tenth of a listing.
    private var last: (partition: String, nodes: String?)?

    package init(_ filter: QueueFilter) { self.filter = filter }

    /// Nil when the record is not shown; else the nodes that keep it waiting (ReqNodeNotAvail),
    /// if any, from `unavailableNodes` (`ControllerState.unavailableNodes(for:)`; asked once
    /// per partition where it can be). An array whose every task has started shows through its
    /// tasks only.
    package mutating func admit(_ record: UnsafePointer<JobRecord>, unavailableNodes: (Job) -> String?) -> String?? {
        if record.pointee.job.array?.pending.isEmpty == true { return nil }
        if let u = filter.users, !u.contains(record.pointee.job.user) { return nil }
        if let s = filter.states, !s.contains(record.pointee.job.state) { return nil }
        if let p = filter.partitions, !p.contains(record.pointee.job.partition) { return nil }
        if let ids = filter.ids, !ids.contains(record.pointee.job.id) && !(record.pointee.job.arrayJobID.map(ids.contains) ?? false) { return nil }
        guard record.pointee.job.reason == .reqNodeNotAvail else { return .some(nil) }
        if record.pointee.job.request.requiredNodes != nil || record.pointee.job.request.excludedNodes != nil {
            return .some(unavailableNodes(record.pointee.job))
        }
        let partition = record.pointee.job.partition
        if let last, last.partition == partition { return .some(last.nodes) }
        if unavailable[partition] == nil { unavailable[partition] = unavailableNodes(record.pointee.job) }
        last = (partition, unavailable[partition]!)
        return .some(last!.nodes)
    }
}

extension ControllerState {
    /// The slots (in `records`) of the live jobs `filter` lets through, oldest first, with the
    /// nodes that keep each ReqNodeNotAvail job waiting (`QueueSelection`). The listing is
    /// rendered from the slots where the records lie, without a copy of each.
    package func queued(_ filter: QueueFilter) -> [(slot: Int32, unavailableNodes: String?)] {
        var out: [(slot: Int32, unavailableNodes: String?)] = []
        out.reserveCapacity(records.count)
        var selection = QueueSelection(filter)
        for slot in records.slotsByID() {
            records.withRecord(slot: Int(slot)) { record in
                if let unavailable = selection.admit(record, unavailableNodes: unavailableNodes(for:)) { out.append((slot, unavailable)) }
            }
        }
        return out
    }

    /// The nodes a job may use that are drained or down (by an administrator, a silent agent, or
    /// one not registered yet), as a host list: what keeps a ReqNodeNotAvail job waiting. Those of
    /// its `--nodelist` if any is out, else those of its partition less its `--exclude`.
    package func unavailableNodes(for job: Job) -> String? {
        func out(_ names: [String]) -> [String] { names.filter { (nodes[$0]?.adminState ?? .down) != .up } }
        var found = out(job.request.requiredNodes ?? [])
        if found.isEmpty {
            let excluded = Set(job.request.excludedNodes ?? [])
            found = out((index.cluster.partition(named: job.partition)?.nodes ?? []).filter { !excluded.contains($0) })
        }
        return found.isEmpty ? nil : HostList.compress(found)
    }

    /// A live job's record by `1234` or `1234_7` (a task not started yet: its array's record
    /// narrowed to that task); nil when it is not live (the store has it, if anyone).
    package func liveRecord(_ ref: JobReference) -> JobRecord? {
        guard let task = ref.task else { return records[ref.id] }
        if let live = startedTask(ref.id, task) { return live }
        guard var array = records[ref.id], array.job.array?.pending.contains(task) == true else { return nil }
        array.job.array = ArrayTasks(pending: [task], maxRunning: nil)
        return array
    }

    /// How `show job` presents a record: with the unavailable nodes of a ReqNodeNotAvail job.
    package func info(of record: JobRecord) -> JobInfo {
        var info = record.info(index)
        if record.job.reason == .reqNodeNotAvail { info.unavailableNodes = unavailableNodes(for: record.job) }
        return info
    }
}
