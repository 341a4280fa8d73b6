/// The checks that decide whether a waiting job may be considered at all in this pass, before
/// any resources are looked at. Each failure is a pending reason in Slurm's words.
struct Eligibility {
    let snapshot: SchedulingSnapshot
    /// Job ids that are active (running, suspended, …), including array tasks' parent ids.
    let active: Set<JobID>
    let waiting: Set<JobID>

    init(snapshot: SchedulingSnapshot) {
        self.snapshot = snapshot
        var active = Set<JobID>()
        var waiting = Set<JobID>()
        for job in snapshot.jobs {
            if job.state.isActive {
                active.insert(job.id)
                if let parent = job.arrayJobID { active.insert(parent) }
            } else if job.state.isWaiting {
                waiting.insert(job.id)
            }
        }
        self.active = active
        self.waiting = waiting
    }

    /// Held, not yet begun, or waiting on other jobs; nil when the job may go on.
    func timingReason(_ job: Job, now: Int) -> PendingReason? {
        if job.hold { return .jobHeld }
        if let begin = job.beginTime, begin > now { return .beginTime }
        return dependencyReason(job)
    }

    func dependencyReason(_ job: Job) -> PendingReason? {
        var waitingOnSomething = false
        for dependency in job.dependencies {
            for id in dependency.jobs {
                if let f = snapshot.finished[id] {
                    switch dependency.kind {
                    case .after, .afterany: continue
                    case .afterok: if !f.succeeded { return .dependencyNeverSatisfied }
                    case .afternotok: if f.succeeded { return .dependencyNeverSatisfied }
                    }
                } else if active.contains(id) {
                    if dependency.kind != .after { waitingOnSomething = true }
                } else if waiting.contains(id) {
                    waitingOnSomething = true
                } else {
                    return .dependencyNeverSatisfied
                }
            }
        }
        return waitingOnSomething ? .dependency : nil
    }

    /// Partition and QoS rules that do not change while the job waits.
    func configurationReason(_ job: Job, partition: Partition?, qos: QoS?, timeLimit: Int) -> PendingReason? {
        guard let partition else { return .partitionConfig }
        if !partition.state.startsJobs { return .partitionDown }
        guard let qos else { return .invalidQoS }
        if let allowed = partition.allowedQoS, !allowed.contains(qos.name) { return .invalidQoS }
        if let allowed = partition.allowedAccounts, !allowed.contains(job.account) { return .partitionConfig }
        if let maxTime = partition.maxTime, timeLimit > maxTime { return .partitionTimeLimit }
        if let maxWall = qos.limits.maxWall, timeLimit > maxWall { return .qosMaxWall }
        return nil
    }
}

/// Running totals for QoS and account limits, updated as the pass starts jobs.
struct LimitUsage {
    struct UserKey: Hashable { var qos: String; var user: String }

    var jobsPerUser: [UserKey: Int] = [:]
    var tresPerUser: [UserKey: TRES] = [:]
    var tresPerQoS: [String: TRES] = [:]
    /// Per account, its running jobs' and those of the accounts below it.
    var tresPerAccount: [String: TRES] = [:]
    var jobsPerAccount: [String: Int] = [:]
    /// Each account with those above it (`Cluster.accountChain`), for the accounts with limits.
    let chains: [String: [Account]]

    init(cluster: Cluster) {
        let limited = cluster.accounts.contains { !$0.grpTRES.isUnlimited || $0.grpJobs != nil }
        chains = limited ? Dictionary(cluster.accounts.map { ($0.name, cluster.accountChain($0.name)) }, uniquingKeysWith: { a, _ in a }) : [:]
    }

    mutating func add(qos: String?, user: String, account: String, tres: TRES, jobs: Int = 1) {
        if let qos {
            let key = UserKey(qos: qos, user: user)
            jobsPerUser[key, default: 0] += jobs
            tresPerUser[key, default: .zero] = tresPerUser[key, default: .zero] + tres
            tresPerQoS[qos, default: .zero] = tresPerQoS[qos, default: .zero] + tres
        }
        for a in chains[account] ?? [] {
            tresPerAccount[a.name, default: .zero] = tresPerAccount[a.name, default: .zero] + tres
            jobsPerAccount[a.name, default: 0] += jobs
        }
    }

    /// The first limit that starting a job with `tres` now would break.
    func reason(qos: QoS, user: String, account: String, tres: TRES) -> PendingReason? {
        let key = UserKey(qos: qos.name, user: user)
        if !qos.limits.maxTRESPerJob.allows(tres) { return .qosMaxTRESPerJob }
        if let max = qos.limits.maxJobsPerUser, jobsPerUser[key, default: 0] + 1 > max { return .qosMaxJobsPerUser }
        if !qos.limits.maxTRESPerUser.allows(tresPerUser[key, default: .zero] + tres) { return .qosMaxTRESPerUser }
        if !qos.limits.grpTRES.allows(tresPerQoS[qos.name, default: .zero] + tres) { return .qosGrpTRES }
        for a in chains[account] ?? [] {
            if let r = a.grpReason(held: tresPerAccount[a.name, default: .zero], jobs: jobsPerAccount[a.name, default: 0], adding: tres) {
                return r
            }
        }
        return nil
    }
}
