/// One scheduling pass: snapshot in, decisions out. Pure and deterministic: the live controller
/// and the simulator call the same function, only their clocks differ.
///
/// Jobs are considered in (partition tier, priority, submit time, id) order. Each node has a
/// timeline of free capacity (`StepProfile<NodeCapacity>`) built from the running jobs' expected
/// ends and the advance reservations; a job starts now when its nodes stay free for its whole
/// time limit on those timelines, so a start never delays a reservation made earlier in the pass.
/// FIFO makes no reservations and blocks a partition at its first job that cannot start; EASY
/// reserves for the first such job of each partition; conservative reserves for every job.
/// There is no depth limit: every waiting job is considered every pass.
public struct Planner: Sendable {
    public init() {}

    public func plan(_ snapshot: SchedulingSnapshot) -> SchedulingDecisions {
        var pass = PlanningPass(snapshot)
        pass.run()
        return pass.decisions
    }
}

struct PlanningPass {
    let snapshot: SchedulingSnapshot
    let now: Int
    let nodes: [Node]
    let nodeIndex: [String: Int]
    let eligibility: Eligibility
    let priorities: PriorityCalculator

    var usage: [NodeUsage]
    /// The view of every job not inside a reservation.
    var timelines: [StepProfile<NodeCapacity>]
    /// Per reservation, the view of its members on its nodes: free only inside its window.
    var memberTimelines: [String: [Int: StepProfile<NodeCapacity>]] = [:]
    var limits = LimitUsage()
    var runningTasks: [JobID: Int] = [:]
    var activeSingletons: Set<[String]> = []
    var decisions = SchedulingDecisions()

    /// Times far enough in the future to mean "never", without overflow when added to.
    static let never = Int.max / 4

    init(_ snapshot: SchedulingSnapshot) {
        self.snapshot = snapshot
        now = snapshot.now
        nodes = snapshot.cluster.nodes
        nodeIndex = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        eligibility = Eligibility(snapshot: snapshot)
        priorities = PriorityCalculator(weights: snapshot.configuration.policy == .fifo ? .fifo : snapshot.configuration.weights,
                                        now: snapshot.now, cluster: snapshot.cluster, usage: snapshot.usage)
        usage = nodes.map { NodeUsage(topology: $0.topology) }

        var releases = Array(repeating: [(time: Int, amount: NodeCapacity)](), count: nodes.count)
        for job in snapshot.jobs where job.state.isActive {
            guard let allocation = job.allocation else { continue }
            let suspended = job.state == .suspended
            let end = max((job.startTime ?? now) + (job.request.timeLimit ?? 0), now + 1)
            for a in allocation.nodes {
                guard let n = nodeIndex[a.node] else { continue }
                usage[n].take(a, memoryOnly: suspended)
                if !suspended {
                    releases[n].append((end, NodeCapacity(cores: a.cores.count, memoryMB: a.memoryMB, gpus: a.gpus.count)))
                }
            }
            if let qos = snapshot.cluster.qos(named: job.qos) {
                limits.add(qos: qos.name, user: job.user, tres: allocation.tres)
            }
            if let parent = job.arrayJobID { runningTasks[parent, default: 0] += 1 }
            activeSingletons.insert([job.name, job.user])
        }
        let built = usage
        timelines = (0..<built.count).map { n in
            StepProfile(now: snapshot.now, free: built[n].capacity, releases: releases[n].sorted { $0.time < $1.time })
        }
        applyReservations()
    }

    /// Outsiders lose reserved nodes during each window; members see only the window.
    private mutating func applyReservations() {
        let live = snapshot.cluster.reservations.filter { $0.end > now }
        let base = timelines
        for r in live {
            for name in r.nodes {
                guard let n = nodeIndex[name] else { continue }
                timelines[n].reserve(nodes[n].topology.capacity, from: r.start, to: r.end)
            }
        }
        for r in live {
            var views: [Int: StepProfile<NodeCapacity>] = [:]
            for name in r.nodes {
                guard let n = nodeIndex[name] else { continue }
                var view = base[n]
                let full = nodes[n].topology.capacity
                for other in live where other.name != r.name && other.nodes.contains(name) {
                    view.reserve(full, from: other.start, to: other.end)
                }
                view.reserve(full, from: now, to: r.start)
                view.reserve(full, from: r.end, to: Self.never)
                views[n] = view
            }
            memberTimelines[r.name] = views
        }
    }

