import ChessAPI
import MarketBridge
import SchedulerCore

/// How jobs leave a run: ended by their agent, by the controller (cancel, time limit,
/// preemption: through COMPLETING), or back to the queue after a lost node or launch.
extension ControllerState {
    /// Queues a suspend, resume or signal (`kind`; `signal`: the signal's name) for the agents
    /// of a job's nodes; false if the job has no nodes.
    @discardableResult
    package mutating func queueSignal(_ r: JobRecord, _ kind: String, signal: String? = nil) -> Bool {
        guard let first = r.job.allocation?.nodes.first?.node else { return false }
        pendingSignals.append((r.id, first, kind, r.requeueCount, signal))
        return true
    }

    /// Queues a running (or suspended) job's time limit for the supervisor on its first node,
    /// as it stands now (`JobRecord.supervisorTimeLimit`).
    package mutating func queueTimeLimit(_ r: JobRecord) {
        guard let seconds = r.supervisorTimeLimit, let node = r.job.allocation?.nodes.first?.node else { return }
        pendingTimeLimits.append((r.id, node, seconds, r.requeueCount))
    }

    /// Asks the agent on a running job's first node to stop it; the job is COMPLETING, to end
    /// as `end` says when the agent reports its processes gone. False (and nothing changed)
    /// when no registered agent runs it.
    package mutating func beginCompleting(_ r: inout JobRecord, _ end: JobRecord.PendingEnd) -> Bool {
        guard let first = r.job.allocation?.nodes.first?.node, nodes[first]?.registered == true else { return false }
        pendingTerminations.append((r.id, first, end.reason, r.requeueCount))
        r.pendingEnd = end
        r.job.state = .completing
        return true
    }

    /// Ends a live job: frees what it holds, charges fair share, settles array bookkeeping.
    ///
    /// Ended by the controller while it runs on a live agent (`notifyAgent`), the job is
    /// COMPLETING until the agent reports its processes gone; its cores stay taken meanwhile
    /// (as in Slurm), so that no job is placed on them while the kill grace time runs. The row of
    /// a job that ends here is marked in `changes.ended` (the market settles it).
    package mutating func finish(_ id: JobID, state: JobState, exitCode: Int, reason: String, now: Int,
                                 changes: inout StateChanges, notifyAgent: Bool = true, runEnd: RunEnd? = nil) {
        if notifyAgent, var r = records[id], r.job.state.isActive, r.job.state != .completing,
           beginCompleting(&r, JobRecord.PendingEnd(state: state, exitCode: exitCode, reason: reason, time: now, runEnd: runEnd)) {
            records[id] = r
            preemptionDeadlines[id] = nil
            changes.jobs.append(r)
            changes.events.append((id, .completing, reason))
            return
        }
        guard var r = records.removeValue(forKey: id) else { return }
        if let m = r.market {
            liveEscrows.remove(m.terms.escrow.escrowID)
            if let start = r.job.startTime, r.job.state.isActive {
                r.market!.runs.append(JobRun(start: start, end: max(now, start), ended: runEnd ?? RunEnd(state, exitCode: exitCode),
                                             suspended: r.suspendedSeconds(at: now)))
            }
        }
        if notifyAgent, r.job.state.isActive, let first = r.job.allocation?.nodes.first?.node {
            pendingTerminations.append((id, first, reason, r.requeueCount))
        }
        if r.job.startTime != nil, let a = r.job.allocation, r.job.state.isActive {
            // Charged for the time it ran, not the time it was suspended.
            let factor = index.cluster.qos(named: r.job.qos)?.usageFactorPermille ?? 1000
            ledger.decay(to: now)
            ledger.charge(r.job.account, a.tres.cpus * r.runSeconds(at: now) * factor / 1000)
            chargedAccounts.insert(r.job.account)
        }
        r.job.state = state
        r.job.endTime = now
        endedCounts[state, default: 0] += 1
        liveUsage[id] = nil
        liveSteps[id] = nil
        r.exitCode = exitCode
        r.endReason = reason
        r.job.reason = nil
        r.pendingEnd = nil
        preemptionDeadlines[id] = nil
        finished[id] = FinishedJob(state: state, exitCode: exitCode)
        changes.ended.append(changes.jobs.count)
        changes.jobs.append(r)
        changes.events.append((id, state, reason))
        mailEnd(r, state: state, requeued: false, now: now)
        if let parent = r.job.arrayJobID {
            let range = arrayExits[parent]
            arrayExits[parent] = .init(min: min(range?.min ?? exitCode, exitCode), max: max(range?.max ?? exitCode, exitCode))
            var p = arrayProgress[parent] ?? (1, true)
            p.open -= 1
            p.allCompleted = p.allCompleted && state == .completed && exitCode == 0
            arrayProgress[parent] = p
            finishArrayIfDone(parent, now: now, changes: &changes)
        }
    }

