/// A job of a cluster-mode scenario: the job as submitted, plus how it will really behave.
public struct ScenarioJob: Sendable, Hashable {
    public var job: Job
    /// Seconds the job actually runs (it times out at its limit if longer).
    public var run: Int
    /// Exit code on completion (dependencies `afterok`/`afternotok` see it).
    public var exitCode: Int

    public init(job: Job, run: Int, exitCode: Int = 0) {
        self.job = job
        self.run = run
        self.exitCode = exitCode
    }
}

/// What happened to one job (or array task) in a cluster replay.
public struct SimulatedJob: Sendable, Hashable {
    public var id: JobID
    public var arrayJobID: JobID?
    public var arrayTaskIndex: Int?
    public var user: String
    public var partition: String
    public var qos: String
    public var submit: Int
    /// First start, nil if it never ran.
    public var start: Int?
    public var end: Int?
    public var state: JobState
    /// The pending reason it was left with, if it never finished.
    public var reason: PendingReason?
    public var nodes: [String]
    public var cores: Int
    /// Times it was preempted (requeued, suspended or cancelled).
    public var preemptions: Int
    /// Core-seconds actually used, over all its runs.
    public var coreSeconds: Int
}

/// Figures of a cluster replay over its finished jobs.
public struct ClusterReplayMetrics: Sendable, Hashable, Encodable {
    public var jobs: Int
    public var finished: Int
    public var neverStarted: Int
    public var avgWait: Double
    public var maxWait: Int
    public var makespan: Int
    public var utilization: Double
    public var preemptions: Int
    public var passes: Int
    public var states: [String: Int]

    enum CodingKeys: String, CodingKey {
        case jobs, finished, makespan, utilization, preemptions, passes, states
        case neverStarted = "never_started"
        case avgWait = "avg_wait"
        case maxWait = "max_wait"
    }
}

/// Replays a scenario through the full model: the same `Planner` the controller runs, with a
/// virtual clock. A pass runs at every event time (submits, ends, preemption deadlines, begin
/// times, reservation boundaries), so a QoS or policy change can be tried on a workload before
/// it goes live.
public struct ClusterSimulator: Sendable {
    public var cluster: Cluster
    public var configuration: PlannerConfiguration
    public var jobs: [ScenarioJob]
    /// Fair-share half-life, seconds.
    public var fairShareHalfLife: Int

    public init(cluster: Cluster, configuration: PlannerConfiguration, jobs: [ScenarioJob],
                fairShareHalfLife: Int = 7 * 86400) {
        self.cluster = cluster
        self.configuration = configuration
        self.jobs = jobs
        self.fairShareHalfLife = fairShareHalfLife
    }

    public struct Outcome: Sendable {
        public var jobs: [SimulatedJob]
        public var metrics: ClusterReplayMetrics
    }

    public func run(progress: ((ReplayProgress) -> Void)? = nil) -> Outcome {
        var engine = ClusterEngine(simulator: self)
        engine.run(progress: progress)
        return engine.outcome()
    }
}

private struct ClusterEngine {
    enum Event: Sendable {
        case wake
        case end(JobID, generation: Int)
        case preemptionDeadline(JobID, generation: Int)
    }

    let simulator: ClusterSimulator
    let planner = Planner()
    var live: [JobID: Job] = [:]
    var order: [JobID] = []
    var behaviour: [JobID: (run: Int, exitCode: Int)] = [:]
    /// Seconds of run left for a suspended or requeued job (requeued jobs start over).
    var remaining: [JobID: Int] = [:]
    var runStartedAt: [JobID: Int] = [:]
    /// Bumped on every start/stop so that stale end events are ignored.
    var generation: [JobID: Int] = [:]
    var finished: [JobID: FinishedJob] = [:]
    var records: [JobID: SimulatedJob] = [:]
    var events = MinHeap<Event>()
    var ledger: FairShareLedger
    var nextID: JobID
    var passes = 0
    var finishedCount = 0
    /// Per array job: tasks started and not yet finished, and whether all finished ones completed.
    var openTasks: [JobID: Int] = [:]
    var arrayAllCompleted: [JobID: Bool] = [:]
    var pendingSubmits: [ScenarioJob]

    init(simulator: ClusterSimulator) {
        self.simulator = simulator
        let sorted = simulator.jobs.sorted { ($0.job.submitTime, $0.job.id) < ($1.job.submitTime, $1.job.id) }
        pendingSubmits = sorted.reversed()
        ledger = FairShareLedger(halfLife: simulator.fairShareHalfLife, now: sorted.first?.job.submitTime ?? 0)
        nextID = (simulator.jobs.map(\.job.id).max() ?? 0) + 1
        for s in sorted {
            events.push(s.job.submitTime, .wake)
            if let b = s.job.beginTime { events.push(b, .wake) }
        }
        for r in simulator.cluster.reservations {
            events.push(r.start, .wake)
            events.push(r.end, .wake)
        }
    }

