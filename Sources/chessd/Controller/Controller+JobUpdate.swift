import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl update` (scontrol update job): a live job's time limit, name or priority.
extension Controller {
    /// Applies `update` with Slurm's rules (owners shorten time limits, administrators also
    /// lengthen them and set priorities), stores it with an event, and sends a running job's new
    /// limit to the agent that supervises it (the supervisor enforces limits on its own, for when
    /// the controller is away).
    func updateJob(_ ref: JobReference, _ update: JobUpdate, identity: Identity,
                   completion: @escaping @Sendable (Result<JobInfo, APIError>) -> Void) {
        guard update.timeLimit != nil || update.name != nil || update.priority != nil else {
            return completion(.failure(.badRequest("nothing to change: give time_limit, name or priority")))
        }
        let now = Controller.now()
        lock.lock()
        let updated: [(JobRecord, String)]
        do {
            updated = try updateLocked(ref, update, identity)
        } catch {
            lock.unlock()
            return completion(.failure(error))
        }
        let index = self.index
        lock.unlock()
        store.write({ db in
            for (record, change) in updated {
                try JobTable.save(record, in: db)
                try JobTable.event(record.id, time: now, state: record.job.state, reason: "\(change) by \(identity.user)", in: db)
            }
        }, completion: { [self] error in
            if let error { return completion(.failure(.unavailable("the change could not be stored: \(error)"))) }
            dispatchCommands()
            requestPass()
            completion(.success(updated[0].0.info(index)))
        })
    }

    /// The job `ref` names, changed, first; for an array (`1234`), its tasks already started or
    /// waiting too, as `scontrol update` does (a priority is the array's own: its tasks not yet
    /// started). Nothing changes unless every record takes the change.
    private func updateLocked(_ ref: JobReference, _ u: JobUpdate, _ identity: Identity) throws(APIError) -> [(JobRecord, String)] {
        var id = ref.id
        if let task = ref.task {
            if let live = startedTaskLocked(ref.id, task) {
                id = live.id
            } else if records[ref.id]?.job.array?.pending.contains(task) == true {
                throw .conflict("an update applies to the whole array \(ref.id) until task \(task) starts")
            } else {
                id = -1
            }
        }
        guard let named = records[id] else {
            if finished[ref.id] != nil { throw .conflict("job \(ref) has already ended") }
            throw .notFound("job \(ref) does not exist or has ended")
        }
        var targets = [named]
        if ref.task == nil, named.job.array != nil {
            targets += startedTasksLocked(of: id).filter { Self.isUpdatable($0.job.state) }
        }
        var updated: [(JobRecord, String)] = []
        for (i, record) in targets.enumerated() {
            var taskUpdate = u
            if i > 0 { taskUpdate.priority = nil }
            updated.append(try applying(taskUpdate, to: record, ref: ref, identity: identity))
        }
        for (r, _) in updated {
            records[r.id] = r
            if u.timeLimit != nil, r.job.state == .running || r.job.state == .suspended, let node = r.job.allocation?.nodes.first?.node,
               let limit = r.job.request.timeLimit {
                pendingTimeLimits.append((r.id, node, limit, r.requeueCount))
            }
        }
        return updated
    }

    /// Pending, running and suspended jobs take updates; one that is ending or ended does not.
    private static func isUpdatable(_ state: JobState) -> Bool { state.isWaiting || state == .running || state == .suspended }

    /// `r` with the update applied, and what changed in words; throws what Slurm's rules refuse.
    private func applying(_ u: JobUpdate, to original: JobRecord, ref: JobReference, identity: Identity) throws(APIError) -> (JobRecord, String) {
        var r = original
        guard identity.owns(r) else {
            throw .forbidden("job \(ref) belongs to \(r.job.user); only its owner or an administrator may update it")
        }
        let state = r.job.state
        guard Self.isUpdatable(state) else {
            throw .conflict("job \(ref) is \(state.rawValue); only pending, running or suspended jobs can be updated")
        }
        var changes: [String] = []
        if let limit = u.timeLimit {
            guard limit > 0 else { throw .badRequest("time_limit must be positive (seconds)") }
            let partition = index.cluster.partition(named: r.job.partition)
            let current = r.job.request.timeLimit ?? partition?.defaultTime ?? partition?.maxTime
            let longer = current.map { limit > $0 } ?? true
            if longer && !identity.admin {
                throw .forbidden("only an administrator may lengthen a job's time limit (job \(ref)'s is \(current.map(Duration.slurm) ?? "UNLIMITED"); it can be shortened)")
            }
            if longer && r.market != nil {
                throw .conflict("job \(ref) is a marketplace job: its escrow covers its time limit, which can only be shortened")
            }
            r.job.request.timeLimit = limit
            changes.append("time limit \(Duration.slurm(limit))")
        }
        if let name = u.name {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.contains(where: \.isNewline) else { throw .badRequest("a job name cannot be empty or span lines") }
            r.job.name = trimmed
            changes.append("name \(trimmed)")
        }
        if let priority = u.priority {
            guard identity.admin else { throw .forbidden("only an administrator may set a job's priority") }
            guard state.isWaiting else { throw .conflict("job \(ref) is \(state.rawValue); a priority is for pending jobs") }
            r.job.priorityOverride = priority
            changes.append("priority \(priority)")
        }
        return (r, changes.joined(separator: ", "))
    }
}
