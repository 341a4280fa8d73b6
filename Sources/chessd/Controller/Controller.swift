import CChessSystem
import ChessAPI
import ChessConfig
import ControllerCore
import Foundation
import Glibc
import GRDB
import Logging
import MarketBridge
import SchedulerCore
import Synchronization

/// The shell around the controller's state (`ControllerState`, ControllerCore): the lock, the
/// clock, the store, the scheduling thread, the dispatch of agent commands and mail, the market.
///
/// One lock guards the state, so its rules run one at a time; reads (queue, show) answer from
/// memory. A change is applied in memory by a rule (`applyLocked`) and written to the store
/// through the group-committing writer; the caller is answered once the write is durable. Scheduling passes plan outside the lock on a snapshot
/// and apply their decisions only to jobs that have not changed meanwhile.
final class Controller: @unchecked Sendable {
    /// The configuration file as last read (at start, or by `reconfigure`), with the
    /// environment's overrides; any thread may read it.
    var configuration: ControllerConfiguration { fileConfiguration.withLock { $0 } }
    let fileConfiguration: Mutex<ControllerConfiguration>
    /// Where the configuration was read from, for `reconfigure` (nil: not from a file).
    let configPath: String?
    let store: Store
    let logger: Logger
    let startedAt: Int
    let planner = Planner()

    let lock = NSLock()
    /// Jobs, nodes and what agents are owed (ControllerCore); the lock guards it.
    var state: ControllerState
    /// The configuration with the runtime changes applied (partitions, QoS, accounts, reservations).
    var effective: ControllerConfiguration { didSet { state.clusterName = effective.clusterName } }
    let configChangeLock = NSLock()
    /// Pass durations, for `/metrics`.
    let passDurations = DurationHistogram()
    let agentLinks = AgentLinks()
    /// Runs `mail_program`; replaced when `reconfigure` changes it.
    let mailer = Mutex<JobMailer?>(nil)

    /// The marketplace side (`[market]`), nil when the cluster does not sell.
    var market: MarketRuntime?
    /// Latest CPT/USD price of each configured source.
    var oracleReadings: [String: OracleReading] = [:]

    private let passSignal = NSCondition()
    var passRequested = false
    var stopping = false
    var loopStopped = false

    /// What rides along in the controller's write transactions (the market's settlements and
    /// outage records): see `saveJob` and `saveNode`.
    let writeObservers: [any WriteObserver]

    /// The only clock the controller's decisions read (time limits, heartbeats, grace times,
    /// fair-share decay, settlements): the system's in chessd, one the tests move by hand.
    let clock: any ControllerClock

    init(configuration: ControllerConfiguration, configPath: String? = nil, store: Store, logger: Logger,
         clock: any ControllerClock = SystemClock(), writeObservers: [any WriteObserver] = [MarketWrites()]) throws {
        self.clock = clock
        self.writeObservers = writeObservers
        fileConfiguration = Mutex(configuration)
        self.configPath = configPath
        effective = configuration
        self.store = store
        self.logger = logger
        startedAt = clock.now()
        state = ControllerState(index: ClusterIndex(configuration.cluster),
                                ledger: FairShareLedger(halfLife: configuration.fairShareHalfLife, now: startedAt),
                                clusterName: configuration.clusterName, startedAt: startedAt)
        state.configuredTopology = Dictionary(configuration.cluster.nodes.map { ($0.name, $0.topology) }, uniquingKeysWith: { a, _ in a })
        state.nodeAgents = configuration.nodeAgents
        try recover()
        if configuration.market != nil {
            let (tokens, readings) = try store.read { db in (try MarketTable.tokens(in: db), try MarketTable.readings(in: db)) }
            market = try MarketRuntime(configuration: configuration, tokens: tokens)
            for r in readings { oracleReadings[r.source] = r }
            logger.info("selling on the marketplace", metadata: ["provider": "\(market!.calculator.provider)",
                                                                 "chain_id": "\(configuration.market!.chainID)"])
            signWaitingSettlements(now: startedAt)
        }
    }

    // MARK: Recovery

