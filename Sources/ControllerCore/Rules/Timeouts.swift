import ChessAPI
import SchedulerCore

/// The controller's timed rules, at the time the caller read: time limits, preemption grace
/// times, silent agents.
extension ControllerState {
    /// Ends running jobs at their time limit (through COMPLETING), sends the time-limit mails
    /// that have come due, and stops the victims whose preemption grace time has run out, as
    /// their QoS's preemption mode says.
    package mutating func enforceTimeLimits(now: Int, changes: inout StateChanges) {
        // Each pass reads every record's state: in place (copying every record to look at its
        // state cost a retain and release of each of its strings, per pass).
        let running = records.keys.filter { records.read($0, { $0.job.state }) == .running }
        for id in running {
            // Time suspended does not count: the run's clock starts that much later.
            guard let (limit, started, wantsMail, suspended) = records.read(id, { ($0.job.request.timeLimit, $0.job.startTime, $0.mail != nil,
                                                                                   $0.suspension?.seconds ?? 0) }),
                  let limit, let started else { continue }
            let start = started + suspended
            // The mail request is copied only for jobs that have one (most do not).
            if wantsMail, var m = records.read(id, { $0.mail }) ?? nil {
                let due = JobMailComposer.timeLimitTypesDue(mail: m, start: start, limit: limit, now: now)
                if !due.isEmpty, let r = records[id], r.job.arrayJobID == nil || m.wants(.arrayTasks) {
                    for type in due {
                        m.markSent(type)
                        pendingMail.append(JobMailComposer.compose(type, r, mail: m, cluster: clusterName, now: now))
                    }
                    records[id]!.mail = m
                    changes.jobs.append(records[id]!)
                }
            }
            if now >= start + limit {
                finish(id, state: .timeout, exitCode: 0, reason: "time limit (\(SlurmTime.duration(limit))) reached",
                       now: now, changes: &changes)
            }
        }
        for (id, deadline) in preemptionDeadlines where now >= deadline {
            preemptionDeadlines[id] = nil
            guard var r = records[id], r.job.state == .running, r.job.preemptionPending else { continue }
            let mode = index.cluster.qos(named: r.job.qos)?.preemptMode ?? .cancel
            switch mode {
            case .off, .cancel:
                finish(id, state: .preempted, exitCode: 0, reason: "preempted", now: now, changes: &changes)
            case .requeue where r.requeue == false:
                finish(id, state: .preempted, exitCode: 0, reason: "preempted (--no-requeue)", now: now, changes: &changes)
            case .requeue:
                // Its processes are stopped first: back in the queue, and its cores free for the
                // preemptor, once its agent reports them gone (the preemption mail goes now).
                mailEnd(r, state: .preempted, requeued: true, now: now)
                let reason = "requeued by preemption"
                if beginCompleting(&r, JobRecord.PendingEnd(state: .requeued, exitCode: 0, reason: reason, time: now, runEnd: .preempted)) {
                    changes.events.append((id, .completing, reason))
                } else {
                    r.returnToQueue(now: now, ended: .preempted)
                    changes.events.append((id, .pending, reason))
                }
                records[id] = r
                changes.jobs.append(r)
            case .suspend:
                r.job.state = .suspended
                r.job.suspendedByPreemption = true
                r.job.preemptionPending = false
                r.suspend(at: now)
                records[id] = r
                changes.jobs.append(r)
                changes.events.append((id, .suspended, "suspended by preemption"))
                // Its processes are stopped where they are (SIGSTOP through its agent) before the
                // preemptor's launch, which goes out after signals.
                queueSignal(r, "suspend")
                queueTimeLimit(r)
            }
        }
    }

    /// Nodes whose agent has been silent for more than `timeout` seconds go DOWN (unless an
    /// administrator set their state) and their jobs are given up: requeued, or ended as the
    /// controller had ended them if COMPLETING. A node that has not registered since the start
    /// counts from `startedAt`, and is given up only if it holds an active job.
    package mutating func checkHeartbeats(now: Int, timeout: Int, changes: inout StateChanges) {
        var lost = Set<String>()
        var busy: Set<String>?
        for (name, s) in nodes {
            let last = s.lastHeartbeat ?? (s.registered ? nil : startedAt)
            guard let last, now - last > timeout else { continue }
            if !s.registered && busy == nil {
                // Nodes holding active jobs, computed once (not once per silent node).
                busy = Set(records.values.lazy.filter { $0.job.state.isActive }.flatMap { $0.job.allocation?.nodeNames ?? [] })
            }
            if s.registered || busy?.contains(name) == true { lost.insert(name) }
        }
        guard !lost.isEmpty else { return }
        for name in lost.sorted() {
            var s = nodes[name]!
            if s.registered {
                s.registered = false
                if !s.adminSet {
                    s.adminState = .down
                    s.reason = "\(NodeStatus.silentPrefix) for more than \(timeout)s"
                }
                nodes[name] = s
                changes.nodes.append((name, s))
                changes.notices.append(.warning("node not responding", ["node": name]))
            }
        }
        let active = records.values.filter { $0.job.state.isActive }
        for r in active {
            guard let names = r.job.allocation?.nodeNames, let down = names.first(where: lost.contains) else { continue }
            giveUp(r.id, reason: "node \(down) not responding", now: now, changes: &changes)
        }
    }
}
