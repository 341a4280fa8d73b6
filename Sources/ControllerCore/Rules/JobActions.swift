import ChessAPI
import MarketBridge
import SchedulerCore

/// What a user or an administrator may do to a job.
package enum JobAction: String, Sendable {
    case cancel, hold, release, requeue, suspend, resume
}

/// Job actions (`scancel`, `scontrol hold|release|requeue|suspend|resume`, `scancel --signal`):
/// who may, on which records a reference names, and what each does to the state.
extension ControllerState {
    /// Sends `signal` to the running (or suspended) jobs `ref` names, through their first node's
    /// agent, which signals the job's process group: the batch script and what it started.
    package mutating func signal(_ signal: SignalName, _ ref: JobReference, _ identity: Identity,
                                 changes: inout StateChanges) throws(APIError) -> JobActionResponse {
        let named = liveRecords(ref)
        guard let first = named.first else {
            if finished[ref.id] != nil { throw .conflict("job \(ref) has already ended") }
            if let task = ref.task, records[ref.id]?.job.array?.pending.contains(task) == true {
                throw .conflict("job \(ref) is PENDING; a signal reaches only running jobs")
            }
            throw .notFound("job \(ref) does not exist or has ended")
        }
        guard identity.owns(first) else {
            throw .forbidden("job \(ref) belongs to \(first.job.user); only its owner or an administrator may signal it")
        }
        let running = named.filter { $0.job.state == .running || $0.job.state == .suspended }
        guard !running.isEmpty else {
            throw .conflict("job \(ref) is \(first.job.state.rawValue); a signal reaches only running jobs")
        }
        for r in running {
            guard queueSignal(r, "signal", signal: signal.name) else { continue }
            changes.events.append((r.id, r.job.state, "\(signal) sent by \(identity.user)"))
        }
        return JobActionResponse(id: ref.id, state: running[0].job.state.rawValue)
    }

