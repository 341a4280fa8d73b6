import ChessAPI
import MarketBridge
import SchedulerCore

/// A job as the controller keeps it: the scheduler's view (`job`) plus what only the
/// controller needs (where output goes, how it ended). Stored as JSON in the `jobs` table; the
/// script lives in `job_scripts` so that memory holds no scripts.
package struct JobRecord: Codable, Sendable {
    package var job: Job
    package var uid: UInt32?
    package var gid: UInt32?
    package var workdir: String?
    package var output: String?
    package var error: String?
    /// Dependencies as the user wrote them, for display.
    package var dependencyText: String?
    package var exitCode: Int?
    /// Why a finished job ended ("cancelled by alice", "time limit").
    package var endReason: String?
    /// When the job last became eligible to run (all its conditions met).
    package var eligibleTime: Int?
    package var plannedStart: Int?
    package var priority: Int?
    /// sbatch's `--signal`, for the supervisor.
    package var warningSignal: WarningSignal?
    /// sbatch's `--open-mode` (true: append); nil: truncate on the first run, append after.
    package var appendOutput: Bool?
    /// sbatch's `--no-requeue` (false): a node failure ends the job (NODE_FAIL), a requeueing
    /// preemption cancels it, `requeue` is refused. Nil or true: it may go back to the queue.
    package var requeue: Bool?
    /// Array records: the expression the tasks came from, for display.
    package var arrayExpression: String?
    /// As the agent measured it, once the job has ended.
    package var usage: JobUsage?
    /// Its steps (srun) as the agent reported them with its end.
    package var steps: [StepRecord]?
    /// Times the job went back to the queue after a node failure or lost launch.
    package var requeueCount = 0
    /// While COMPLETING: how the controller ended the job (cancel, time limit, preemption),
    /// applied when the agent reports its processes gone.
    package var pendingEnd: PendingEnd?
    /// `--mail-type`/`--mail-user`, when the job asked for mail.
    package var mail: MailRequest?
    /// Time this run has spent suspended (by an administrator or a preemption): it does not
    /// count against the time limit, as in Slurm.
    package var suspension: Suspension?

    /// Seconds suspended in this run's earlier suspensions, and when the current one began.
    package struct Suspension: Codable, Sendable, Equatable {
        package var seconds: Int
        package var since: Int?

        package init(seconds: Int, since: Int?) {
            self.seconds = seconds
            self.since = since
        }
    }

    /// How far a supervisor's deadline goes (it refuses more): where it is set while the job is
    /// suspended, for nobody knows how long the suspension lasts.
    package static let farthestTimeLimit = 366 * 86_400

    package struct PendingEnd: Codable, Sendable {
        package var state: JobState
        package var exitCode: Int
        package var reason: String
        package var time: Int
        package var runEnd: RunEnd?

        package init(state: JobState, exitCode: Int, reason: String, time: Int, runEnd: RunEnd? = nil) {
            self.state = state
            self.exitCode = exitCode
            self.reason = reason
            self.time = time
            self.runEnd = runEnd
        }
    }

    package init(job: Job) { self.job = job }

    /// The run is suspended from `now`.
    package mutating func suspend(at now: Int) {
        suspension = Suspension(seconds: suspension?.seconds ?? 0, since: now)
    }

    /// The run goes on at `now`: the time it was suspended is added to what does not count.
    package mutating func resume(at now: Int) {
        guard let s = suspension, let since = s.since else { return }
        suspension = Suspension(seconds: s.seconds + max(now - since, 0), since: nil)
    }

    /// Seconds this run has spent suspended up to `now` (nil: never suspended).
    package func suspendedSeconds(at now: Int) -> Int? {
        suspension.map { JobInfo.suspended(seconds: $0.seconds, since: $0.since, until: now) }
    }

    /// Seconds this run has run: from its start to its end or `now`, less the time suspended.
    package func runSeconds(at now: Int) -> Int {
        JobInfo.runSeconds(start: job.startTime, end: job.endTime, suspendedSeconds: suspension?.seconds,
                           suspendedSince: suspension?.since, now: now)
    }

    /// The time limit as the agent's supervisor enforces it, from the job's start: the limit plus
    /// the time suspended, or as far as a supervisor goes while the job is suspended.
    package var supervisorTimeLimit: Int? {
        guard let limit = job.request.timeLimit else { return nil }
        if suspension?.since != nil { return Self.farthestTimeLimit }
        return limit + (suspension?.seconds ?? 0)
    }

    package var id: JobID { job.id }

    /// Set for jobs the marketplace submitted and funded. Kept out of line: inline, this rarely
    /// set value would double the size of every record the controller holds.
    package var market: MarketJob? {
        get { marketStorage?.value }
        set { marketStorage = newValue.map(MarketJobStorage.init) }
    }
    private var marketStorage: MarketJobStorage?

    enum CodingKeys: String, CodingKey {
        case job, uid, gid, workdir, output, error, dependencyText, exitCode, endReason, eligibleTime, plannedStart, priority
        case arrayExpression, usage, requeueCount, pendingEnd, warningSignal, appendOutput, requeue, steps, mail, suspension
        case marketStorage = "market"
    }

    /// Back to the queue from a run (requeue, node failure, lost launch, preemption): what the
    /// run held and the marks of the preemption go; the count of restarts grows. A marketplace
    /// job keeps the run for its bill.
    package mutating func returnToQueue(now: Int, ended: RunEnd) {
        if let start = job.startTime {
            let run = JobRun(start: start, end: max(now, start), ended: ended, suspended: suspendedSeconds(at: now))
            market?.requeued(run: run)
        }
        job.state = .pending
        job.allocation = nil
        job.startTime = nil
        job.preemptionPending = false
        job.suspendedByPreemption = false
        pendingEnd = nil
        steps = nil
        suspension = nil
        requeueCount += 1
    }

    /// `1234`, `1234_7` (a task), `1234_[8-40%8]` (an array's tasks not yet started; an array
    /// with none is `1234`).
    package var displayID: String {
        var out: [UInt8] = []
        appendDisplayID(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `displayID`, written into a byte buffer.
    package func appendDisplayID(to out: inout [UInt8]) {
        Self.appendDisplayID(id: job.id, arrayJobID: job.arrayJobID, arrayTaskIndex: job.arrayTaskIndex, array: job.array, to: &out)
    }

    /// `displayID` from the fields it is made of (the queue's rows read them where the record
    /// lies, field by field: see `QueueRows`).
    package static func appendDisplayID(id: JobID, arrayJobID: JobID?, arrayTaskIndex: Int?, array: ArrayTasks?, to out: inout [UInt8]) {
        if let arrayJobID, let arrayTaskIndex {
            SlurmTime.appendDecimal(arrayJobID, to: &out)
            out.append(UInt8(ascii: "_"))
            SlurmTime.appendDecimal(arrayTaskIndex, to: &out)
            return
        }
        SlurmTime.appendDecimal(id, to: &out)
        if let array, !array.pending.isEmpty {
            out.append(contentsOf: "_[".utf8)
            out.append(contentsOf: rangeExpression(array.pending).utf8)
            if let cap = array.maxRunning {
                out.append(UInt8(ascii: "%"))
                SlurmTime.appendDecimal(cap, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    /// Why the job waits (`JobHeldUser` when held) or, once it runs or has ended, how it ended
    /// or is ending: squeue's REASON.
    package var displayReason: String? {
        Self.displayReason(state: job.state, hold: job.hold, reason: job.reason, endReason: endReason, pendingEnd: pendingEnd)
    }

    package static func displayReason(state: JobState, hold: Bool, reason: PendingReason?, endReason: String?, pendingEnd: PendingEnd?) -> String? {
        state.isWaiting ? (hold ? PendingReason.jobHeld.rawValue : reason?.rawValue) : endReason ?? pendingEnd?.reason
    }

    /// The nodes the job runs on, as a host list (`n[1-4]`); nil until it has an allocation.
    package var nodeList: String? { Self.nodeList(job.allocation) }

    package static func nodeList(_ allocation: Allocation?) -> String? { allocation.map { HostList.compress($0.nodeNames) } }

    package static func rangeExpression(_ indexes: [Int]) -> String { HostList.ranges(indexes) }

    package func info(_ index: ClusterIndex) -> JobInfo {
        let tres = index.tres(of: job)
        var info = JobInfo(id: job.id, displayID: displayID, name: job.name, user: job.user, account: job.account,
                           partition: job.partition, qos: job.qos, state: job.state.rawValue, submitTime: job.submitTime,
                           nodes: tres.nodes, cpus: tres.cpus, memoryMB: tres.memoryMB, gpus: tres.gpus)
        info.arrayJobID = job.arrayJobID
        info.arrayTaskID = job.arrayTaskIndex
        info.arrayPending = job.array.map { Self.rangeExpression($0.pending) }
        info.reason = displayReason
        info.priority = priority
        info.eligibleTime = eligibleTime
        info.startTime = job.startTime
        info.endTime = job.endTime
        info.plannedStart = job.state.isWaiting ? plannedStart : nil
        info.timeLimit = job.request.timeLimit
        info.nodeList = nodeList
        info.exitCode = exitCode
        info.dependency = dependencyText
        info.requiredNodes = job.request.requiredNodes.map(HostList.compress)
        info.excludedNodes = job.request.excludedNodes.map(HostList.compress)
        info.nice = job.nice
        info.licenses = job.request.licenses.map(JobSpecSyntax.licensesText)
        info.workdir = workdir
        info.output = output
        info.error = error
        info.mailType = mail.map { $0.mailTypes.description }
        info.mailUser = mail?.recipient
        info.suspendedSeconds = suspension?.seconds
        info.suspendedSince = suspension?.since
        return info
    }
}

/// A `MarketJob` on the heap, immutable (a change stores a new one), encoded as the job itself.
package final class MarketJobStorage: Codable, Sendable {
    package let value: MarketJob
    package init(_ value: MarketJob) { self.value = value }
    package init(from decoder: Decoder) throws { value = try MarketJob(from: decoder) }
    package func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
