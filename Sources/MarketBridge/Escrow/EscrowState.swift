/// Where a marketplace job's escrow stands. Every change goes through `applying(_:)`, so a
/// transition that the life cycle does not allow (settling twice, disputing a running job) is
/// an error rather than a silent overwrite.
///
/// ```
/// quoted ─fund─► funded ─start─► running ─settle─► settled ─dispute─► disputed
///                  │  ▲            │ │                                   ▲
///                  │  └──requeue───┘ └─refund─► refunded ─dispute────────┘
///                  └─────────refund──────────►
/// ```
public enum EscrowState: String, Sendable, Codable, CaseIterable {
    case quoted, funded, running, settled, refunded, disputed

    public enum Event: String, Sendable, Codable {
        /// The marketplace submitted the job with an escrow that covers the quote.
        case fund
        /// The job started on its nodes.
        case start
        /// The job went back to the queue (preemption with requeue, node failure); the escrow stays.
        case requeue
        /// The job ended and something was charged.
        case settle
        /// The job ended with nothing charged (never ran, cancelled while pending, SLA refund).
        case refund
        /// The marketplace contested the settlement within the dispute window.
        case dispute
    }

    public struct InvalidTransition: Error, Equatable, CustomStringConvertible {
        public let from: EscrowState
        public let event: Event
        public var description: String { "an escrow that is \(from.rawValue) cannot \(event.rawValue)" }
    }

    public func applying(_ event: Event) throws(InvalidTransition) -> EscrowState {
        switch (self, event) {
        case (.quoted, .fund): return .funded
        case (.funded, .start): return .running
        case (.running, .requeue): return .funded
        case (.running, .settle): return .settled
        case (.running, .refund), (.funded, .refund): return .refunded
        case (.settled, .dispute), (.refunded, .dispute): return .disputed
        default: throw InvalidTransition(from: self, event: event)
        }
    }

    /// Settled, refunded or disputed: the money has been divided.
    public var isFinal: Bool { self == .settled || self == .refunded || self == .disputed }
}