    /// Loads what the store holds: every live job, the outcome of every finished one, node
    /// states set by admins, fair-share usage.
    private func recover() throws {
        let (live, done, maxID, nodeRows, overrides, usage) = try store.read { db in
            (try JobTable.live(in: db), try JobTable.finishedOutcomes(in: db), try JobTable.maxID(in: db),
             try NodeTable.all(in: db), try ConfigTable.all(in: db), try UsageTable.load(in: db))
        }
        if !usage.isEmpty { ledger = FairShareLedger(halfLife: configuration.fairShareHalfLife, restoring: usage) }
        // Runtime changes replay over the file; one the file no longer allows is skipped, loudly.
        let (config, skipped) = configuration.replaying(overrides)
        for s in skipped { logger.error("a stored configuration change no longer fits the file; skipped", metadata: ["change": "\(s)"]) }
        adopt(config)
        finished = done
        nextID = maxID + 1
        for record in live {
            records[record.id] = record
            if let m = record.market { liveEscrows.insert(m.terms.escrow.escrowID) }
            if let parent = record.job.arrayJobID, record.job.state.isActive || record.job.state.isWaiting {
                arrayProgress[parent, default: (0, true)].open += 1
            }
        }
        // Arrays with tasks still to end: what their ended tasks came to (a failure before the
        // restart still fails the array, and its summary mail gives every task's exit code).
        let arrays = live.filter { $0.job.array != nil && $0.job.arrayJobID == nil }.map(\.id)
        if let first = arrays.min() {
            let ended = try store.read { db in try JobTable.endedTasksByArray(after: first, in: db) }
            for id in arrays {
                guard let e = ended[id] else { continue }
                arrayProgress[id, default: (0, true)].allCompleted = e.allCompleted
                arrayExits[id] = .init(min: e.minExit, max: e.maxExit)
            }
        }
        for (name, saved) in nodeRows where nodes[name] != nil {
            // Admin states survive restarts; registration does not (agents register again).
            if saved.adminState != .up {
                nodes[name]!.adminState = saved.adminState
                nodes[name]!.reason = saved.reason
                nodes[name]!.adminSet = true
            }
        }
        logger.info("recovered state", metadata: ["live_jobs": "\(live.count)", "finished_jobs": "\(done.count)",
                                                  "next_job_id": "\(nextID)"])
    }

    // MARK: Writes

    /// Writes a job's row, and, once it has ended, what observes ended jobs (the market's
    /// settlement), in the same transaction.
    func saveJob(_ record: JobRecord, in db: Database) throws {
        try JobTable.save(record, in: db)
        if record.job.state.isFinished { for o in writeObservers { try o.jobEnded(record, in: db) } }
    }

    /// Writes a node's state, and what observes node states (the market's outage record), in the
    /// same transaction.
    func saveNode(_ name: String, _ status: NodeStatus, at time: Int, in db: Database) throws {
        try NodeTable.save(name, status, in: db)
        for o in writeObservers { try o.nodeStored(name, status, at: time, in: db) }
    }

    // MARK: Submit

    /// Validates and stores a job; `completion` gets its id once the job is durable.
    ///
    /// `prepare` runs on the validated record under the lock, before it is stored (a marketplace
    /// job's escrow is checked and attached there); what it throws refuses the submission.
    func submit(_ submission: JobSubmission, identity: Identity,
                prepare: ((inout JobRecord, ClusterIndex) throws(APIError) -> Void)? = nil,
                completion: @escaping @Sendable (Result<Int, APIError>) -> Void) {
        var environment = submission.environment
        if let spec = submission.export {
            do { environment = try ExportSpec.apply(spec, to: environment ?? [:]) } catch { return completion(.failure(.invalid(error.description))) }
        }
        let now = clock.now()
        lock.lock()
        let id = nextID
        let record: JobRecord
        do {
            var validated = try validatorLocked(identity: identity, now: now).validate(submission, id: id)
            try prepare?(&validated, index)
            record = validated
        } catch {
            lock.unlock()
            completion(.failure(error))
            return
        }
        nextID += 1
        lock.unlock()
        let script = submission.script ?? ""
        store.write({ [environment] db in
            if let m = record.market { try MarketTable.claim(escrow: m.terms.escrow.escrowID, job: id, in: db) }
            try self.saveJob(record, in: db)
            try JobTable.saveScript(script, environment: environment, job: id, in: db)
            try JobTable.event(id, time: now, state: .pending, reason: "submitted by \(identity.user)", in: db)
        }, completion: { [self] error in
            if let error {
                if !(error is MarketTable.EscrowUsed) {
                    logger.error("submit not stored", metadata: ["job": "\(id)", "error": "\(error)"])
                }
                if let m = record.market {
                    lock.lock()
                    liveEscrows.remove(m.terms.escrow.escrowID)
                    lock.unlock()
                }
                if let used = error as? MarketTable.EscrowUsed {
                    completion(.failure(.conflict("escrow \(used.escrowID) already funded job \(used.job); an escrow funds one job")))
                } else {
                    completion(.failure(.unavailable("the job could not be stored: \(error)")))
                }
                return
            }
            lock.lock()
            state.accept(record)
            lock.unlock()
            // A held job cannot start, and its waiting changes nobody's plan: no pass for it
            // (over ten thousand pending jobs, a pass per held submit took half a core). Its
            // release asks for one.
            if !record.job.hold { requestPass() }
            completion(.success(id))
        })
    }

