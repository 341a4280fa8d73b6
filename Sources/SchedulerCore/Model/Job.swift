/// Job ids are positive and never reused.
public typealias JobID = Int

/// A job as the scheduler sees it. Array jobs are one record until their tasks start
/// (`array` holds the task indexes still pending).
public struct Job: Sendable, Hashable, Codable {
    public var id: JobID
    public var name: String
    public var user: String
    public var account: String
    public var partition: String
    public var qos: String
    public var request: JobRequest
    public var submitTime: Int
    /// Not eligible before this time (`--begin`).
    public var beginTime: Int?
    public var hold: Bool
    public var dependencies: [Dependency]
    /// `--dependency=singleton`: one running job per name and user.
    public var singleton: Bool
    public var array: ArrayTasks?
    /// Set by an admin (`scontrol update priority=`): replaces the computed priority.
    public var priorityOverride: Int?
    /// sbatch's `--nice`: taken off the computed priority (a negative one, an administrator's,
    /// adds to it). nil is 0.
    public var nice: Int?

    public var state: JobState
    /// For pending jobs: the reason given by the last pass.
    public var reason: PendingReason?
    public var startTime: Int?
    public var endTime: Int?
    public var allocation: Allocation?
    /// Array task index of a started task (the task's own record).
    public var arrayTaskIndex: Int?
    /// Array job id this task came from.
    public var arrayJobID: JobID?
    /// The controller has asked this job to stop for a preemption; the planner leaves it alone.
    public var preemptionPending: Bool
    /// Suspended to make room for a preemptor (not by an admin): resumes by itself when its cores
    /// and GPUs are free again.
    public var suspendedByPreemption: Bool
    /// Jobs this one has had preempted and is waiting for. While any is still active it preempts
    /// no one else, and it goes first in its tier so that what they free comes to it.
    public var awaitingVictims: [JobID]

    public init(id: JobID, name: String = "job", user: String, account: String = "default",
                partition: String, qos: String = "normal", request: JobRequest, submitTime: Int,
                beginTime: Int? = nil, hold: Bool = false, dependencies: [Dependency] = [],
                singleton: Bool = false, array: ArrayTasks? = nil, priorityOverride: Int? = nil,
                state: JobState = .pending) {
        self.id = id
        self.name = name
        self.user = user
        self.account = account
        self.partition = partition
        self.qos = qos
        self.request = request
        self.submitTime = submitTime
        self.beginTime = beginTime
        self.hold = hold
        self.dependencies = dependencies
        self.singleton = singleton
        self.array = array
        self.priorityOverride = priorityOverride
        self.state = state
        self.reason = nil
        self.startTime = nil
        self.endTime = nil
        self.allocation = nil
        self.arrayTaskIndex = nil
        self.arrayJobID = nil
        self.preemptionPending = false
        self.suspendedByPreemption = false
        self.awaitingVictims = []
    }
}

/// `--array=1-100%10`: the task indexes not yet started and the cap on running tasks.
public struct ArrayTasks: Sendable, Hashable, Codable {
    public var pending: [Int]
    public var maxRunning: Int?
    /// Tasks cancelled before they started (nil: none). They never become jobs of their own, so
    /// the array's record keeps them for accounting (sacct shows `1234_[3-5]` CANCELLED).
    public var cancelled: [Int]?

    public init(pending: [Int], maxRunning: Int? = nil) {
        self.pending = pending
        self.maxRunning = maxRunning
    }

    /// Moves `tasks` (all of them pending) from the pending to the cancelled ones.
    public mutating func cancel(_ tasks: [Int]) {
        let gone = Set(tasks)
        pending.removeAll { gone.contains($0) }
        cancelled = ((cancelled ?? []) + tasks).sorted()
    }
}

