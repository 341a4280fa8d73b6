/// The scheduling policies a planner can run.
public enum SchedulingPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Strict priority order: a job that cannot start blocks the rest of its partition.
    case fifo
    /// EASY backfill: the first blocked job of each partition holds a reservation; later jobs
    /// start early only when they do not delay it.
    case easy
    /// Conservative backfill: every pending job holds a reservation, rebuilt each pass.
    case conservative
}

public struct PlannerConfiguration: Sendable, Hashable, Codable {
    public var policy: SchedulingPolicy
    public var weights: PriorityWeights
    /// Whether QoS preemption is considered at all.
    public var preemption: Bool

    public init(policy: SchedulingPolicy = .easy, weights: PriorityWeights = PriorityWeights(), preemption: Bool = true) {
        self.policy = policy
        self.weights = weights
        self.preemption = preemption
    }

    /// The weights priorities are computed with: FIFO orders by age alone.
    public var effectiveWeights: PriorityWeights { policy == .fifo ? .fifo : weights }
}

/// How an ended job finished, for dependencies on it.
public struct FinishedJob: Sendable, Hashable, Codable {
    public var state: JobState
    public var exitCode: Int

    public init(state: JobState, exitCode: Int) {
        self.state = state
        self.exitCode = exitCode
    }

    /// `afterok` holds.
    public var succeeded: Bool { state == .completed && exitCode == 0 }
}

/// Everything one pass needs, as values: the planner reads nothing else (no clock, no store).
public struct SchedulingSnapshot: Sendable {
    public var now: Int
    public var cluster: Cluster
    /// Waiting jobs (pending, requeued) and active ones (running, suspended, …).
    public var jobs: [Job]
    /// Ended jobs that pending jobs depend on.
    public var finished: [JobID: FinishedJob]
    /// Decayed fair-share usage per account.
    public var usage: [String: Int]
    public var configuration: PlannerConfiguration

    public init(now: Int, cluster: Cluster, jobs: [Job], finished: [JobID: FinishedJob] = [:],
                usage: [String: Int] = [:], configuration: PlannerConfiguration = PlannerConfiguration()) {
        self.now = now
        self.cluster = cluster
        self.jobs = jobs
        self.finished = finished
        self.usage = usage
        self.configuration = configuration
    }
}

/// What a pass decided. The controller commits these, then carries them out.
public struct SchedulingDecisions: Sendable, Hashable {
    public struct Start: Sendable, Hashable {
        public var job: JobID
        /// Set when this start is a task of an array job.
        public var arrayTaskIndex: Int?
        public var allocation: Allocation
    }

    public struct Preemption: Sendable, Hashable {
        public var victim: JobID
        public var mode: PreemptMode
        /// Seconds between the signal and the kill.
        public var graceTime: Int
        /// The pending job the victim makes room for.
        public var preemptor: JobID
    }

    public var starts: [Start] = []
    public var preemptions: [Preemption] = []
    /// Suspended (preempted) jobs that may resume: their cores and GPUs are free again.
    public var resumes: [JobID] = []
    /// Expected start times of the jobs that hold a reservation.
    public var plannedStarts: [JobID: Int] = [:]
    /// A reason for every job of the snapshot that is still waiting after the pass.
    public var reasons: [JobID: PendingReason] = [:]
    /// The priority each waiting job was considered with.
    public var priorities: [JobID: Int] = [:]

    public init() {}
}