    // MARK: The pass

    mutating func run() {
        let cluster = snapshot.cluster
        let partitions = Dictionary(cluster.partitions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let qosByName = Dictionary(cluster.qos.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        struct Candidate { var job: Job; var priority: Int; var tier: Int }
        var candidates: [Candidate] = []
        for job in snapshot.jobs where job.state.isWaiting || (job.state == .suspended && job.suspendedByPreemption) {
            let partition = partitions[job.partition]
            let cpus = job.request.cpusPerTask * (job.request.tasks ?? job.request.nodes ?? 1)
            let p = priorities.priority(of: job, cpus: cpus, partition: partition, qos: qosByName[job.qos])
            candidates.append(Candidate(job: job, priority: p, tier: partition?.priorityTier ?? 0))
            if job.state.isWaiting { decisions.priorities[job.id] = p }
        }
        candidates.sort {
            ($0.tier, $0.priority, -$0.job.submitTime, -$0.job.id) > ($1.tier, $1.priority, -$1.job.submitTime, -$1.job.id)
        }

        var blocked = Set<String>()      // partitions with a job waiting for resources
        var reserved = Set<String>()     // EASY: partitions whose first blocked job holds a reservation
        var preemptors: [Job] = []
        for candidate in candidates {
            let job = candidate.job
            if job.state == .suspended {
                resumeIfFree(job)
                continue
            }
            guard let outcome = consider(job, partition: partitions[job.partition], qos: qosByName[job.qos],
                                         blocked: blocked.contains(job.partition),
                                         mayReserve: snapshot.configuration.policy == .conservative
                                            || (snapshot.configuration.policy == .easy && !reserved.contains(job.partition)))
            else { continue }
            switch outcome {
            case .waitingForResources(let reservedAt, let reason):
                decisions.reasons[job.id] = reason ?? (blocked.contains(job.partition) ? .priority : .resources)
                if let reservedAt {
                    decisions.plannedStarts[job.id] = reservedAt
                    reserved.insert(job.partition)
                }
                blocked.insert(job.partition)
                if let qos = qosByName[job.qos], !qos.preempt.isEmpty { preemptors.append(job) }
            case .reason(let reason):
                decisions.reasons[job.id] = reason
            }
        }
        if snapshot.configuration.preemption && !preemptors.isEmpty {
            planPreemptions(for: preemptors, qosByName: qosByName, partitions: partitions)
        }
    }

    enum Outcome {
        /// Could not start for lack of resources; holds a reservation at this time if any. The
        /// reason defaults to Resources (or Priority behind another blocked job).
        case waitingForResources(reservedAt: Int?, reason: PendingReason? = nil)
        case reason(PendingReason)
    }

    /// Starts the job (or as many array tasks as may start) if it can; nil when nothing is left
    /// waiting.
    mutating func consider(_ job: Job, partition: Partition?, qos: QoS?, blocked: Bool, mayReserve: Bool) -> Outcome? {
        if let reason = eligibility.timingReason(job, now: now) { return .reason(reason) }
        if job.singleton && activeSingletons.contains([job.name, job.user]) { return .reason(.dependency) }
        let timeLimit = job.request.timeLimit ?? partition?.defaultTime ?? partition?.maxTime ?? Self.never / 4
        if let reason = eligibility.configurationReason(job, partition: partition, qos: qos, timeLimit: timeLimit) {
            return .reason(reason)
        }
        guard let partition, let qos else { return .reason(.partitionConfig) }

        // The reservation the job runs in, if any, and the view of the nodes it plans on.
        var reservation: Reservation?
        if let name = job.request.reservation {
            guard let r = snapshot.cluster.reservations.first(where: { $0.name == name }), r.end > now,
                  r.admits(user: job.user, account: job.account) else { return .reason(.reservationInvalid) }
            reservation = r
        }

        // Nodes the job could ever use, and the shape it takes on them.
        let gpuType = job.request.gpus?.type
        let wantsGPUs = (job.request.gpus?.count ?? 0) > 0
        var pool: [Int] = []
        for name in partition.nodes {
            guard let n = nodeIndex[name] else { continue }
            let node = nodes[n]
            if let c = job.request.constraint, !c.matches(node.features) { continue }
            if wantsGPUs, let t = gpuType, !node.topology.gpuTypes.contains(t) { continue }
            if let r = reservation, !r.nodes.contains(name) { continue }
            pool.append(n)
        }
        let minCores = pool.map { nodes[$0].topology.coreCount }.min() ?? 0
        guard let shape = job.request.shape(coresPerNode: minCores, exclusiveByDefault: partition.exclusiveByDefault)
        else { return .reason(.badConstraints) }
        pool.removeAll { !nodes[$0].topology.capacity.covers(shape.perNode) }
        guard pool.count >= shape.nodeCount else { return .reason(.badConstraints) }
        if let reason = limits.reason(qos: qos, user: job.user, tres: shape.tres) {
            if reason == .qosMaxTRESPerJob { return .reason(reason) }
            return blocked ? .reason(.priority) : .reason(reason)
        }
        let usable = pool.filter { nodes[$0].acceptsJobs }
        if blocked && snapshot.configuration.policy == .fifo { return .reason(.priority) }
        guard usable.count >= shape.nodeCount else { return .waitingForResources(reservedAt: nil) }

        let view = reservation.map(\.name)
        // Start now, task after task for an array.
        var tasks = job.array?.pending ?? []
        let throttle = job.array?.maxRunning
        repeat {
            if job.array != nil, let t = throttle, runningTasks[job.id, default: 0] >= t {
                return .reason(.arrayTaskLimit)
            }
            if let r = reservation, now < r.start { break }
            guard let allocation = startNow(shape: shape, on: usable, view: view, duration: timeLimit, gpuType: gpuType)
            else { break }
            commit(allocation, duration: timeLimit)
            limits.add(qos: qos.name, user: job.user, tres: allocation.tres)
            if job.singleton { activeSingletons.insert([job.name, job.user]) }
            if job.array != nil {
                decisions.starts.append(.init(job: job.id, arrayTaskIndex: tasks.removeFirst(), allocation: allocation))
                runningTasks[job.id, default: 0] += 1
                if tasks.isEmpty { return nil }
                if let reason = limits.reason(qos: qos, user: job.user, tres: shape.tres) { return .reason(reason) }
            } else {
                decisions.starts.append(.init(job: job.id, arrayTaskIndex: nil, allocation: allocation))
                return nil
            }
        } while true

        // A job inside a reservation whose window has not opened waits for the window.
        let reason: PendingReason? = reservation.map { now < $0.start ? .reservation : .resources }
        guard mayReserve, !(blocked && snapshot.configuration.policy == .fifo) else {
            return .waitingForResources(reservedAt: nil, reason: reason)
        }
        guard let start = earliestStart(shape: shape, on: usable, view: view, duration: timeLimit) else {
            return .waitingForResources(reservedAt: nil, reason: reason)
        }
        let chosen = chooseNodes(shape: shape, among: usable, view: view, at: start, duration: timeLimit)
        for n in chosen { reserveTimeline(n, need(shape, n), from: start, to: start + timeLimit) }
        return .waitingForResources(reservedAt: start, reason: reason)
    }

    // MARK: Nodes, time and placement

    func need(_ shape: JobShape, _ n: Int) -> NodeCapacity {
        shape.exclusive ? nodes[n].topology.capacity : shape.perNode
    }

    func profile(_ n: Int, view: String?) -> StepProfile<NodeCapacity> {
        if let view, let p = memberTimelines[view]?[n] { return p }
        return timelines[n]
    }

    /// Places the job now if `shape.nodeCount` nodes stay free for `duration`.
    func startNow(shape: JobShape, on pool: [Int], view: String?, duration: Int, gpuType: String?) -> Allocation? {
        let chosen = chooseNodes(shape: shape, among: pool, view: view, at: now, duration: duration)
        guard chosen.count == shape.nodeCount else { return nil }
        var placed: [NodeAllocation] = []
        for n in chosen {
            guard let a = CoreAllocator.allocate(on: nodes[n], usage: usage[n], need: shape.perNode, gpuType: gpuType,
                                                 exclusive: shape.exclusive) else { return nil }
            placed.append(a)
        }
        return Allocation(nodes: placed)
    }

    mutating func commit(_ allocation: Allocation, duration: Int) {
        for a in allocation.nodes {
            guard let n = nodeIndex[a.node] else { continue }
            usage[n].take(a)
            reserveTimeline(n, NodeCapacity(cores: a.cores.count, memoryMB: a.memoryMB, gpus: a.gpus.count),
                            from: now, to: now + duration)
        }
    }

    /// Takes capacity on every view of the node.
    mutating func reserveTimeline(_ n: Int, _ amount: NodeCapacity, from: Int, to: Int) {
        timelines[n].reserve(amount, from: from, to: to)
        for name in memberTimelines.keys where memberTimelines[name]![n] != nil {
            memberTimelines[name]![n]!.reserve(amount, from: from, to: to)
        }
    }

    /// The earliest time at which `shape.nodeCount` nodes of the pool are each free for `duration`.
    func earliestStart(shape: JobShape, on pool: [Int], view: String?, duration: Int) -> Int? {
        if shape.nodeCount == 1 {
            var best: Int?
            for n in pool {
                if let fit = profile(n, view: view).earliestFit(need(shape, n), duration: duration),
                   fit.start < (best ?? Int.max) {
                    best = fit.start
                    if fit.start == now { break }
                }
            }
            return best.flatMap { $0 >= Self.never ? nil : $0 }
        }
        // Sweep over the intervals of feasible starts of every node.
        var events: [(time: Int, delta: Int)] = []
        for n in pool {
            for interval in profile(n, view: view).feasibleStarts(need(shape, n), duration: duration) {
                events.append((interval.from, 1))
                if interval.to != Int.max { events.append((interval.to, -1)) }
            }
        }
        events.sort { $0.time < $1.time }
        var count = 0
        var i = 0
        while i < events.count {
            let t = events[i].time
            while i < events.count && events[i].time == t {
                count += events[i].delta
                i += 1
            }
            if count >= shape.nodeCount { return t >= Self.never ? nil : t }
        }
        return nil
    }

    /// Picks `shape.nodeCount` nodes free at `start` for `duration`: fewest leaf switches, and
    /// within that the tightest fit (nodes already busy first), so whole nodes stay whole.
    func chooseNodes(shape: JobShape, among pool: [Int], view: String?, at start: Int, duration: Int) -> [Int] {
        var fitting: [(n: Int, spare: Int)] = []
        for n in pool {
            let p = profile(n, view: view)
            let need = need(shape, n)
            if p.fits(need, from: start, duration: duration) {
                fitting.append((n, start == now ? p.availableNow.cores - need.cores : 0))
            }
        }
        guard fitting.count >= shape.nodeCount else { return [] }
        fitting.sort { ($0.spare, $0.n) < ($1.spare, $1.n) }
        if shape.nodeCount == 1 { return [fitting[0].n] }

        var bySwitch: [String: [Int]] = [:]
        var switchOrder: [String] = []
        for f in fitting {
            let key = nodes[f.n].topology.leafSwitch ?? ""
            if bySwitch[key] == nil { switchOrder.append(key) }
            bySwitch[key, default: []].append(f.n)
        }
        // One switch that holds the job: the smallest such.
        if let single = switchOrder.filter({ bySwitch[$0]!.count >= shape.nodeCount })
            .min(by: { bySwitch[$0]!.count < bySwitch[$1]!.count }) {
            return Array(bySwitch[single]!.prefix(shape.nodeCount))
        }
        // Otherwise the biggest switches first.
        var chosen: [Int] = []
        for key in switchOrder.sorted(by: { bySwitch[$0]!.count > bySwitch[$1]!.count }) {
            chosen += bySwitch[key]!.prefix(shape.nodeCount - chosen.count)
            if chosen.count == shape.nodeCount { break }
        }
        return chosen
    }

    // MARK: Suspended jobs

    /// A job suspended for a preemptor resumes, in priority order, once its own cores and GPUs
    /// are free again.
    mutating func resumeIfFree(_ job: Job) {
        guard let allocation = job.allocation else { return }
        let indices = allocation.nodes.compactMap { nodeIndex[$0.node] }
        guard indices.count == allocation.nodes.count,
              zip(indices, allocation.nodes).allSatisfy({ usage[$0].holdsFree($1) }) else { return }
        let duration = job.request.timeLimit ?? Self.never / 4
        for (n, a) in zip(indices, allocation.nodes) {
            var coresAndGPUs = a
            coresAndGPUs.memoryMB = 0
            usage[n].take(coresAndGPUs)
            reserveTimeline(n, NodeCapacity(cores: a.cores.count, memoryMB: 0, gpus: a.gpus.count), from: now, to: now + duration)
        }
        decisions.resumes.append(job.id)
    }
}