public struct Dependency: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The other job has started (or ended).
        case after
        /// The other job has ended, however.
        case afterany
        /// The other job completed with exit code 0.
        case afterok
        /// The other job ended in failure (non-zero exit, timeout, node failure, cancel…).
        case afternotok
    }

    public var kind: Kind
    public var jobs: [JobID]

    public init(_ kind: Kind, _ jobs: [JobID]) {
        self.kind = kind
        self.jobs = jobs
    }
}

/// Every Slurm job state, with Slurm's spelling as the raw value.
public enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending = "PENDING"
    case configuring = "CONFIGURING"
    case running = "RUNNING"
    case suspended = "SUSPENDED"
    case completing = "COMPLETING"
    case completed = "COMPLETED"
    case cancelled = "CANCELLED"
    case failed = "FAILED"
    case timeout = "TIMEOUT"
    case nodeFail = "NODE_FAIL"
    case preempted = "PREEMPTED"
    case bootFail = "BOOT_FAIL"
    case deadline = "DEADLINE"
    case outOfMemory = "OUT_OF_MEMORY"
    case requeued = "REQUEUED"
    case requeueHold = "REQUEUE_HOLD"
    case requeueFed = "REQUEUE_FED"
    case resvDelHold = "RESV_DEL_HOLD"
    case resizing = "RESIZING"
    case revoked = "REVOKED"
    case signaling = "SIGNALING"
    case specialExit = "SPECIAL_EXIT"
    case stageOut = "STAGE_OUT"
    case stopped = "STOPPED"

    /// The job holds resources.
    public var isActive: Bool {
        switch self {
        case .configuring, .running, .suspended, .completing, .signaling, .stageOut, .stopped, .resizing: return true
        default: return false
        }
    }

    /// The job is over and will not run again.
    public var isFinished: Bool {
        switch self {
        case .completed, .cancelled, .failed, .timeout, .nodeFail, .preempted, .bootFail, .deadline,
             .outOfMemory, .revoked, .specialExit:
            return true
        default:
            return false
        }
    }

    /// Pending in some form: waiting to be (re)scheduled.
    public var isWaiting: Bool {
        switch self {
        case .pending, .requeued, .requeueHold, .requeueFed, .resvDelHold: return true
        default: return false
        }
    }
}

/// Why a pending job is not running, in Slurm's words (the raw value is what `queue` shows).
public enum PendingReason: String, Sendable, Hashable, Codable, CaseIterable {
    case priority = "Priority"
    case resources = "Resources"
    /// Enough nodes would match, but too many of them are drained or down (Slurm's wording).
    case reqNodeNotAvail = "ReqNodeNotAvail"
    case dependency = "Dependency"
    case dependencyNeverSatisfied = "DependencyNeverSatisfied"
    case beginTime = "BeginTime"
    case jobHeld = "JobHeldUser"
    case reservation = "Reservation"
    case reservationInvalid = "ReservationInvalid"
    case partitionDown = "PartitionDown"
    case partitionTimeLimit = "PartitionTimeLimit"
    case partitionNodeLimit = "PartitionNodeLimit"
    case partitionConfig = "PartitionConfig"
    case badConstraints = "BadConstraints"
    case invalidQoS = "InvalidQOS"
    case qosMaxWall = "QOSMaxWallDurationPerJobLimit"
    case qosMaxJobsPerUser = "QOSMaxJobsPerUserLimit"
    case qosMaxTRESPerJob = "QOSMaxTRESPerJob"
    case qosMaxTRESPerUser = "QOSMaxTRESPerUser"
    case qosGrpTRES = "QOSGrpTRES"
    case assocGrpCpuLimit = "AssocGrpCpuLimit"
    case assocGrpMemLimit = "AssocGrpMemLimit"
    case assocGrpGRES = "AssocGrpGRES"
    case assocGrpNodeLimit = "AssocGrpNodeLimit"
    case assocGrpJobsLimit = "AssocGrpJobsLimit"
    case arrayTaskLimit = "JobArrayTaskLimit"
    /// Its `--licenses` are all in use.
    case licenses = "Licenses"
    case preempting = "Preempting"
}
