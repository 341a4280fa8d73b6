import ControllerCore
import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl update` (scontrol update job): a live job's time limit, name or priority, a pending
/// job's partition, QoS or account.
extension Controller {
    /// Applies `update` with Slurm's rules (owners shorten time limits, administrators also
    /// lengthen them and set priorities), stores it with an event, and sends a running job's new
    /// limit to the agent that supervises it (the supervisor enforces limits on its own, for when
    /// the controller is away).
    func updateJob(_ ref: JobReference, _ update: JobUpdate, identity: Identity,
                   completion: @escaping @Sendable (Result<JobInfo, APIError>) -> Void) {
        guard update.timeLimit != nil || update.name != nil || update.priority != nil || update.nice != nil || update.movesJob
            || update.dependency != nil || update.begin != nil || update.arrayThrottle != nil else {
            return completion(.failure(.badRequest("nothing to change: give time_limit, name, priority, nice, dependency, begin, array_throttle, partition, qos, account, nodelist or exclude")))
        }
        let now = clock.now()
        lock.lock()
        let updated: [(JobRecord, String)]
        do {
            updated = try updateLocked(ref, update, identity, now: now)
        } catch {
            lock.unlock()
            return completion(.failure(error))
        }
        let index = self.index
        lock.unlock()
        store.write({ db in
            for (record, change) in updated {
                try self.saveJob(record, in: db)
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
    /// started; a partition, QoS or account goes to the tasks still waiting). Nothing changes
    /// unless every record takes the change.
    private func updateLocked(_ ref: JobReference, _ u: JobUpdate, _ identity: Identity, now: Int) throws(APIError) -> [(JobRecord, String)] {
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
            if i > 0 && !record.job.state.isWaiting {
                (taskUpdate.partition, taskUpdate.qos, taskUpdate.account, taskUpdate.nodelist, taskUpdate.exclude) = (nil, nil, nil, nil, nil)
                (taskUpdate.nice, taskUpdate.dependency, taskUpdate.begin) = (nil, nil, nil)
            }
            if i > 0 { taskUpdate.arrayThrottle = nil }
            updated.append(try applying(taskUpdate, to: record, ref: ref, identity: identity, now: now))
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

    /// A pending job moved to another partition, QoS, account or set of nodes, with the checks a
    /// submission there would pass (as the job's owner, with the updater's administrator
    /// rights); what changed in words. A marketplace job's escrow was quoted for its partition
    /// and QoS.
    private func moving(_ r: inout JobRecord, _ u: JobUpdate, ref: JobReference, identity: Identity, now: Int) throws(APIError) -> [String] {
        let job = r.job
        guard job.state.isWaiting else {
            throw .conflict("job \(ref) is \(job.state.rawValue); its partition, QoS, account and node lists change only while it is pending")
        }
        if r.market != nil, (u.partition ?? job.partition) != job.partition || (u.qos ?? job.qos) != job.qos {
            throw .conflict("job \(ref) is a marketplace job: its escrow was quoted for partition \(job.partition) with QoS \(job.qos)")
        }
        let v = validatorLocked(identity: Identity(user: job.user, uid: r.uid, gid: r.gid, admin: identity.admin), now: now)
        let (partition, qos, account) = try v.placement(partition: u.partition ?? job.partition, qos: u.qos ?? job.qos,
                                                        account: u.account ?? job.account)
        if partition.name != job.partition { try v.checkTakesJobs(partition) }
        var request = job.request
        try v.applyNodeLists(nodelist: u.nodelist, exclude: u.exclude, to: &request, partition: partition)
        try v.checkReservation(request, account: account)
        try v.checkFits(request, partition: partition, qos: qos, account: account)
        if qos.name != job.qos { try v.checkSubmitLimit(qos, adding: job.array?.pending.count ?? 1) }
        var changes: [String] = []
        if u.partition != nil { changes.append("partition \(partition.name)") }
        if u.qos != nil { changes.append("QoS \(qos.name)") }
        if u.account != nil { changes.append("account \(account)") }
        if u.nodelist != nil { changes.append("node list \(request.requiredNodes.map(HostList.compress) ?? "(none)")") }
        if u.exclude != nil { changes.append("excluded nodes \(request.excludedNodes.map(HostList.compress) ?? "(none)")") }
        r.job.request = request
        r.job.partition = partition.name
        r.job.qos = qos.name
        r.job.account = account
        return changes
    }

    /// Pending, running and suspended jobs take updates; one that is ending or ended does not.
    private static func isUpdatable(_ state: JobState) -> Bool { state.isWaiting || state == .running || state == .suspended }

    /// `r` with the update applied, and what changed in words; throws what Slurm's rules refuse.
    private func applying(_ u: JobUpdate, to original: JobRecord, ref: JobReference, identity: Identity, now: Int) throws(APIError) -> (JobRecord, String) {
        var r = original
        guard identity.owns(r) else {
            throw .forbidden("job \(ref) belongs to \(r.job.user); only its owner or an administrator may update it")
        }
        let state = r.job.state
        guard Self.isUpdatable(state) else {
            throw .conflict("job \(ref) is \(state.rawValue); only pending, running or suspended jobs can be updated")
        }
        var changes: [String] = []
        do {
            try InputLimits.check(u.timeLimit, 1...InputLimits.seconds, "time_limit (seconds)")
            try InputLimits.check(u.priority, 0...InputLimits.priority, "priority")
            try InputLimits.check(u.begin, 0...InputLimits.timestamp, "begin (Unix seconds)")
            try InputLimits.check(u.arrayThrottle, 0...InputLimits.arrayIndex, "array_throttle")
        } catch {
            throw .badRequest(error.description)
        }
        if let limit = u.timeLimit {
            let partition = index.cluster.partition(named: r.job.partition)
            let current = r.job.request.timeLimit ?? partition?.defaultTime ?? partition?.maxTime
            let longer = current.map { limit > $0 } ?? true
            if longer && !identity.admin {
                throw .forbidden("only an administrator may lengthen a job's time limit (job \(ref)'s is \(SlurmTime.duration(current)); it can be shortened)")
            }
            if longer && r.market != nil {
                throw .conflict("job \(ref) is a marketplace job: its escrow covers its time limit, which can only be shortened")
            }
            r.job.request.timeLimit = limit
            changes.append("time limit \(SlurmTime.duration(limit))")
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
        if let text = u.dependency {
            guard state.isWaiting else { throw .conflict("job \(ref) is \(state.rawValue); a dependency is for pending jobs") }
            if text.isEmpty {
                (r.job.dependencies, r.job.singleton, r.dependencyText) = ([], false, nil)
            } else {
                let parsed: (dependencies: [Dependency], singleton: Bool)
                do { parsed = try JobSpecSyntax.dependencies(text) } catch { throw .badRequest("\(error)") }
                let exists = validatorLocked(identity: identity, now: now).jobExists
                for dep in parsed.dependencies {
                    for target in dep.jobs where target == r.id || !exists(target) {
                        throw .badRequest(target == r.id ? "job \(ref) cannot depend on itself"
                                                          : "job dependency problem: job \(target) does not exist")
                    }
                }
                (r.job.dependencies, r.job.singleton, r.dependencyText) = (parsed.dependencies, parsed.singleton, text)
            }
            changes.append("dependency \(text.isEmpty ? "(none)" : text)")
        }
        if let throttle = u.arrayThrottle {
            guard throttle >= 0 else { throw .badRequest("array_throttle must be 0 (no cap) or more") }
            guard r.job.array != nil else { throw .conflict("job \(ref) is not an array with tasks waiting; ArrayTaskThrottle is for those") }
            r.job.array!.maxRunning = throttle == 0 ? nil : throttle
            changes.append("array throttle \(throttle == 0 ? "none" : "\(throttle)")")
        }
        if let begin = u.begin {
            guard state.isWaiting else { throw .conflict("job \(ref) is \(state.rawValue); a begin time is for pending jobs") }
            r.job.beginTime = begin > now ? begin : nil
            changes.append("begin \(SlurmTime.timestamp(begin))")
        }
        if let nice = u.nice {
            guard state.isWaiting else { throw .conflict("job \(ref) is \(state.rawValue); a nice value is for pending jobs") }
            r.job.nice = try validatorLocked(identity: identity, now: now).checkNice(nice)
            changes.append("nice \(nice)")
        }
        if u.movesJob {
            changes += try moving(&r, u, ref: ref, identity: identity, now: now)
        }
        return (r, changes.joined(separator: ", "))
    }
}
