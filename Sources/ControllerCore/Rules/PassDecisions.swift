import ChessAPI
import SchedulerCore

/// What a scheduling pass decided, applied to the state as it is when the pass ends: the
/// planner worked on a snapshot, so a decision applies only to a job nobody changed meanwhile.
extension ControllerState {
    /// What a pass plans with: the waiting and active jobs by id (an array's record while some of
    /// its tasks wait).
    package func plannedJobs() -> [Job] {
        records.keys.sorted().compactMap { id -> Job? in
            guard let j = records.read(id, { $0.job }) else { return nil }
            if let a = j.array, a.pending.isEmpty { return nil }
            return j.state.isWaiting || j.state.isActive ? j : nil
        }
    }

    /// The cluster as the planner should see it: node states from registration and admins.
    package mutating func effectiveCluster() -> Cluster {
        if let c = plannerCluster { return c }
        var cluster = index.cluster
        for i in cluster.nodes.indices {
            let s = nodes[cluster.nodes[i].name]!
            cluster.nodes[i].adminState = s.adminState
            cluster.nodes[i].reason = s.reason
        }
        plannerCluster = cluster
        return cluster
    }

    /// Starts (launches queued for the agents), resumes of jobs suspended by preemption,
    /// preemption requests with their grace time, and each waiting job's reason, priority and
    /// planned start (rows written only where they changed: most of a long queue keeps its
    /// reason from pass to pass).
    package mutating func apply(_ decisions: SchedulingDecisions, now: Int, changes: inout StateChanges) {
        passCount += 1
        for start in decisions.starts {
            guard records.read(start.job, { $0.job.state.isWaiting && !$0.job.hold }) == true else { continue }
            applyStart(start, now: now, changes: &changes)
        }
        // Jobs suspended for a preemptor whose cores are free again: running again, their
        // processes continued through their agent.
        for id in decisions.resumes {
            guard var r = records[id], r.job.state == .suspended, r.job.suspendedByPreemption else { continue }
            r.job.state = .running
            r.job.suspendedByPreemption = false
            r.resume(at: now)
            records[id] = r
            changes.jobs.append(r)
            changes.events.append((id, .running, "resumed after preemption"))
            queueSignal(r, "resume")
            queueTimeLimit(r)
        }
        for p in decisions.preemptions where records[p.victim]?.job.state == .running {
            records[p.victim]!.job.preemptionPending = true
            records[p.preemptor]?.job.awaitingVictims.append(p.victim)
            preemptionDeadlines[p.victim] = now + p.graceTime
            changes.events.append((p.victim, .running, "preemption requested for job \(p.preemptor) (\(p.mode.rawValue), grace \(p.graceTime)s)"))
            changes.jobs.append(records[p.victim]!)
        }
        for (id, reason) in decisions.reasons {
            guard let (was, wasPriority, wasPlanned) = records.read(id, { ($0.job.reason, $0.priority, $0.plannedStart) }) else { continue }
            let priority = decisions.priorities[id]
            let planned = decisions.plannedStarts[id]
            if was != reason || wasPriority != priority || wasPlanned != planned {
                records[id]!.job.reason = reason
                records[id]!.priority = priority
                records[id]!.plannedStart = planned
            }
            if reason == .dependencyNeverSatisfied, was != reason, var m = records[id]!.mail, m.wants(.invalidDepend),
               !m.hasSent(.invalidDepend) {
                m.markSent(.invalidDepend)
                records[id]!.mail = m
                changes.jobs.append(records[id]!)
                pendingMail.append(JobMailComposer.compose(.invalidDepend, records[id]!, mail: m, cluster: clusterName, now: now))
            }
        }
    }

    /// A job (or an array's next task, which becomes a job of its own) starts on its allocation.
    package mutating func applyStart(_ start: SchedulingDecisions.Start, now: Int, changes: inout StateChanges) {
        guard var record = records[start.job] else { return }
        var arrayBegan: JobRecord?
        if let task = start.arrayTaskIndex {
            // The task becomes a job of its own; the array record keeps the rest.
            record.job.array?.pending.removeAll { $0 == task }
            if var m = record.mail, m.wants(.begin), !m.wants(.arrayTasks), !m.hasSent(.begin) {
                // Without ARRAY_TASKS, one BEGIN for the whole array: at its first task's start.
                m.markSent(.begin)
                record.mail = m
                arrayBegan = record
            }
            records[record.id] = record
            changes.jobs.append(record)
            var taskRecord = record
            taskRecord.job.id = nextID
            nextID += 1
            taskRecord.job.array = nil
            taskRecord.job.arrayJobID = record.id
            taskRecord.job.arrayTaskIndex = task
            taskRecord.arrayExpression = nil
            arrayProgress[record.id, default: (0, true)].open += 1
            record = taskRecord
        }
        record.job.state = .running
        record.job.startTime = now
        record.job.allocation = start.allocation
        record.market?.started(at: now)
        record.job.reason = nil
        record.job.awaitingVictims = []
        record.plannedStart = nil
        if record.eligibleTime == nil { record.eligibleTime = now }
        records[record.id] = record
        changes.jobs.append(record)
        startedCount += 1
        pendingLaunches.append(record.id)
        changes.events.append((record.id, .running, "started on \(HostList.compress(start.allocation.nodeNames))"))
        if let array = arrayBegan, let m = array.mail {
            pendingMail.append(JobMailComposer.composeArray(.begin, array, mail: m, exits: nil, cluster: clusterName))
        } else if let m = record.mail, m.wants(.begin), record.job.arrayJobID == nil || m.wants(.arrayTasks) {
            pendingMail.append(JobMailComposer.compose(.begin, record, mail: m, cluster: clusterName, now: now))
        }
    }
}
