/// Quality of service: a priority, what it may preempt, and the limits its jobs live under.
public struct QoS: Sendable, Hashable, Codable {
    public var name: String
    public var priority: Int
    /// Names of the QoS whose running jobs this one may preempt.
    public var preempt: Set<String>
    /// What happens to a job of *this* QoS when it is preempted; `.off` makes it unpreemptable.
    public var preemptMode: PreemptMode
    /// Seconds between the preemption signal and the kill.
    public var graceTime: Int
    /// Charge multiplier in parts per thousand (1000 = 1.0; a spot QoS at 400 costs 40%).
    public var usageFactorPermille: Int
    public var limits: QoSLimits

    public init(name: String, priority: Int = 0, preempt: Set<String> = [], preemptMode: PreemptMode = .cancel,
                graceTime: Int = 0, usageFactorPermille: Int = 1000, limits: QoSLimits = QoSLimits()) {
        self.name = name
        self.priority = priority
        self.preempt = preempt
        self.preemptMode = preemptMode
        self.graceTime = graceTime
        self.usageFactorPermille = usageFactorPermille
        self.limits = limits
    }
}

public enum PreemptMode: String, Sendable, Hashable, Codable, CaseIterable {
    case off, cancel, requeue, suspend
}

/// Slurm's QoS limits; nil is unlimited.
public struct QoSLimits: Sendable, Hashable, Codable {
    /// Seconds.
    public var maxWall: Int?
    public var maxJobsPerUser: Int?
    /// Checked at submit: pending + running jobs per user.
    public var maxSubmitJobsPerUser: Int?
    public var maxTRESPerJob: TRESLimit
    public var maxTRESPerUser: TRESLimit
    /// Across all running jobs of the QoS.
    public var grpTRES: TRESLimit

    public init(maxWall: Int? = nil, maxJobsPerUser: Int? = nil, maxSubmitJobsPerUser: Int? = nil,
                maxTRESPerJob: TRESLimit = TRESLimit(), maxTRESPerUser: TRESLimit = TRESLimit(),
                grpTRES: TRESLimit = TRESLimit()) {
        self.maxWall = maxWall
        self.maxJobsPerUser = maxJobsPerUser
        self.maxSubmitJobsPerUser = maxSubmitJobsPerUser
        self.maxTRESPerJob = maxTRESPerJob
        self.maxTRESPerUser = maxTRESPerUser
        self.grpTRES = grpTRES
    }
}
