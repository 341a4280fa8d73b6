/// The queue policies of a flat-machine replay (`SIMULATION.md` §6).
public enum ReplayPolicy: String, Sendable, CaseIterable {
    case fcfs
    case easy
    case conservative
}

/// Progress of a long replay: jobs started so far out of the jobs to simulate.
public struct ReplayProgress: Sendable, Equatable {
    public var started: Int
    public var total: Int
}

/// Replays a trace on one pool of identical processors with a virtual clock, following
/// `SIMULATION.md` to the letter: events are submits and actual ends, one scheduling pass per event
/// time, integer seconds throughout. The result is the start time of every job.
///
/// Every pass is exact and unbounded: EASY scans the whole queue through `PendingQueueIndex`, and
/// conservative rebuilds every reservation. Neither needs a depth limit.
public struct FlatMachineReplay: Sendable {
    public let workload: SWFWorkload
    public let policy: ReplayPolicy

    public init(workload: SWFWorkload, policy: ReplayPolicy) {
        self.workload = workload
        self.policy = policy
    }

    /// Runs the replay. `progress` is called now and then (about every 1% of jobs started).
    public func run(progress: ((ReplayProgress) -> Void)? = nil) -> ReplayOutcome {
        run(progress: progress, observeShadow: nil)
    }

    /// `observeShadow` sees each EASY reservation (head position, shadow time): tests check the
    /// invariants of SIMULATION.md §6 with it.
    func run(progress: ((ReplayProgress) -> Void)? = nil,
             observeShadow: ((Int, Int) -> Void)?) -> ReplayOutcome {
        var engine = Engine(jobs: workload.jobs, machineSize: workload.machineSize, policy: policy)
        engine.observeShadow = observeShadow
        engine.run(progress: progress)
        return ReplayOutcome(workload: workload, policy: policy, starts: engine.starts)
    }
}

/// The start times of a replay, aligned with `workload.jobs` (queue order).
public struct ReplayOutcome: Sendable {
    public let workload: SWFWorkload
    public let policy: ReplayPolicy
    public let starts: [Int]

    public var metrics: ReplayMetrics { ReplayMetrics(outcome: self) }
}

private struct Engine {
    let jobs: [ReplayJob]
    let machineSize: Int
    let policy: ReplayPolicy

    var starts: [Int]
    var free: Int
    var queue: PendingQueueIndex
    /// Running jobs by actual end: drives the clock.
    var endings = MinHeap<Int>()
    /// Running jobs sorted by requested end (ties by start order): the planning view.
    var runningByRequestedEnd: [(requestedEnd: Int, procs: Int, job: Int)] = []
    /// Conservative only: queued positions in queue order.
    var pendingInOrder: [Int] = []
    var startedCount = 0
    var observeShadow: ((Int, Int) -> Void)?

    init(jobs: [ReplayJob], machineSize: Int, policy: ReplayPolicy) {
        self.jobs = jobs
        self.machineSize = machineSize
        self.policy = policy
        starts = Array(repeating: -1, count: jobs.count)
        free = machineSize
        queue = PendingQueueIndex(count: jobs.count)
    }

    mutating func run(progress: ((ReplayProgress) -> Void)?) {
        let total = jobs.count
        let step = max(total / 100, 1000)
        var nextReport = step
        progress?(ReplayProgress(started: 0, total: total))
        var nextSubmit = 0
        while nextSubmit < total || !endings.isEmpty {
            let submitTime = nextSubmit < total ? jobs[nextSubmit].submit : Int.max
            let t = min(submitTime, endings.minKey ?? Int.max)
            while let top = endings.min, top.key == t {
                endings.pop()
                release(top.payload)
            }
            while nextSubmit < total && jobs[nextSubmit].submit == t {
                enqueue(nextSubmit)
                nextSubmit += 1
            }
            switch policy {
            case .fcfs: startFromHead(at: t)
            case .easy: easyPass(at: t)
            case .conservative: conservativePass(at: t)
            }
            if startedCount >= nextReport {
                progress?(ReplayProgress(started: startedCount, total: total))
                nextReport += step
            }
        }
        precondition(queue.isEmpty, "replay ended with queued jobs on an empty machine")
        progress?(ReplayProgress(started: startedCount, total: total))
    }

    // MARK: Queue and machine

    mutating func enqueue(_ j: Int) {
        queue.insert(j, procs: jobs[j].procs, requested: jobs[j].requested)
        if policy == .conservative { pendingInOrder.append(j) }
    }

    mutating func start(_ j: Int, at t: Int) {
        queue.remove(j)
        starts[j] = t
        startedCount += 1
        free -= jobs[j].procs
        endings.push(t + jobs[j].run, j)
        let entry = (requestedEnd: t + jobs[j].requested, procs: jobs[j].procs, job: j)
        // Insert after every entry with the same requested end (stable).
        var lo = 0
        var hi = runningByRequestedEnd.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runningByRequestedEnd[mid].requestedEnd <= entry.requestedEnd { lo = mid + 1 } else { hi = mid }
        }
        runningByRequestedEnd.insert(entry, at: lo)
    }

    mutating func release(_ j: Int) {
        free += jobs[j].procs
        let requestedEnd = starts[j] + jobs[j].requested
        var lo = 0
        var hi = runningByRequestedEnd.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runningByRequestedEnd[mid].requestedEnd < requestedEnd { lo = mid + 1 } else { hi = mid }
        }
        while runningByRequestedEnd[lo].job != j { lo += 1 }
        runningByRequestedEnd.remove(at: lo)
    }

    /// Starts jobs from the head while the head fits (all of fcfs, step 1 of easy).
    mutating func startFromHead(at t: Int) {
        while !queue.isEmpty {
            let h = queue.head
            guard jobs[h].procs <= free else { return }
            start(h, at: t)
        }
    }

    // MARK: EASY

    mutating func easyPass(at t: Int) {
        startFromHead(at: t)
        guard !queue.isEmpty else { return }
        let head = queue.head
        let need = jobs[head].procs

        // Shadow time: the first requested end by which enough processors are free.
        var available = free
        var shadow = 0
        var i = 0
        let running = runningByRequestedEnd
        while i < running.count {
            let e = running[i].requestedEnd
            while i < running.count && running[i].requestedEnd == e {
                available += running[i].procs
                i += 1
            }
            if available >= need { shadow = e; break }
        }
        var extra = available - need
        observeShadow?(head, shadow)

        var from = head + 1
        while free > 0,
              let j = queue.firstBackfillCandidate(from: from, free: free, window: shadow - t, extra: extra) {
            if t + jobs[j].requested > shadow { extra -= jobs[j].procs }
            start(j, at: t)
            from = j + 1
        }
    }

    // MARK: Conservative

    mutating func conservativePass(at t: Int) {
        guard !pendingInOrder.isEmpty else { return }
        var profile = StepProfile<Int>(
            now: t, free: free,
            releases: runningByRequestedEnd.lazy.map { (time: $0.requestedEnd, amount: $0.procs) })
        var startedNow: [Int] = []
        for j in pendingInOrder {
            // Later reservations can only lower the profile: once nothing is free now, no later
            // job can start in this pass, and reservations do not outlive it.
            if profile.availableNow == 0 { break }
            let job = jobs[j]
            let start = profile.earliestFit(job.procs, duration: job.requested)!.start
            profile.reserve(job.procs, from: start, to: start + job.requested)
            if start == t { startedNow.append(j) }
        }
        guard !startedNow.isEmpty else { return }
        for j in startedNow { start(j, at: t) }
        pendingInOrder.removeAll { starts[$0] >= 0 }
    }
}