    mutating func run(progress: ((ReplayProgress) -> Void)?) {
        let total = simulator.jobs.count
        var reported = 0
        while let now = events.minKey {
            while let top = events.min, top.key == now {
                events.pop()
                handle(top.payload, at: now)
            }
            while let next = pendingSubmits.last, next.job.submitTime <= now {
                pendingSubmits.removeLast()
                submit(next)
            }
            pass(at: now)
            if finishedCount - reported >= max(total / 100, 1) {
                reported = finishedCount
                progress?(ReplayProgress(started: finishedCount, total: total))
            }
        }
        progress?(ReplayProgress(started: finishedCount, total: total))
    }

    mutating func submit(_ s: ScenarioJob) {
        var job = s.job
        job.state = .pending
        live[job.id] = job
        order.append(job.id)
        behaviour[job.id] = (s.run, s.exitCode)
        if job.array == nil {
            records[job.id] = record(for: job)
        }
    }

    func record(for job: Job) -> SimulatedJob {
        SimulatedJob(id: job.id, arrayJobID: job.arrayJobID, arrayTaskIndex: job.arrayTaskIndex, user: job.user,
                     partition: job.partition, qos: job.qos, submit: job.submitTime, start: nil, end: nil,
                     state: job.state, reason: nil, nodes: [], cores: 0, preemptions: 0, coreSeconds: 0)
    }

    mutating func pass(at now: Int) {
        ledger.decay(to: now)
        let snapshot = SchedulingSnapshot(now: now, cluster: simulator.cluster,
                                          jobs: order.compactMap { live[$0] }.filter { $0.state.isWaiting || $0.state.isActive },
                                          finished: finished, usage: ledger.usage, configuration: simulator.configuration)
        let decisions = planner.plan(snapshot)
        passes += 1
        for start in decisions.starts { apply(start, at: now) }
        for resume in decisions.resumes { resumeJob(resume, at: now) }
        for p in decisions.preemptions {
            live[p.victim]?.preemptionPending = true
            live[p.preemptor]?.awaitingVictims.append(p.victim)
            events.push(now + p.graceTime, .preemptionDeadline(p.victim, generation: generation[p.victim, default: 0]))
        }
        for (id, reason) in decisions.reasons {
            live[id]?.reason = reason
            records[id]?.reason = reason
        }
    }

    mutating func apply(_ start: SchedulingDecisions.Start, at now: Int) {
        guard var job = live[start.job] else { return }
        var id = job.id
        if let task = start.arrayTaskIndex {
            // A task becomes a job of its own; the array record keeps the rest.
            job.array?.pending.removeAll { $0 == task }
            let parent = job
            if job.array?.pending.isEmpty ?? true { live[job.id] = nil } else { live[job.id] = job }
            id = nextID
            nextID += 1
            var taskJob = parent
            taskJob.id = id
            taskJob.array = nil
            taskJob.arrayJobID = parent.id
            taskJob.arrayTaskIndex = task
            job = taskJob
            order.append(id)
            openTasks[parent.id, default: 0] += 1
            behaviour[id] = behaviour[parent.id]
            records[id] = record(for: taskJob)
        }
        job.state = .running
        job.startTime = now
        job.allocation = start.allocation
        job.reason = nil
        job.awaitingVictims = []
        live[id] = job
        let run = remaining[id] ?? behaviour[id]!.run
        let limit = job.request.timeLimit ?? Int.max / 4
        runStartedAt[id] = now
        generation[id, default: 0] += 1
        events.push(now + min(run, limit), .end(id, generation: generation[id]!))
        if records[id]!.start == nil { records[id]!.start = now }
        records[id]!.nodes = start.allocation.nodeNames
        records[id]!.cores = start.allocation.tres.cpus
        records[id]!.state = .running
    }

    mutating func resumeJob(_ id: JobID, at now: Int) {
        guard var job = live[id], job.state == .suspended else { return }
        job.state = .running
        job.suspendedByPreemption = false
        live[id] = job
        runStartedAt[id] = now
        generation[id, default: 0] += 1
        events.push(now + (remaining[id] ?? 0), .end(id, generation: generation[id]!))
        records[id]?.state = .running
    }

