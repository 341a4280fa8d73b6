import ChessAPI
import Foundation
import Logging
import NodeSupervisor

/// Runs the cluster's health check program (Slurm's HealthCheckProgram, e.g. NHC) on a timer and
/// keeps its latest outcome for the heartbeats. The program runs as the agent's user (root in
/// production), in a process group of its own that a timeout kills whole. The settings come
/// from chessd with registration and every heartbeat; a change runs the check at once.
final class HealthChecker: @unchecked Sendable {
    private let condition = NSCondition()
    private var settings: HealthCheckSettings?
    private var latest: HealthReport?
    private var changed = false
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The outcome to send, when a check is configured.
    var report: HealthReport? {
        condition.lock()
        defer { condition.unlock() }
        return settings == nil ? nil : latest
    }

    func update(_ next: HealthCheckSettings?) {
        condition.lock()
        defer { condition.unlock() }
        guard next != settings else { return }
        settings = next
        latest = nil
        changed = true
        condition.signal()
    }

    func start() {
        Thread.detachNewThread { [self] in loop() }
    }

    private func loop() {
        while true {
            condition.lock()
            while settings == nil { condition.wait() }
            let current = settings!
            changed = false
            condition.unlock()

            let outcome = Self.run(current)
            condition.lock()
            if settings == current {
                if latest?.ok != outcome.ok || latest?.message != outcome.message {
                    logger.log(level: outcome.ok ? .info : .warning, "health check",
                               metadata: ["ok": "\(outcome.ok)", "message": "\(outcome.message ?? "")"])
                }
                latest = outcome
            }
            // Until the next round, or at once when the settings change.
            let until = Date().addingTimeInterval(TimeInterval(current.interval))
            while !changed && condition.wait(until: until) {}
            condition.unlock()
        }
    }

    /// Runs the program once (`TimedProgram`): exit 0 within the timeout is healthy.
    static func run(_ s: HealthCheckSettings) -> HealthReport {
        let started = Int(Date().timeIntervalSince1970)
        let outcome = TimedProgram.run(s.program, timeout: s.timeout)
        return HealthReport(ok: outcome.ok, message: outcome.message, time: started)
    }
}
