import Foundation
import Glibc

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
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return Outcome(ok: false, message: "cannot run \(path): no pipe") }
        let attributes = SpawnAttributes(flags: SpawnAttributes.setProcessGroup | SpawnAttributes.setSignalDefaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for a in argv { free(a) }
            for e in envp ?? [] { free(e) }
        }
        var pid: pid_t = 0
        let rc = envp.map { e in e.withUnsafeBufferPointer { posix_spawn(&pid, path, &actions, &attributes.raw, argv, $0.baseAddress) } }
            ?? posix_spawn(&pid, path, &actions, &attributes.raw, argv, environ)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            return Outcome(ok: false, message: "cannot run \(path): \(String(cString: strerror(rc)))")
        }

        // What it prints, until it closes its output or the time is up.
        var output: [UInt8] = []
        let deadline = Date().addingTimeInterval(TimeInterval(timeout))
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
        if timedOut { return Outcome(ok: false, message: "\(path) did not finish within \(timeout)s") }
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        if exited && code == 0 { return Outcome(ok: true, message: nil) }
        let line = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        let fallback = exited ? "\(path) exited with \(code)" : "\(path) was killed by signal \(status & 0x7f)"
        return Outcome(ok: false, message: line.map { String($0.prefix(200)) } ?? fallback)
    }
}