    /// An array record ends when no task is pending and none is running.
    package mutating func finishArrayIfDone(_ id: JobID, now: Int, changes: inout StateChanges) {
        guard var r = records[id], let array = r.job.array, array.pending.isEmpty,
              (arrayProgress[id]?.open ?? 0) <= 0 else { return }
        let ok = arrayProgress[id]?.allCompleted ?? false
        let state: JobState = ok ? .completed : (arrayProgress[id] == nil ? .cancelled : .failed)
        records[id] = nil
        arrayProgress[id] = nil
        arrayBounds[id] = nil
        r.job.state = state
        r.job.endTime = now
        r.exitCode = ok ? 0 : 1
        r.endReason = "all tasks ended"
        finished[id] = FinishedJob(state: state, exitCode: r.exitCode!)
        changes.jobs.append(r)
        changes.events.append((id, state, "all tasks ended"))
        let exits = arrayExits.removeValue(forKey: id)
        if let m = r.mail, !m.wants(.arrayTasks) {
            // Slurm's summary: FAIL when a task failed (and FAIL was asked for), else END.
            let taskFailed = (exits?.max ?? 0) != 0 || state == .failed
            let type: MailType? = taskFailed && m.wants(.fail) ? .fail : (m.wants(.end) ? .end : nil)
            if let type { pendingMail.append(JobMailComposer.composeArray(type, r, mail: m, exits: exits, cluster: clusterName)) }
        }
    }

    /// The mails a job's end (or its return to the queue) sends; array tasks only with
    /// ARRAY_TASKS (otherwise the array's summary speaks for them).
    package mutating func mailEnd(_ r: JobRecord, state: JobState, requeued: Bool, now: Int) {
        guard let m = r.mail, r.job.arrayJobID == nil || m.wants(.arrayTasks) else { return }
        // The agent ends a job at its limit, often before a pass sees it there: TIME_LIMIT then.
        if state == .timeout, m.wants(.timeLimit), !m.hasSent(.timeLimit) {
            pendingMail.append(JobMailComposer.compose(.timeLimit, r, mail: m, cluster: clusterName, now: now))
        }
        for type in JobMailComposer.endTypes(state: state, requeued: requeued, wanted: m) {
            pendingMail.append(JobMailComposer.compose(type, r, mail: m, cluster: clusterName, now: now))
        }
    }

    /// A COMPLETING job's processes are gone (its agent said so, or its node is lost): it ends
    /// as the controller ended it, at the time it did, or goes back to the queue if requeued.
    package mutating func complete(_ id: JobID, changes: inout StateChanges) {
        guard var r = records[id], let end = r.pendingEnd else { return }
        if end.state == .requeued {
            // A preemption mailed when it stopped the job.
            if end.runEnd != .preempted { mailEnd(r, state: .requeued, requeued: true, now: end.time) }
            r.returnToQueue(now: end.time, ended: end.runEnd ?? .cancelledByProvider)
            records[id] = r
            changes.jobs.append(r)
            changes.events.append((id, .pending, end.runEnd == .preempted ? "requeued by preemption" : "requeued"))
            return
        }
        finish(id, state: end.state, exitCode: end.exitCode, reason: end.reason, now: end.time, changes: &changes,
               notifyAgent: false, runEnd: end.runEnd)
    }

    /// Puts an active job back in the queue (node failure, lost launch): Slurm's requeue. A job
    /// submitted with `--no-requeue` ends NODE_FAIL instead (its processes are gone already).
    package mutating func requeue(_ id: JobID, reason: String, now: Int, changes: inout StateChanges) {
        guard var r = records[id] else { return }
        let ended: RunEnd = reason.contains("launch") ? .launchFailure : .nodeFailure
        if r.requeue == false {
            return finish(id, state: .nodeFail, exitCode: 0, reason: reason, now: now, changes: &changes,
                          notifyAgent: false, runEnd: ended)
        }
        changes.events.append((id, .nodeFail, reason))
        mailEnd(r, state: .nodeFail, requeued: true, now: now)
        r.returnToQueue(now: now, ended: ended)
        records[id] = r
        preemptionDeadlines[id] = nil
        changes.jobs.append(r)
        changes.events.append((id, .pending, "requeued"))
    }

    /// An active job its node no longer runs: a COMPLETING one is over as the controller ended
    /// it; any other goes back to the queue.
    package mutating func giveUp(_ id: JobID, reason: String, now: Int, changes: inout StateChanges) {
        if records[id]?.job.state == .completing {
            complete(id, changes: &changes)
        } else {
            requeue(id, reason: reason, now: now, changes: &changes)
        }
    }
}