    /// A validator to use under the lock and drop there (`ControllerState.validator`): it holds
    /// the live tables, so one still alive when they next change would make that change copy
    /// them. Use it within one statement.
    func validatorLocked(identity: Identity, now: Int) -> SubmissionValidator {
        state.validator(identity: identity, now: now, defaultPartition: configuration.defaultPartition, mailDomain: effective.mailDomain)
    }

    // MARK: Reads

    typealias QueueFilter = ControllerCore.QueueFilter

    /// Live jobs (waiting and active), oldest first.
    func queue(_ filter: QueueFilter) -> [JobInfo] {
        var out: [JobInfo] = []
        forEachQueued(filter) {
            if out.isEmpty { out.reserveCapacity(records.count) }
            out.append($0)
        }
        return out
    }

    /// Live jobs (waiting and active), oldest first, one at a time, as `JobInfo`s (the JSON
    /// listing). `body` runs under the lock.
    func forEachQueued(_ filter: QueueFilter, _ body: (JobInfo) -> Void) {
        forEachQueuedRecord(filter) { r, unavailableNodes, index in
            var info = r.pointee.info(index)
            info.unavailableNodes = unavailableNodes
            body(info)
        }
    }

    /// Live jobs (waiting and active), oldest first, where they lie, with the unavailable nodes
    /// that keep a ReqNodeNotAvail job waiting: the queue's rows are rendered from them without
    /// a copy of each record or a `JobInfo` in between (over ten thousand jobs, those were most of
    /// `chessctl queue`'s time in chessd). `body` runs under the lock, must not keep the pointer,
    /// and gets the cluster's index to read the jobs' shapes from.
    func forEachQueuedRecord(_ filter: QueueFilter, _ body: (UnsafePointer<JobRecord>, _ unavailableNodes: String?, ClusterIndex) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        let index = self.index  // once: read per job, the class property is copied per job
        for q in queuedLocked(filter) { records.withRecord(slot: Int(q.slot)) { body($0, q.unavailableNodes, index) } }
    }

