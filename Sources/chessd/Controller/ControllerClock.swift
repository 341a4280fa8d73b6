import Foundation

/// Seconds since the epoch, as the controller reads them.
///
/// Why a protocol: every timed rule of the controller (time limits and their overtime,
/// heartbeats missed, preemption grace, COMPLETING, reservations, fair-share decay) reads this
/// clock and no other, so tests drive the controller in process through hours of its time in
/// milliseconds, instead of starting daemons and sleeping.
protocol ControllerClock: Sendable {
    func now() -> Int
}

/// The system's clock: chessd's.
struct SystemClock: ControllerClock {
    func now() -> Int { Int(Date().timeIntervalSince1970) }
}
