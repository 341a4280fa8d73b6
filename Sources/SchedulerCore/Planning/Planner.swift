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

    public func plan(_ snapshot: SchedulingSnapshot) -> SchedulingDecisions { plan(snapshot, pruning: true) }

    /// With `pruning: false` every node's timeline is walked for every job: the plain search
    /// that the pruned one must agree with exactly (the tests compare the two).
    func plan(_ snapshot: SchedulingSnapshot, pruning: Bool) -> SchedulingDecisions {
        var pass = PlanningPass(snapshot)
        pass.prunes = pruning
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
    /// Free capacity now on the outsiders' view: a cheap first test before a timeline walk.
    var freeNow: [NodeCapacity]
    /// Componentwise maximum of `freeNow`: a job that it does not cover cannot start now anywhere.
    var maxFreeNow = NodeCapacity.zero
    let capacities: [NodeCapacity]
    /// Node pools by what selects them; most jobs share a handful.
    var pools: [PoolKey: (usable: [Int], matching: [Int])] = [:]
    /// Node indices of each partition, in configuration order.
    let partitionNodes: [String: [Int]]
    var smallestCores: [SmallestKey: Int] = [:]
    var limits: LimitUsage
    var runningTasks: [JobID: Int] = [:]
    /// Free licenses of each kind over time: running jobs give theirs back at their expected
    /// end (a suspended job keeps its own), and starts and reservations of this pass take
    /// theirs, as Slurm's backfill plans licenses with nodes.
    var licenses: [String: StepProfile<Int>] = [:]
    var activeSingletons: Set<[String]> = []
    var decisions = SchedulingDecisions()
    /// Lower bounds on each node's earliest start, by (cores, duration rounded down to a power
    /// of two), ignoring memory and GPUs: few enough keys that consecutive jobs share them, and
    /// a reservation changes one node, so a bound is mostly one read. With them the search for
    /// a job's earliest start walks few nodes' timelines instead of all of them (that walk was
    /// most of a conservative pass).
    var startBounds: [BoundKey: NodeStartBounds] = [:]
    /// Whether searches use `startBounds` (off only to check that they change nothing).
    var prunes = true
    /// Bumped whenever a node's timelines change.
    var timelineVersions: [Int]

    /// Times far enough in the future to mean "never", without overflow when added to.
    static let never = Int.max / 4

    init(_ snapshot: SchedulingSnapshot) {
        self.snapshot = snapshot
        now = snapshot.now
        nodes = snapshot.cluster.nodes
        nodeIndex = Dictionary(nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        eligibility = Eligibility(snapshot: snapshot)
        priorities = PriorityCalculator(weights: snapshot.configuration.effectiveWeights, now: snapshot.now, cluster: snapshot.cluster,
                                        usage: snapshot.usage)
        usage = nodes.map { NodeUsage(topology: $0.topology) }
        limits = LimitUsage(cluster: snapshot.cluster)

        var releases = Array(repeating: [(time: Int, amount: NodeCapacity)](), count: nodes.count)
        var licensesHeld: [String: Int] = [:]
        var licenseReleases: [String: [(time: Int, amount: Int)]] = [:]
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
            limits.add(qos: snapshot.cluster.qos(named: job.qos)?.name, user: job.user, account: job.account, tres: allocation.tres)
            if let parent = job.arrayJobID { runningTasks[parent, default: 0] += 1 }
            for (name, count) in job.request.licenses ?? [:] {
                licensesHeld[name, default: 0] += count
                if !suspended { licenseReleases[name, default: []].append((end, count)) }
            }
            activeSingletons.insert([job.name, job.user])
        }
        for (name, total) in snapshot.cluster.licenses {
            licenses[name] = StepProfile(now: snapshot.now, free: total - licensesHeld[name, default: 0],
                                         releases: (licenseReleases[name] ?? []).sorted { $0.time < $1.time })
        }
        let built = usage
        timelines = (0..<built.count).map { n in
            StepProfile(now: snapshot.now, free: built[n].capacity, releases: releases[n].sorted { $0.time < $1.time })
        }
        capacities = nodes.map(\.topology.capacity)
        let index = nodeIndex
        partitionNodes = Dictionary(snapshot.cluster.partitions.map { p in (p.name, p.nodes.compactMap { index[$0] }) },
                                    uniquingKeysWith: { a, _ in a })
        freeNow = built.map(\.capacity)
        timelineVersions = Array(repeating: 0, count: nodes.count)
        applyReservations()
        freeNow = timelines.map(\.availableNow)
        refreshMaxFreeNow()
    }

    mutating func refreshMaxFreeNow() {
        var m = NodeCapacity.zero
        for f in freeNow {
            m = NodeCapacity(cores: max(m.cores, f.cores), memoryMB: max(m.memoryMB, f.memoryMB), gpus: max(m.gpus, f.gpus))
        }
        maxFreeNow = m
    }

    struct PoolKey: Hashable {
        var partition: String
        var constraint: FeatureExpression?
        var gpuType: String?
        var reservation: String?
        var perNode: NodeCapacity
        var exclusive: Bool
        /// `--exclude`.
        var excluded: [String]?
    }

    /// Nodes of the partition that match the job's constraint, GPU type and reservation, are
    /// big enough for its shape, are not excluded and accept jobs; and those that would if none
    /// were drained or down.
    mutating func pool(_ key: PoolKey, partition: Partition, reservation: Reservation?) -> (usable: [Int], matching: [Int]) {
        if let cached = pools[key] { return cached }
        var matching: [Int] = []
        var usable: [Int] = []
        let excluded = Set(key.excluded ?? [])
        for n in partitionNodes[partition.name] ?? [] {
            let node = nodes[n]
            let name = node.name
            if let c = key.constraint, !c.matches(node.features) { continue }
            if let t = key.gpuType, key.perNode.gpus > 0, !node.topology.gpuTypes.contains(t) { continue }
            if let r = reservation, !r.nodes.contains(name) { continue }
            if excluded.contains(name) { continue }
            guard capacities[n].covers(key.perNode) else { continue }
            matching.append(n)
            if node.acceptsJobs { usable.append(n) }
        }
        pools[key] = (usable, matching)
        return (usable, matching)
    }

    enum RequiredNodes {
        case nodes([Int])
        /// One of them can never hold the job here.
        case impossible
        /// One of them is drained or down.
        case unavailable
    }

    /// The indices of a job's `--nodelist` within its pool.
    func requiredNodes(_ names: [String], usable: [Int], matching: [Int]) -> RequiredNodes {
        let indices = names.compactMap { nodeIndex[$0] }
        guard indices.count == names.count, Set(indices).isSubset(of: matching) else { return .impossible }
        return Set(indices).isSubset(of: usable) ? .nodes(indices) : .unavailable
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

        struct Candidate { var index: Int; var tier: Int; var preempting: Int; var priority: Int; var submit: Int; var id: JobID }
        var candidates: [Candidate] = []
        let jobs = snapshot.jobs
        for (index, job) in jobs.enumerated() where job.state.isWaiting || (job.state == .suspended && job.suspendedByPreemption) {
            let partition = partitions[job.partition]
            let p = priorities.priority(of: job, cpus: PriorityCalculator.requestedCPUs(job), partition: partition, qos: qosByName[job.qos])
            candidates.append(Candidate(index: index, tier: partition?.priorityTier ?? 0,
                                        preempting: job.awaitingVictims.isEmpty ? 0 : 1, priority: p,
                                        submit: job.submitTime, id: job.id))
            if job.state.isWaiting { decisions.priorities[job.id] = p }
        }
        candidates.sort {
            ($0.tier, $0.preempting, $0.priority, -$0.submit, -$0.id) > ($1.tier, $1.preempting, $1.priority, -$1.submit, -$1.id)
        }

        var blocked = Set<String>()      // partitions with a job waiting for resources
        var reserved = Set<String>()     // EASY: partitions whose first blocked job holds a reservation
        var preemptors: [Job] = []
        for candidate in candidates {
            let job = jobs[candidate.index]
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
                if job.awaitingVictims.contains(where: eligibility.active.contains) {
                    decisions.reasons[job.id] = .preempting
                } else if let qos = qosByName[job.qos], !qos.preempt.isEmpty {
                    preemptors.append(job)
                }
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

        if blocked && snapshot.configuration.policy == .fifo { return .reason(.priority) }

        let gpuType = job.request.gpus?.type
        guard let shape = shape(of: job.request, in: partition) else { return .reason(.badConstraints) }
        if let most = partition.maxNodes, shape.nodeCount > most { return .reason(.partitionNodeLimit) }
        let key = PoolKey(partition: partition.name, constraint: job.request.constraint, gpuType: gpuType,
                          reservation: reservation?.name, perNode: shape.perNode, exclusive: shape.exclusive,
                          excluded: job.request.excludedNodes)
        let (usable, matching) = pool(key, partition: partition, reservation: reservation)
        guard matching.count >= shape.nodeCount else { return .reason(.badConstraints) }
        var required: [Int] = []
        if let names = job.request.requiredNodes, !names.isEmpty {
            switch requiredNodes(names, usable: usable, matching: matching) {
            case .nodes(let indices): required = indices
            case .impossible: return .reason(.badConstraints)
            case .unavailable: return .waitingForResources(reservedAt: nil, reason: .reqNodeNotAvail)
            }
            guard required.count <= shape.nodeCount else { return .reason(.badConstraints) }
        }
        if let reason = limits.reason(qos: qos, user: job.user, account: job.account, tres: shape.tres) {
            if reason == .qosMaxTRESPerJob { return .reason(reason) }
            return blocked ? .reason(.priority) : .reason(reason)
        }
        guard usable.count >= shape.nodeCount else { return .waitingForResources(reservedAt: nil, reason: .reqNodeNotAvail) }

        let view = reservation.map(\.name)
        let wanted = job.request.licenses ?? [:]
        // A license the cluster does not have (any more: a reconfiguration) never comes.
        if wanted.contains(where: { licenses[$0.key] == nil }) { return .reason(.licenses) }
        var shortOfLicenses = false
        // Start now, task after task for an array.
        var tasks = job.array?.pending ?? []
        let throttle = job.array?.maxRunning
        repeat {
            if job.array != nil, let t = throttle, runningTasks[job.id, default: 0] >= t {
                return .reason(.arrayTaskLimit)
            }
            if let r = reservation, now < r.start { break }
            // Free now and for the job's whole time: a reservation made earlier in the pass
            // for a job that needs them keeps them.
            if wanted.contains(where: { !licenses[$0.key]!.fits($0.value, from: now, duration: timeLimit) }) {
                shortOfLicenses = true
                break
            }
            guard let allocation = startNow(shape: shape, on: usable, including: required, view: view, duration: timeLimit,
                                            gpuType: gpuType)
            else { break }
            commit(allocation, duration: timeLimit)
            limits.add(qos: qos.name, user: job.user, account: job.account, tres: allocation.tres)
            for (name, count) in wanted { licenses[name]!.reserve(count, from: now, to: now + timeLimit) }
            if job.singleton { activeSingletons.insert([job.name, job.user]) }
            if job.array != nil {
                decisions.starts.append(.init(job: job.id, arrayTaskIndex: tasks.removeFirst(), allocation: allocation))
                runningTasks[job.id, default: 0] += 1
                if tasks.isEmpty { return nil }
                if let reason = limits.reason(qos: qos, user: job.user, account: job.account, tres: shape.tres) { return .reason(reason) }
            } else {
                decisions.starts.append(.init(job: job.id, arrayTaskIndex: nil, allocation: allocation))
                return nil
            }
        } while true

        // A job inside a reservation whose window has not opened waits for the window.
        let reason: PendingReason? = shortOfLicenses ? .licenses : reservation.map { now < $0.start ? .reservation : .resources }
        guard mayReserve else {
            return .waitingForResources(reservedAt: nil, reason: reason)
        }
        // With licenses: the first time its nodes and its licenses are all free for its time.
        let found = required.isEmpty && wanted.isEmpty ? earliestStart(shape: shape, on: usable, view: view, duration: timeLimit)
            : earliestStart(shape: shape, on: usable, including: required, view: view, duration: timeLimit, licenses: wanted)
                .map { ($0, nil) }
        guard let (start, node) = found else {
            return .waitingForResources(reservedAt: nil, reason: reason)
        }
        let chosen = node.map { [$0] }
            ?? chooseNodes(shape: shape, among: usable, including: required, view: view, at: start, duration: timeLimit)
        for n in chosen { reserveTimeline(n, need(shape, n), from: start, to: start + timeLimit) }
        for (name, count) in wanted { licenses[name]!.reserve(count, from: start, to: start + timeLimit) }
        return .waitingForResources(reservedAt: start, reason: reason)
    }

    // MARK: Nodes, time and placement

    struct SmallestKey: Hashable {
        var partition: String
        var constraint: FeatureExpression?
        var largest = false
    }

    /// The job's per-node shape in this partition (see `JobRequest.shape(smallestCores:…)`).
    mutating func shape(of request: JobRequest, in partition: Partition) -> JobShape? {
        request.shape(smallestCores: smallestNodeCores(partition, request.constraint),
                      largestCores: smallestNodeCores(partition, request.constraint, largest: true),
                      exclusiveByDefault: partition.exclusiveByDefault)
    }

    /// Cores of the smallest node of the partition that matches the constraint (0 if none).
    mutating func smallestNodeCores(_ partition: Partition, _ constraint: FeatureExpression?, largest: Bool = false) -> Int {
        let key = SmallestKey(partition: partition.name, constraint: constraint, largest: largest)
        if let cached = smallestCores[key] { return cached }
        var smallest = largest ? Int.min : Int.max
        for n in partitionNodes[partition.name] ?? [] {
            if let c = constraint, !c.matches(nodes[n].features) { continue }
            smallest = largest ? max(smallest, capacities[n].cores) : min(smallest, capacities[n].cores)
        }
        let result = smallest == Int.max || smallest == Int.min ? 0 : smallest
        smallestCores[key] = result
        return result
    }

    @inline(__always)
    func need(_ shape: JobShape, _ n: Int) -> NodeCapacity {
        if shape.exclusive { return capacities[n] }
        if shape.wholeNodeMemory { return NodeCapacity(cores: shape.perNode.cores, memoryMB: capacities[n].memoryMB, gpus: shape.perNode.gpus) }
        return shape.perNode
    }

    func profile(_ n: Int, view: String?) -> StepProfile<NodeCapacity> {
        if let view, let p = memberTimelines[view]?[n] { return p }
        return timelines[n]
    }

    /// Places the job now if `shape.nodeCount` nodes, `required` among them, stay free for `duration`.
    func startNow(shape: JobShape, on pool: [Int], including required: [Int], view: String?, duration: Int,
                  gpuType: String?) -> Allocation? {
        let chosen = chooseNodes(shape: shape, among: pool, including: required, view: view, at: now, duration: duration)
        guard chosen.count == shape.nodeCount else { return nil }
        var placed: [NodeAllocation] = []
        for n in chosen {
            guard let a = CoreAllocator.allocate(on: nodes[n], usage: usage[n], need: need(shape, n), gpuType: gpuType,
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
        refreshMaxFreeNow()
    }

    /// Takes capacity on every view of the node.
    mutating func reserveTimeline(_ n: Int, _ amount: NodeCapacity, from: Int, to: Int) {
        timelines[n].reserve(amount, from: from, to: to)
        timelineVersions[n] += 1
        freeNow[n] = timelines[n].availableNow
        for name in memberTimelines.keys where memberTimelines[name]![n] != nil {
            memberTimelines[name]![n]!.reserve(amount, from: from, to: to)
        }
    }

    /// The earliest time at which `shape.nodeCount` nodes of the pool are each free for
    /// `duration`; for a single-node job, also the node (the first in pool order at that time).
    mutating func earliestStart(shape: JobShape, on pool: [Int], view: String?, duration: Int) -> (time: Int, node: Int?)? {
        var result: Int?
        var bestNode: Int?
        if shape.nodeCount == 1 && view == nil && prunes {
            (result, bestNode) = earliestSingleNodeStart(shape: shape, on: pool, duration: duration)
        } else if shape.nodeCount == 1 {
            var best = Int.max
            for n in pool {
                let need = need(shape, n)
                let found = view == nil ? timelines[n].earliestFit(need, duration: duration, before: best)
                    : profile(n, view: view).earliestFit(need, duration: duration, before: best)
                if let fit = found {
                    best = fit.start
                    bestNode = n
                    if best == now { break }
                }
            }
            result = best == Int.max ? nil : best
        } else {
            result = earliestCommonStart(shape: shape, on: pool, view: view, duration: duration)
        }
        guard let time = result, time < Self.never else { return nil }
        return (time, bestNode)
    }

    /// One node outside reservations: the same answer as trying every node in pool order and
    /// keeping the first with the earliest start, found faster. The node with the smallest start
    /// bound is tried first; its start bounds the rest, and a node whose start bound is not below
    /// the best start so far is not walked at all.
    private mutating func earliestSingleNodeStart(shape: JobShape, on pool: [Int], duration: Int) -> (Int?, Int?) {
        var bounds = takeBounds(shape, duration)
        defer { putBounds(bounds, shape, duration) }
        var probe: Int?
        var probeBound = Int.max
        for n in pool {
            let bound = startBound(n, shape, duration, &bounds)
            if bound < probeBound { probeBound = bound; probe = n }
        }
        guard probeBound != Int.max else { return (nil, nil) }
        let upper = probe.flatMap { timelines[$0].earliestFit(need(shape, $0), duration: duration)?.start }
        var best = Int.max
        var bestNode: Int?
        for n in pool {
            let before = upper.map { min(best, $0 + 1) } ?? best
            if startBound(n, shape, duration, &bounds) >= before { continue }
            if let fit = timelines[n].earliestFit(need(shape, n), duration: duration, before: before) {
                best = fit.start
                bestNode = n
                if best == now { break }
            }
        }
        return best == Int.max ? (nil, nil) : (best, bestNode)
    }

    private func boundKey(_ shape: JobShape, _ duration: Int) -> BoundKey {
        BoundKey(cores: shape.exclusive ? -1 : shape.perNode.cores,
                 duration: duration <= 1 ? duration : 1 << (Int.bitWidth - 1 - duration.leadingZeroBitCount))
    }

    private mutating func takeBounds(_ shape: JobShape, _ duration: Int) -> NodeStartBounds {
        startBounds.removeValue(forKey: boundKey(shape, duration)) ?? NodeStartBounds(nodes: nodes.count)
    }

    private mutating func putBounds(_ bounds: NodeStartBounds, _ shape: JobShape, _ duration: Int) {
        startBounds[boundKey(shape, duration)] = bounds
    }

    /// A lower bound on node `n`'s earliest start for the shape (see `startBounds`); `Int.max`
    /// when it can never hold the shape's cores for that long.
    @inline(__always)
    private func startBound(_ n: Int, _ shape: JobShape, _ duration: Int, _ bounds: inout NodeStartBounds) -> Int {
        if bounds.versions[n] != timelineVersions[n] {
            let key = boundKey(shape, duration)
            let cores = key.cores < 0 ? capacities[n].cores : key.cores
            bounds.starts[n] = timelines[n].earliestFit(NodeCapacity(cores: cores, memoryMB: 0, gpus: 0),
                                                        duration: key.duration)?.start ?? Int.max
            bounds.versions[n] = timelineVersions[n]
        }
        return bounds.starts[n]
    }

    /// The earliest time at which all of `required` and enough others of the pool to make
    /// `shape.nodeCount` are each free for `duration` (a `--nodelist` job).
    func earliestStart(shape: JobShape, on pool: [Int], including required: [Int], view: String?, duration: Int,
                       licenses wanted: [String: Int] = [:]) -> Int? {
        sweep(shape: shape, pool: pool, required: Set(required), others: shape.nodeCount - required.count, view: view,
              duration: duration, notBefore: now, licenses: wanted)
    }

    /// The first time from `notBefore` at which every node of `required` and `others` more of
    /// the pool are each free for `duration`, and so are the licenses `wanted`: a sweep over the
    /// nodes' (and licenses') intervals of feasible starts, counting the required nodes apart.
    private func sweep(shape: JobShape, pool: [Int], required: Set<Int>, others: Int, view: String?, duration: Int,
                       notBefore: Int, licenses wanted: [String: Int] = [:]) -> Int? {
        var events: [(time: Int, required: Int, other: Int, license: Int)] = []
        for (name, count) in wanted {
            guard let profile = licenses[name] else { return nil }
            for interval in profile.feasibleStarts(count, duration: duration) where interval.to > notBefore {
                events.append((max(interval.from, notBefore), 0, 0, 1))
                if interval.to != Int.max { events.append((interval.to, 0, 0, -1)) }
            }
        }
        for n in pool {
            let isRequired = required.contains(n)
            if !isRequired && others == 0 { continue }
            for interval in profile(n, view: view).feasibleStarts(need(shape, n), duration: duration) where interval.to > notBefore {
                let (r, o) = isRequired ? (1, 0) : (0, 1)
                events.append((max(interval.from, notBefore), r, o, 0))
                if interval.to != Int.max { events.append((interval.to, -r, -o, 0)) }
            }
        }
        events.sort { $0.time < $1.time }
        var requiredFree = 0
        var othersFree = 0
        var licensesFree = 0
        var i = 0
        while i < events.count {
            let t = events[i].time
            while i < events.count && events[i].time == t {
                requiredFree += events[i].required
                othersFree += events[i].other
                licensesFree += events[i].license
                i += 1
            }
            if requiredFree == required.count && othersFree >= others && licensesFree == wanted.count && t < Self.never { return t }
        }
        return nil
    }

    /// Several nodes at once. No start can come before the k-th smallest of the nodes' own
    /// earliest starts; most of the time enough nodes fit right there. Otherwise sweep over the
    /// intervals of feasible starts of every node.
    private mutating func earliestCommonStart(shape: JobShape, on pool: [Int], view: String?, duration: Int) -> Int? {
        let k = shape.nodeCount
        // The k smallest earliest starts, ascending: a node whose start (or, outside
        // reservations, start bound) cannot beat the k-th so far is not walked to the end.
        var smallest: [Int] = []
        smallest.reserveCapacity(k + 1)
        var bounds = takeBounds(shape, duration)
        defer { putBounds(bounds, shape, duration) }
        for n in pool {
            let kth = smallest.count == k ? smallest[k - 1] : Int.max
            if prunes && view == nil && kth != Int.max && startBound(n, shape, duration, &bounds) >= kth { continue }
            guard let fit = profile(n, view: view).earliestFit(need(shape, n), duration: duration, before: kth) else { continue }
            var at = smallest.count
            while at > 0 && smallest[at - 1] > fit.start { at -= 1 }
            smallest.insert(fit.start, at: at)
            if smallest.count > k { smallest.removeLast() }
        }
        guard smallest.count >= k else { return nil }
        let lowerBound = smallest[k - 1]
        var fitting = 0
        for n in pool where profile(n, view: view).fits(need(shape, n), from: lowerBound, duration: duration) {
            fitting += 1
            if fitting == k { return lowerBound }
        }
        return sweep(shape: shape, pool: pool, required: [], others: k, view: view, duration: duration, notBefore: lowerBound)
    }

    /// Picks `shape.nodeCount` nodes free at `start` for `duration`, `required` (a `--nodelist`)
    /// first: fewest leaf switches, and within that the lowest node weight, then the tightest fit
    /// (nodes already busy first), so whole nodes stay whole.
    func chooseNodes(shape: JobShape, among pool: [Int], including required: [Int] = [], view: String?, at start: Int,
                     duration: Int) -> [Int] {
        if !required.isEmpty {
            for n in required {
                let fits = profile(n, view: view).fits(need(shape, n), from: start, duration: duration)
                guard fits, start != now || view != nil || freeNow[n].covers(need(shape, n)) else { return [] }
            }
            var rest = shape
            rest.nodeCount -= required.count
            guard rest.nodeCount > 0 else { return required }
            let others = chooseNodes(shape: rest, among: pool.filter { !required.contains($0) }, view: view, at: start,
                                     duration: duration)
            return others.count == rest.nodeCount ? required + others : []
        }
        let startsNow = start == now && view == nil
        if startsNow && !shape.exclusive && !maxFreeNow.covers(shape.perNode) { return [] }
        var fitting: [(n: Int, spare: Int)] = []
        for n in pool {
            let need = need(shape, n)
            if startsNow && !freeNow[n].covers(need) { continue }
            let fits = view == nil ? timelines[n].fits(need, from: start, duration: duration)
                : profile(n, view: view).fits(need, from: start, duration: duration)
            if fits { fitting.append((n, start == now ? freeNow[n].cores - need.cores : 0)) }
        }
        guard fitting.count >= shape.nodeCount else { return [] }
        // The lowest node weight first (Slurm's Weight), then the tightest fit.
        if shape.nodeCount == 1 {
            return [fitting.min { (nodes[$0.n].weight, $0.spare, $0.n) < (nodes[$1.n].weight, $1.spare, $1.n) }!.n]
        }
        fitting.sort { (nodes[$0.n].weight, $0.spare, $0.n) < (nodes[$1.n].weight, $1.spare, $1.n) }

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

/// Which lower bounds on earliest starts: cores (-1: the whole node) and a power-of-two duration.
struct BoundKey: Hashable {
    var cores: Int
    var duration: Int
}

/// Earliest-start bounds by node index, each with the timeline version it was computed on (-1: not yet).
struct NodeStartBounds {
    var starts: [Int]
    var versions: [Int]

    init(nodes: Int) {
        starts = Array(repeating: Int.max, count: nodes)
        versions = Array(repeating: -1, count: nodes)
    }
}
