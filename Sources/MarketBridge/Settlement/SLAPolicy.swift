/// Why a run of a job ended, as far as the money is concerned: the provider's fault or not.
public enum RunEnd: String, Sendable, Codable, CaseIterable {
    // The user's side: charged for what was used.
    case completed, failed, outOfMemory = "out_of_memory", timeLimit = "time_limit", cancelledByUser = "cancelled_by_user"
    /// Preempted (spot capacity): charged for the time delivered before it.
    case preempted
    // The provider's side.
    case nodeFailure = "node_failure", launchFailure = "launch_failure", agentLost = "agent_lost"
    case cancelledByProvider = "cancelled_by_provider"

    public var isProviderSide: Bool {
        switch self {
        case .nodeFailure, .launchFailure, .agentLost, .cancelledByProvider: true
        default: false
        }
    }
}

/// One stretch of a job on its nodes; a requeued job has several.
public struct JobRun: Sendable, Hashable, Codable {
    public var start: Int
    public var end: Int
    public var ended: RunEnd
    /// Seconds of the run its job spent suspended (by an administrator or a preemption): not
    /// delivered, so not charged. Nil: none.
    public var suspended: Int?

    public init(start: Int, end: Int, ended: RunEnd, suspended: Int? = nil) {
        self.start = start
        self.end = end
        self.ended = ended
        self.suspended = suspended
    }

    /// The seconds the run delivered: its span less the time suspended.
    public var seconds: Int64 { Int64(max(end - start - (suspended ?? 0), 0)) }
}

/// The service-level rules that turn a job's runs into seconds to charge.
public struct SLAPolicy: Sendable, Hashable, Codable {
    /// A provider-side failure this soon after the job's start refunds the job in full (5 min).
    public var earlyFailureWindow: Int
    /// How long after a settlement the marketplace may dispute it (72 h).
    public var disputeWindow: Int
    /// Start latency (funded to running) counted as "started promptly" in the SLA figures (5 min).
    public var promptStart: Int

    public init(earlyFailureWindow: Int = 300, disputeWindow: Int = 72 * 3600, promptStart: Int = 300) {
        self.earlyFailureWindow = earlyFailureWindow
        self.disputeWindow = disputeWindow
        self.promptStart = promptStart
    }

    public struct Billable: Sendable, Hashable, Codable {
        public var seconds: Int64
        /// The provider failed early: nothing is charged, the escrow goes back.
        public var fullRefund: Bool
        public init(seconds: Int64, fullRefund: Bool) {
            self.seconds = seconds
            self.fullRefund = fullRefund
        }
    }

    /// - A job whose last run ended on the provider's side within `earlyFailureWindow` of the
    ///   job's first start: full refund.
    /// - Otherwise every run is charged for the seconds it delivered (a provider-side failure
    ///   later is charged only for the time delivered; a preempted spot job for each run),
    ///   except a run the provider ended within `earlyFailureWindow` of its own start: the job
    ///   was requeued and ran again, and that early failure is not charged either.
    public func billable(_ runs: [JobRun]) -> Billable {
        guard let first = runs.map(\.start).min(), let last = runs.max(by: { $0.end < $1.end }) else {
            return Billable(seconds: 0, fullRefund: true)
        }
        if last.ended.isProviderSide && last.end - first < earlyFailureWindow {
            return Billable(seconds: 0, fullRefund: true)
        }
        let charged = runs.filter { !($0.ended.isProviderSide && $0.end - $0.start < earlyFailureWindow) }
        return Billable(seconds: charged.reduce(0) { $0 + $1.seconds }, fullRefund: false)
    }
}