    /// Carries out `action` on what `ref` names (all tasks of an array for `1234`, one for
    /// `1234_7`), as `identity`: the owner or an administrator, and only an administrator
    /// suspends or resumes (as in Slurm). A running job cancelled or requeued is COMPLETING until
    /// its agent reports its processes gone.
    package mutating func perform(_ action: JobAction, _ ref: JobReference, _ identity: Identity, now: Int,
                                  holdRequeued: Bool = false, changes: inout StateChanges) throws(APIError) -> JobActionResponse {
        // The records the reference names: a job, an array (record and started tasks), or one task.
        var targets: [JobID] = []
        var pendingTask: (array: JobID, index: Int)?
        if let task = ref.task {
            if let live = startedTask(ref.id, task) {
                targets = [live.id]
            } else if records[ref.id]?.job.array?.pending.contains(task) == true {
                pendingTask = (ref.id, task)
            }
        } else if records[ref.id] != nil {
            targets = [ref.id] + startedTasks(of: ref.id).map(\.id)
        }
        guard !targets.isEmpty || pendingTask != nil else {
            if finished[ref.id] != nil { throw .conflict("job \(ref) has already ended") }
            throw .notFound("job \(ref) does not exist or has ended")
        }
        let owner = records[pendingTask?.array ?? targets[0]]!
        if (action == .suspend || action == .resume) && !identity.admin {
            throw .forbidden("only root or an operator may \(action.rawValue) jobs (as in Slurm)")
        }
        guard identity.owns(owner) else {
            throw .forbidden("job \(ref) belongs to \(owner.job.user); only its owner or an administrator may \(action.rawValue) it")
        }

        if let (arrayID, task) = pendingTask {
            // One task not yet started: act on the array record for that index.
            switch action {
            case .cancel:
                var array = records[arrayID]!
                array.job.array!.cancel([task])
                records[arrayID] = array
                changes.jobs.append(array)
                changes.events.append((arrayID, .pending, "task \(task) cancelled by \(identity.user)"))
                finishArrayIfDone(arrayID, now: now, changes: &changes)
                return JobActionResponse(id: arrayID, state: JobState.cancelled.rawValue)
            default:
                throw .conflict("\(action.rawValue) applies to the whole array \(arrayID) until task \(task) starts")
            }
        }

        var lastState = JobState.pending
        for id in targets {
            guard var r = records[id] else { continue }
            switch action {
            case .cancel where r.job.state == .completing:
                lastState = .completing
            case .cancel:
                if let tasks = r.job.array?.pending {
                    r.job.array!.cancel(tasks)
                    records[id] = r
                    changes.jobs.append(r)
                    continue
                }
                let reason = "cancelled by \(identity.user)"
                finish(id, state: .cancelled, exitCode: 0, reason: reason, now: now, changes: &changes,
                             runEnd: identity.user == r.job.user ? .cancelledByUser : .cancelledByProvider)
                lastState = records[id]?.job.state ?? .cancelled
            case .hold, .release:
                guard r.job.state.isWaiting else {
                    throw .conflict("job \(ref) is \(r.job.state.rawValue); only pending jobs can be held or released")
                }
                r.job.hold = action == .hold
                records[id] = r
                changes.jobs.append(r)
                changes.events.append((id, r.job.state, action == .hold ? "held by \(identity.user)" : "released by \(identity.user)"))
                lastState = r.job.state
            case .requeue:
                if r.job.array != nil && targets.count > 1 { continue }
                guard r.job.state.isActive, r.job.state != .completing else {
                    throw .conflict("job \(ref) is \(r.job.state.rawValue); only running or suspended jobs can be requeued")
                }
                guard r.requeue != false else { throw .conflict("job \(ref) was submitted with --no-requeue") }
                let reason = "requeued\(holdRequeued ? " and held" : "") by \(identity.user)"
                // scontrol requeuehold: back in the queue held, until `release`.
                if holdRequeued { r.job.hold = true }
                let ended: RunEnd = identity.user == r.job.user ? .cancelledByUser : .cancelledByProvider
                changes.events.append((id, .requeued, reason))
                // Back in the queue once the agent reports this run's processes gone.
                if !beginCompleting(&r, JobRecord.PendingEnd(state: .requeued, exitCode: 0, reason: reason, time: now, runEnd: ended)) {
                    r.returnToQueue(now: now, ended: ended)
                }
                records[id] = r
                changes.jobs.append(r)
                lastState = r.job.state
            case .suspend, .resume:
                if r.job.array != nil && targets.count > 1 { continue }
                let from: JobState = action == .suspend ? .running : .suspended
                guard r.job.state == from else {
                    throw .conflict("job \(ref) is \(r.job.state.rawValue); only \(from.rawValue) jobs can be \(action == .suspend ? "suspended" : "resumed")")
                }
                r.job.state = action == .suspend ? .suspended : .running
                r.job.suspendedByPreemption = false
                if action == .suspend { r.suspend(at: now) } else { r.resume(at: now) }
                records[id] = r
                changes.jobs.append(r)
                changes.events.append((id, r.job.state, "\(action == .suspend ? "suspended" : "resumed") by \(identity.user)"))
                queueSignal(r, action.rawValue)
                queueTimeLimit(r)
                lastState = r.job.state
            }
        }
        if action == .cancel, ref.task == nil, let r = records[ref.id], r.job.array != nil {
            finishArrayIfDone(ref.id, now: now, changes: &changes)
        }
        return JobActionResponse(id: ref.id, state: lastState.rawValue)
    }

    /// The record of an array's task once started (it is a job of its own then).
    package func startedTask(_ arrayID: JobID, _ task: Int) -> JobRecord? {
        records.values.first { $0.job.arrayJobID == arrayID && $0.job.arrayTaskIndex == task }
    }

    /// The live records `ref` names: a job (an array's record with its started tasks), or a
    /// started task (`1234_7`; none while the task waits in its array's record).
    package func liveRecords(_ ref: JobReference) -> [JobRecord] {
        if let task = ref.task { return startedTask(ref.id, task).map { [$0] } ?? [] }
        return (records[ref.id].map { [$0] } ?? []) + startedTasks(of: ref.id)
    }

    /// The live records of an array's started tasks, by id.
    package func startedTasks(of arrayID: JobID) -> [JobRecord] {
        records.values.filter { $0.job.arrayJobID == arrayID }.sorted { $0.id < $1.id }
    }
}