    /// The queue's rows as `render` writes them, oldest job first. A long listing is selected
    /// and rendered in parts on several cores at once (the records are only read, under the
    /// lock; `QueueSelection`), so that `chessctl queue` over ten thousand jobs keeps the lock,
    /// and its caller, half as long.
    func renderQueued(_ filter: QueueFilter,
                      _ render: @escaping @Sendable (UnsafePointer<JobRecord>, _ unavailableNodes: String?, ClusterIndex, inout [UInt8]) -> Void)
        -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let index = self.index
        let slots = records.slotsByID()
        let parts = slots.count >= 2_000 ? min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4) : 1
        // The parts read `records` in place (no copy of it: one still alive once the lock is
        // released would make the next change copy every page).
        @Sendable func renderPart(_ part: Int) -> [UInt8] {
            let range = part * slots.count / parts..<(part + 1) * slots.count / parts
            var selection = QueueSelection(filter)
            var out: [UInt8] = []
            out.reserveCapacity(range.count * 96)  // a default row, with a reason's host list
            for i in range {
                // The record two ahead is fetched while this one is read: a row reads fields
                // on a dozen cache lines of its record, and waited on each in turn.
                if i + 2 < range.upperBound {
                    self.records.withRecord(slot: Int(slots[i + 2])) { chess_prefetch($0, MemoryLayout<JobRecord>.size) }
                }
                self.records.withRecord(slot: Int(slots[i])) { record in
                    guard let unavailable = selection.admit(record, unavailableNodes: { self.state.unavailableNodes(for: $0) }) else { return }
                    render(record, unavailable, index, &out)
                }
            }
            return out
        }
        guard parts > 1 else { return renderPart(0) }
        let rendered = Mutex([[UInt8]](repeating: [], count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let out = renderPart(part)
            rendered.withLock { $0[part] = out }
        }
        return rendered.withLock { parts in
            var all: [UInt8] = []
            all.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for p in parts { all += p }
            return all
        }
    }

    /// The slots of the live jobs `filter` lets through (`ControllerState.queued`).
    private func queuedLocked(_ filter: QueueFilter) -> [(slot: Int32, unavailableNodes: String?)] { state.queued(filter) }

    /// A job by `1234` or `1234_7`, live or from the store.
    func job(_ ref: JobReference) throws(APIError) -> JobInfo {
        let found: JobRecord?
        do { found = try lookup(ref) } catch { throw .internal("store: \(error)") }
        guard let found else { throw .notFound("job \(ref) does not exist") }
        lock.lock()
        defer { lock.unlock() }
        return state.info(of: found)
    }

    /// A job's history: its state changes with their reasons (submitted, started, requeued, …).
    func events(of ref: JobReference) throws(APIError) -> JobEventList {
        let found: JobRecord?
        do { found = try lookup(ref) } catch { throw .internal("store: \(error)") }
        guard let found else { throw .notFound("job \(ref) does not exist") }
        do {
            return JobEventList(id: found.id, events: try store.read { db in try JobTable.events(of: found.id, in: db) })
        } catch {
            throw .internal("store: \(error)")
        }
    }

    /// A job's batch script (scontrol write batch_script), for its owner and administrators only:
    /// scripts can hold secrets. An array's tasks share the array's script.
    func script(of ref: JobReference, identity: Identity) throws(APIError) -> JobScript {
        let found: JobRecord?
        do { found = try lookup(ref) } catch { throw .internal("store: \(error)") }
        guard let found else { throw .notFound("job \(ref) does not exist") }
        guard identity.owns(found) else {
            throw .forbidden("job \(ref) belongs to \(found.job.user); only its owner or an administrator may read its script")
        }
        let stored: (script: String, environment: [String: String])?
        do { stored = try store.read { db in try JobTable.script(found.job.arrayJobID ?? found.id, in: db) } } catch {
            throw .internal("store: \(error)")
        }
        guard let stored else { throw .notFound("job \(ref) has no stored script") }
        return JobScript(id: found.id, script: stored.script)
    }

    /// A job by `1234` or `1234_7`: live (`ControllerState.liveRecord`), else from the store.
    func lookup(_ ref: JobReference) throws -> JobRecord? {
        lock.lock()
        let live = state.liveRecord(ref)
        lock.unlock()
        if let live { return live }
        if let task = ref.task { return try store.read { try JobTable.task(of: ref.id, index: task, in: $0) } }
        return try store.read { try JobTable.record(ref.id, in: $0) }
    }

    /// The partitions in the configuration's order, with the default one marked.
    func partitionSummaries() -> [PartitionSummary] {
        let defaultPartition = configuration.defaultPartition
        lock.lock()
        defer { lock.unlock() }
        return state.partitionSummaries(defaultPartition: defaultPartition)
    }

    func nodeInfos() -> [NodeInfo] {
        lock.lock()
        defer { lock.unlock() }
        return state.nodeInfos()
    }

    // MARK: Job actions

    typealias Action = JobAction

    /// Carries out `action` on a job (all tasks of an array for `1234`, one for `1234_7`); a
    /// cancel with a signal sends it to the job's processes instead (`scancel --signal`).
    func perform(_ action: Action, on ref: JobReference, identity: Identity, signal: SignalName? = nil, holdRequeued: Bool = false,
                 completion: @escaping @Sendable (Result<JobActionResponse, APIError>) -> Void) {
        let now = clock.now()
        lock.lock()
        var changed: [JobRecord] = []
        var events: [JobEvent] = []
        var result: Result<JobActionResponse, APIError> = .failure(.internal("no answer"))
        applyLocked(&changed, &events) { state, changes in
            do throws(APIError) {
                if let signal {
                    result = .success(try state.signal(signal, ref, identity, changes: &changes))
                } else {
                    result = .success(try state.perform(action, ref, identity, now: now, holdRequeued: holdRequeued, changes: &changes))
                }
            } catch {
                result = .failure(error)
            }
        }
        lock.unlock()
        let answer = result
        // A refusal may come after some records took the action (an array's held record, then a
        // running task that cannot be held, as in Slurm): what changed is stored all the same, so
        // that the store says what memory says; the caller gets the refusal.
        guard !changed.isEmpty || !events.isEmpty else { return completion(answer) }
        signSettlements(&changed)
        store.write({ [changed, events] db in
            for r in changed { try self.saveJob(r, in: db) }
            for (id, state, reason) in events { try JobTable.event(id, time: now, state: state, reason: reason, in: db) }
        }, completion: { [self] error in
            if let error {
                completion(.failure(.unavailable("the change could not be stored: \(error)")))
            } else {
                dispatchCommands()
                requestPass()
                completion(answer)
            }
        })
    }

    /// sbatch's `--test-only`: the submission checked as `submit` checks it, and planned with the
    /// queue as it is — every waiting job holding its place, as conservative backfill plans —
    /// to say when and where it would start. Nothing is stored and no id is used.
    func testSubmit(_ submission: JobSubmission, identity: Identity) throws(APIError) -> TestOnlyResponse {
        let now = clock.now()
        lock.lock()
        let probe = nextID
        let record: JobRecord
        do { record = try validatorLocked(identity: identity, now: now).validate(submission, id: probe) } catch {
            lock.unlock()
            throw error
        }
        ledger.decay(to: now)
        var jobs = plannedJobsLocked()
        jobs.append(record.job)
        var planning = configuration.planner
        planning.policy = .conservative
        let snapshot = SchedulingSnapshot(now: now, cluster: effectiveClusterLocked(), jobs: jobs, finished: finished,
                                          usage: ledger.usage, configuration: planning)
        let cpus = index.tres(of: record.job).cpus
        lock.unlock()
        let d = planner.plan(snapshot)
        var answer = TestOnlyResponse(partition: record.job.partition, cpus: cpus, start: nil, nodeList: nil, reason: nil)
        if let s = d.starts.first(where: { $0.job == probe }) {
            answer.start = now
            answer.nodeList = HostList.compress(s.allocation.nodeNames)
        } else {
            answer.start = d.plannedStarts[probe]
            answer.reason = d.reasons[probe]?.rawValue
        }
        return answer
    }

    // MARK: Nodes

    func changeNode(_ name: String, _ change: NodeStateChange, identity: Identity) throws(APIError) -> NodeInfo {
        lock.lock()
        let status: NodeStatus
        do {
            status = try state.changeNode(name, change, identity: identity)
        } catch {
            lock.unlock()
            throw error
        }
        lock.unlock()
        let saved = status
        let now = clock.now()
        do {
            try store.writeAndWait { db in
                try self.saveNode(name, saved, at: now, in: db)
            }
        } catch {
            throw .unavailable("the node state could not be stored: \(error)")
        }
        requestPass()
        return nodeInfos().first { $0.name == name }!
    }

    // MARK: Scheduling

    func requestPass() {
        passSignal.lock()
        passRequested = true
        passSignal.signal()
        passSignal.unlock()
    }

    /// Runs passes on request and every `schedulerInterval` seconds until `stop()`.
    /// Passes triggered by events start at most this often after a pass that had jobs waiting,
    /// and never sooner after the last one than it took, so that a storm of submits is
    /// scheduled in a few passes rather than one per job and passes take at most half a core.
    /// After a pass that found nothing waiting (the one a job's end triggers on a quiet
    /// cluster) the next submit is planned at once: holding it back would only add latency.
    static let minimumPassGap = 0.02

    func startSchedulingLoop() {
        let thread = Thread { [self] in
            var lastPass = Date.distantPast
            var lastDuration = 0.0
            var lastHadWaiting = false
            while true {
                passSignal.lock()
                if !passRequested && !stopping {
                    _ = passSignal.wait(until: Date(timeIntervalSinceNow: Double(configuration.schedulerInterval)))
                }
                let gap = lastHadWaiting ? max(Controller.minimumPassGap, lastDuration) : lastDuration
                let wait = lastPass.addingTimeInterval(gap).timeIntervalSinceNow
                if wait > 0 && !stopping {
                    passSignal.unlock()
                    Thread.sleep(forTimeInterval: wait)
                    passSignal.lock()
                }
                let stop = stopping
                passRequested = false
                passSignal.unlock()
                if stop { break }
                let started = Date()
                lastHadWaiting = runPass()
                // A pass allocates and frees a copy of the queue; give that back to the system.
                Memory.trim()
                lastDuration = Date().timeIntervalSince(started)
                passDurations.record(lastDuration)
                lastPass = Date()
            }
            passSignal.lock()
            loopStopped = true
            passSignal.broadcast()
            passSignal.unlock()
        }
        thread.name = "scheduler"
        thread.start()
    }

    func stop() {
        agentLinks.releaseAll()
        passSignal.lock()
        stopping = true
        passSignal.broadcast()
        while !loopStopped { passSignal.wait() }
        passSignal.unlock()
    }

    /// See `ControllerState.effectiveCluster`.
    func effectiveClusterLocked() -> Cluster { state.effectiveCluster() }

    /// See `ControllerState.plannedJobs`.
    func plannedJobsLocked() -> [Job] { state.plannedJobs() }

    /// One pass: end jobs past their time limit, plan, commit the decisions, carry them out.
    /// Returns whether any job was waiting when it planned.
    @discardableResult
    func runPass() -> Bool {
        let now = clock.now()
        var changed: [JobRecord] = []
        var events: [(JobID, JobState, String)] = []
        var nodeWrites: [(String, NodeStatus)] = []
        lock.lock()
        checkHeartbeatsLocked(now: now, changed: &changed, events: &events, nodeWrites: &nodeWrites)
        applyLocked(&changed, &events) { $0.enforceTimeLimits(now: now, changes: &$1) }
        ledger.decay(to: now)
        let snapshot = SchedulingSnapshot(now: now, cluster: effectiveClusterLocked(), jobs: plannedJobsLocked(), finished: finished,
                                          usage: ledger.usage, configuration: configuration.planner)
        lock.unlock()

        let decisions = planner.plan(snapshot)
        let hadWaiting = snapshot.jobs.contains { $0.state.isWaiting }

        lock.lock()
        applyLocked(&changed, &events) { $0.apply(decisions, now: now, changes: &$1) }
        lock.unlock()

        persist(changed: changed, events: events, nodes: nodeWrites, now: now)
        dispatchCommands()
        if !decisions.starts.isEmpty {
            logger.info("pass", metadata: ["starts": "\(decisions.starts.count)", "pending": "\(decisions.reasons.count)"])
        }
        return hadWaiting
    }

    var statistics: (live: Int, passes: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (records.count, passCount)
    }
}

/// glibc's `malloc_trim`, looked up at run time (its header is not in Swift's Glibc module).
enum Memory {
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim")
        .map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }

    private static let mallopt: (@convention(c) (Int32, Int32) -> Int32)? = dlsym(nil, "mallopt")
        .map { unsafeBitCast($0, to: (@convention(c) (Int32, Int32) -> Int32).self) }

    /// Returns freed heap memory to the system.
    static func trim() { _ = mallocTrim?(0) }

    /// glibc keeps an arena per thread (up to eight per core) with the memory each thread freed;
    /// two are plenty for chessd and keep its memory proportional to its jobs. (M_ARENA_MAX is -8.)
    static func limitArenas(_ n: Int32) { _ = mallopt?(-8, n) }
}
