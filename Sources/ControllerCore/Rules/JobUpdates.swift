import ChessAPI
import SchedulerCore

/// Submissions checked against the live state, and `chessctl update` (scontrol update job): a
/// live job's time limit, name, priority, nice, dependency, begin time or array throttle, a
/// pending job's partition, QoS, account or node lists.
extension ControllerState {
    /// A validator over the live tables. It holds them (a copy on write): use it and let it go
    /// before the next change to the state, or that change copies the tables.
    package func validator(identity: Identity, now: Int, defaultPartition: String, mailDomain: String?) -> SubmissionValidator {
        let (records, finished) = (self.records, self.finished)
        return SubmissionValidator(
            index: index, defaultPartition: defaultPartition, identity: identity, now: now,
            jobExists: { records.read($0) { _ in true } ?? (finished[$0] != nil) },
            liveJobsOfUser: { qos in
                records.values.reduce(0) { n, r in
                    guard r.job.user == identity.user, r.job.qos == qos else { return n }
                    return n + (r.job.array.map { $0.pending.count } ?? 1)
                }
            }, mailDomain: mailDomain)
    }

    /// A stored submission, in memory once its transaction has committed.
    package mutating func accept(_ record: JobRecord) {
        records[record.id] = record
        submittedCount += 1
    }

    /// The job `ref` names, changed, first; for an array (`1234`), its tasks already started or
    /// waiting too, as `scontrol update` does (a priority is the array's own: its tasks not yet
    /// started; a partition, QoS or account goes to the tasks still waiting). Nothing changes
    /// unless every record takes the change.
    package mutating func update(_ ref: JobReference, _ u: JobUpdate, _ identity: Identity, now: Int, defaultPartition: String,
                                 mailDomain: String?) throws(APIError) -> [(JobRecord, String)] {
        let settings = (defaultPartition, mailDomain)
        var id = ref.id
        if let task = ref.task {
            if let live = startedTask(ref.id, task) {
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
            targets += startedTasks(of: id).filter { Self.isUpdatable($0.job.state) }
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
            updated.append(try applying(taskUpdate, to: record, ref: ref, identity: identity, now: now, settings: settings))
        }
        for (r, _) in updated {
            records[r.id] = r
            if u.timeLimit != nil, r.job.state == .running || r.job.state == .suspended { queueTimeLimit(r) }
        }
        return updated
    }

    /// A pending job moved to another partition, QoS, account or set of nodes, with the checks a
    /// submission there would pass (as the job's owner, with the updater's administrator
    /// rights); what changed in words. A marketplace job's escrow was quoted for its partition
    /// and QoS.
    private func moving(_ r: inout JobRecord, _ u: JobUpdate, ref: JobReference, identity: Identity, now: Int,
                        settings: (String, String?)) throws(APIError) -> [String] {
        let job = r.job
        guard job.state.isWaiting else {
            throw .conflict("job \(ref) is \(job.state.rawValue); its partition, QoS, account and node lists change only while it is pending")
        }
        if r.market != nil, (u.partition ?? job.partition) != job.partition || (u.qos ?? job.qos) != job.qos {
            throw .conflict("job \(ref) is a marketplace job: its escrow was quoted for partition \(job.partition) with QoS \(job.qos)")
        }
        let v = validator(identity: Identity(user: job.user, uid: r.uid, gid: r.gid, admin: identity.admin), now: now,
                          defaultPartition: settings.0, mailDomain: settings.1)
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
    static func isUpdatable(_ state: JobState) -> Bool { state.isWaiting || state == .running || state == .suspended }

    /// `r` with the update applied, and what changed in words; throws what Slurm's rules refuse.
    private func applying(_ u: JobUpdate, to original: JobRecord, ref: JobReference, identity: Identity, now: Int,
                          settings: (String, String?)) throws(APIError) -> (JobRecord, String) {
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
            let trimmed = Self.trimmingBlanks(name)
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
                let exists = validator(identity: identity, now: now, defaultPartition: settings.0, mailDomain: settings.1).jobExists
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
            r.job.nice = try validator(identity: identity, now: now, defaultPartition: settings.0, mailDomain: settings.1).checkNice(nice)
            changes.append("nice \(nice)")
        }
        if u.movesJob {
            changes += try moving(&r, u, ref: ref, identity: identity, now: now, settings: settings)
        }
        return (r, changes.joined(separator: ", "))
    }

    /// Spaces and tabs (Unicode's space separators) off both ends, as Foundation's
    /// `.whitespaces` trims: a line break stays, for the caller to refuse.
    static func trimmingBlanks(_ text: String) -> String {
        func blank(_ c: Character) -> Bool {
            c == "\t" || (c.unicodeScalars.count == 1 && c.unicodeScalars.first!.properties.generalCategory == .spaceSeparator)
        }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }
}
