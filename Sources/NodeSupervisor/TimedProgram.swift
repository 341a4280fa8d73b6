import FoundationEssentials
import Glibc
import Spawning

/// Runs an administrator's program (a health check, a prolog, an epilog) as this process's user,
/// in a process group of its own with default signal handling, and waits at most `timeout`
/// seconds: past that, its whole group is killed and the run counts as failed.
public enum TimedProgram {
    public struct Outcome: Sendable, Equatable {
        /// Exit status 0 within the time.
        public var ok: Bool
        /// When not ok: the first line it printed (stdout and stderr together), else its exit
        /// status or signal, or that it did not finish in time.
        public var message: String?
    }

    public static func run(_ path: String, environment: [String: String]? = nil, timeout: Int) -> Outcome {
        let ran: ChildProcess.Outcome
        do {
            ran = try ChildProcess.run(path, environment: environment, timeout: Double(timeout), mergeErrors: true,
                                       newProcessGroup: true, outputLimit: 65_536)
        } catch {
            return Outcome(ok: false, message: "\(error)")
        }
        if ran.timedOut { return Outcome(ok: false, message: "\(path) did not finish within \(timeout)s") }
        if !ran.signalled && ran.status == 0 { return Outcome(ok: true, message: nil) }
        let line = ran.stdoutText.split(whereSeparator: \.isNewline)
            .map { PlainText.trimmed($0.utf8) }.first { !$0.isEmpty }
        let fallback = ran.signalled ? "\(path) was killed by signal \(ran.status - 128)" : "\(path) exited with \(ran.status)"
        return Outcome(ok: false, message: line.map { String($0.prefix(200)) } ?? fallback)
    }
}