    mutating func handle(_ event: Event, at now: Int) {
        switch event {
        case .wake:
            break
        case .end(let id, let gen):
            guard gen == generation[id], let job = live[id], job.state == .running else { return }
            let b = behaviour[id]!
            let ranFor = now - runStartedAt[id]!
            let left = (remaining[id] ?? b.run) - ranFor
            let state: JobState = left > 0 ? .timeout : (b.exitCode == 0 ? .completed : .failed)
            finish(id, state: state, exitCode: state == .completed ? 0 : max(b.exitCode, 1), at: now)
        case .preemptionDeadline(let id, let gen):
            guard gen == generation[id], var job = live[id], job.state == .running, job.preemptionPending,
                  let qos = simulator.cluster.qos(named: job.qos) else { return }
            records[id]?.preemptions += 1
            let ranFor = now - runStartedAt[id]!
            charge(job, seconds: ranFor)
            generation[id, default: 0] += 1
            switch qos.preemptMode {
            case .off, .cancel:
                finish(id, state: .preempted, exitCode: 1, at: now, alreadyCharged: true)
            case .requeue:
                job.state = .pending
                job.allocation = nil
                job.startTime = nil
                job.preemptionPending = false
                live[id] = job
                remaining[id] = nil
                records[id]?.state = .pending
            case .suspend:
                remaining[id] = (remaining[id] ?? behaviour[id]!.run) - ranFor
                job.state = .suspended
                job.suspendedByPreemption = true
                job.preemptionPending = false
                live[id] = job
                records[id]?.state = .suspended
            }
        }
    }

    mutating func finish(_ id: JobID, state: JobState, exitCode: Int, at now: Int, alreadyCharged: Bool = false) {
        guard var job = live[id] else { return }
        if !alreadyCharged { charge(job, seconds: now - runStartedAt[id]!) }
        job.state = state
        live[id] = nil
        finished[id] = FinishedJob(state: state, exitCode: exitCode)
        finishedCount += 1
        records[id]?.state = state
        records[id]?.end = now
        records[id]?.reason = nil
        // An array job is finished when its last task is.
        if let parent = job.arrayJobID {
            openTasks[parent, default: 0] -= 1
            arrayAllCompleted[parent] = (arrayAllCompleted[parent] ?? true) && state == .completed
            if openTasks[parent] == 0, live[parent] == nil {
                let ok = arrayAllCompleted[parent]!
                finished[parent] = FinishedJob(state: ok ? .completed : .failed, exitCode: ok ? 0 : 1)
            }
        }
    }

    mutating func charge(_ job: Job, seconds: Int) {
        guard let allocation = job.allocation, seconds > 0 else { return }
        let cores = allocation.tres.cpus
        let factor = simulator.cluster.qos(named: job.qos)?.usageFactorPermille ?? 1000
        ledger.charge(job.account, cores * seconds * factor / 1000)
        records[job.id]?.coreSeconds += cores * seconds
    }

    func outcome() -> ClusterSimulator.Outcome {
        var all = order.compactMap { records[$0] }
        // Array tasks that never started have no record of their own yet.
        for id in order {
            guard let job = live[id], let tasks = job.array?.pending else { continue }
            for task in tasks {
                var r = record(for: job)
                r.arrayJobID = job.id
                r.arrayTaskIndex = task
                r.reason = job.reason
                all.append(r)
            }
        }
        let ran = all.filter { $0.start != nil }
        let waits = ran.map { $0.start! - $0.submit }
        let firstSubmit = all.map(\.submit).min() ?? 0
        let lastEnd = all.compactMap(\.end).max() ?? firstSubmit
        let makespan = lastEnd - firstSubmit
        let totalCores = simulator.cluster.nodes.reduce(0) { $0 + $1.topology.coreCount }
        let used = all.reduce(0) { $0 + $1.coreSeconds }
        var states: [String: Int] = [:]
        for r in all { states[r.state.rawValue, default: 0] += 1 }
        let metrics = ClusterReplayMetrics(
            jobs: all.count, finished: all.filter { $0.state.isFinished }.count,
            neverStarted: all.count - ran.count,
            avgWait: waits.isEmpty ? 0 : Double(waits.reduce(0, +)) / Double(waits.count),
            maxWait: waits.max() ?? 0, makespan: makespan,
            utilization: makespan > 0 && totalCores > 0 ? Double(used) / (Double(totalCores) * Double(makespan)) : 0,
            preemptions: all.reduce(0) { $0 + $1.preemptions }, passes: passes, states: states)
        return .init(jobs: all, metrics: metrics)
    }
}
