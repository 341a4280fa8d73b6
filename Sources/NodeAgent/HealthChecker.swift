import ChessAPI
import Foundation
import Glibc
import Logging

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

    /// Runs the program once: exit 0 is healthy; otherwise the first line it printed (stdout
    /// and stderr together) says why, or the exit status, or that it did not finish in time.
    static func run(_ s: HealthCheckSettings) -> HealthReport {
        let started = Int(Date().timeIntervalSince1970)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return HealthReport(ok: false, message: "cannot run \(s.program): no pipe", time: started) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setpgroup(&attr, 0)
        // POSIX_SPAWN_SETPGROUP (0x02) and POSIX_SPAWN_SETSIGMASK (0x08).
        posix_spawnattr_setflags(&attr, 0x02 | 0x08)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(s.program), nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, s.program, &actions, &attr, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return HealthReport(ok: false, message: "cannot run \(s.program): \(String(cString: strerror(rc)))", time: started)
        }

        // Read what it prints until it closes its output or the time is up.
        var output: [UInt8] = []
        let deadline = Date().addingTimeInterval(TimeInterval(s.timeout))
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { timedOut = true; break }
            var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left * 1000, 1000)))
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            if output.count < 65_536 { output += buffer[0..<n] }
        }
        close(fds[0])
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            return HealthReport(ok: false, message: "\(s.program) did not finish within \(s.timeout)s", time: started)
        }
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        if exited && code == 0 { return HealthReport(ok: true, message: nil, time: started) }
        let line = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        let fallback = exited ? "\(s.program) exited with \(code)" : "\(s.program) was killed by signal \(status & 0x7f)"
        return HealthReport(ok: false, message: line.map { String($0.prefix(200)) } ?? fallback, time: started)
    }
}
