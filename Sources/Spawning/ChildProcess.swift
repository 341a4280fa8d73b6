import CChessSystem
import FoundationEssentials
import Synchronization
import Glibc

/// A program started with `posix_spawn` and reaped with `waitpid` on its own pid.
///
/// Why not Foundation's `Process`: in Swift 6.3's corelibs-foundation, `Process.run()` walks
/// `/proc/self/fd` copying each dirent's whole 256-byte `d_name`, which reads past glibc's
/// readdir buffer and crashes the process with SIGSEGV now and then when several threads
/// start programs (swift-corelibs-foundation#5472, not in any 6.3.x release); it also notices a
/// child's exit only on its run loop's next turn, seconds late under load. Everything in CHESS
/// that starts a program — the agent's nvidia-smi, health checks and prologs, the benchmarks,
/// the test suite's daemons — goes through this type or `posix_spawn` directly.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's standard descriptors goes.
    public enum Stream: Sendable {
        /// The spawner's own.
        case inherit
        /// /dev/null.
        case null
        /// Appended to the file at this path (created 0644 if missing).
        case append(String)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// What `run` returns: how the program ended and what it printed.
    public struct Outcome: Sendable {
        /// Its exit code; 128 + the signal's number when a signal ended it.
        public var status: Int32
        /// True when a signal ended it (the timeout's KILL among them).
        public var signalled: Bool
        /// It was still running when the timeout came, and was killed.
        public var timedOut: Bool
        public var stdout: [UInt8]
        /// Empty when `mergeErrors` sent it to `stdout`.
        public var stderr: [UInt8]

        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    public let processIdentifier: pid_t
    private let lock = Mutex(())
    private var rawStatus: Int32?

    /// Starts `executable` (a path; no PATH search) with `arguments` (argv[1...]). `environment`
    /// nil passes this process's own; `directory` nil keeps this process's working directory.
    /// `newProcessGroup` puts it in a group of its own with every signal's action at its
    /// default, so that `signalGroup` reaches everything it starts.
    public convenience init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                            directory: String? = nil, stdin: Stream = .null, stdout: Stream = .inherit,
                            stderr: Stream = .inherit, newProcessGroup: Bool = false) throws {
        try self.init(executable, arguments, environment: environment, directory: directory, newProcessGroup: newProcessGroup) { actions in
            for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
                switch stream {
                case .inherit: break
                case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
                case .append(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                }
            }
        }
    }

    private init(_ executable: String, _ arguments: [String], environment: [String: String]?, directory: String?,
                 newProcessGroup: Bool, redirect: (inout posix_spawn_file_actions_t) -> Void) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        redirect(&actions)
        // Nothing of this process's but the three standard descriptors reaches the program.
        _ = chess_spawn_addclosefrom(&actions, 3)
        if let directory { _ = chess_spawn_addchdir(&actions, directory) }
        let attributes = SpawnAttributes(flags: newProcessGroup ? SpawnAttributes.setProcessGroup | SpawnAttributes.setSignalDefaults : 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            for a in argv { free(a) }
            for e in envp ?? [] { free(e) }
        }
        var pid: pid_t = 0
        let rc = envp.map { e in e.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, &attributes.raw, argv, $0.baseAddress) } }
            ?? posix_spawn(&pid, executable, &actions, &attributes.raw, argv, environ)
        guard rc == 0 else { throw Failure(description: "cannot run \(executable): \(String(cString: strerror(rc)))") }
        processIdentifier = pid
    }

    /// Reaps it if it has ended (never blocks).
    public var isRunning: Bool {
        lock.withLock { _ in
            guard rawStatus == nil else { return false }
            var status: Int32 = 0
            let rc = waitpid(processIdentifier, &status, WNOHANG)
            if rc == processIdentifier { rawStatus = status }
            return rawStatus == nil && !(rc < 0 && errno == ECHILD)
        }
    }

    /// Blocks until it has ended, and reaps it.
    public func waitUntilExit() {
        while isRunning {
            var status: Int32 = 0
            let rc = waitpid(processIdentifier, &status, 0)
            if rc == processIdentifier {
                lock.withLock { _ in if rawStatus == nil { rawStatus = status } }
                return
            }
            if rc < 0 && errno != EINTR { usleep(1_000) }  // reaped by a concurrent isRunning
        }
    }

    /// Waits until it ends or `deadline` passes; true when it ended (asleep on a pidfd; every
    /// 10 ms before Linux 5.3).
    func waitForExit(until deadline: Date) -> Bool {
        let pidfd = chess_pidfd_open(processIdentifier)
        defer { if pidfd >= 0 { close(pidfd) } }
        while isRunning {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            if pidfd >= 0 {
                var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, Int32(min(max(left * 1000, 1), 60_000)))
            } else {
                usleep(10_000)
            }
        }
        return true
    }

    /// Its exit code, or 128 + the signal that ended it; -1 while it runs (or if something
    /// else reaped it).
    public var terminationStatus: Int32 {
        lock.withLock { _ in rawStatus.map(Self.exitCode) ?? -1 }
    }

    public var wasSignalled: Bool { lock.withLock { _ in rawStatus.map { $0 & 0x7f != 0 } ?? false } }

    static func exitCode(_ status: Int32) -> Int32 { status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + status & 0x7f }

    /// SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends `signal` unless it has been reaped already (its pid may be someone else's by then).
    public func signal(_ signal: Int32) {
        lock.withLock { _ in if rawStatus == nil { _ = kill(processIdentifier, signal) } }
    }

    /// Sends `signal` to its whole process group (started with `newProcessGroup`).
    public func signalGroup(_ signal: Int32) {
        lock.withLock { _ in if rawStatus == nil { _ = kill(-processIdentifier, signal) } }
    }

    /// Runs a program to its end and returns what it printed on stdout and stderr (each kept up
    /// to `outputLimit` bytes; the rest is read and dropped, so the program never blocks on a
    /// full pipe). Past `timeout` seconds it is killed (its whole group with `newProcessGroup`)
    /// and `timedOut` is set. stdin is /dev/null.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           directory: String? = nil, timeout: Double? = nil, mergeErrors: Bool = false,
                           newProcessGroup: Bool = false, outputLimit: Int = 64 << 20) throws -> Outcome {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard chess_pipe_cloexec(&out) == 0 else { throw Failure(description: "cannot run \(executable): no pipe") }
        if !mergeErrors, chess_pipe_cloexec(&err) != 0 {
            close(out[0]); close(out[1])
            throw Failure(description: "cannot run \(executable): no pipe")
        }
        let child: ChildProcess
        do {
            child = try ChildProcess(executable, arguments, environment: environment, directory: directory,
                                     newProcessGroup: newProcessGroup) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_adddup2(&actions, out[1], 1)
                posix_spawn_file_actions_adddup2(&actions, mergeErrors ? out[1] : err[1], 2)
            }
        } catch {
            for fd in out + err where fd >= 0 { close(fd) }
            throw error
        }
        close(out[1])
        if err[1] >= 0 { close(err[1]) }

        var readers = [(fd: out[0], bytes: [UInt8]())]
        if err[0] >= 0 { readers.append((err[0], [])) }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        var reading = readers.indices.map { _ in true }
        while reading.contains(true) {
            let left = deadline.map { $0.timeIntervalSinceNow }
            if let left, left <= 0 { timedOut = true; break }
            var fds = readers.indices.map { pollfd(fd: reading[$0] ? readers[$0].fd : -1, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), left.map { Int32(min(max($0 * 1000, 1), 1000)) } ?? -1)
            if ready < 0 && errno != EINTR { break }
            for i in readers.indices where reading[i] && fds[i].revents != 0 {
                let n = read(readers[i].fd, &buffer, buffer.count)
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 { reading[i] = false; continue }
                if readers[i].bytes.count < outputLimit {
                    readers[i].bytes += buffer[0..<min(n, outputLimit - readers[i].bytes.count)]
                }
            }
        }
        for r in readers { close(r.fd) }
        // Its output closed; the program may still run (a daemon it left behind holds nothing
        // of ours): the rest of the time is waited for on a pidfd.
        if !timedOut, let deadline, !child.waitForExit(until: deadline) { timedOut = true }
        if timedOut {
            if newProcessGroup { child.signalGroup(SIGKILL) } else { child.signal(SIGKILL) }
        }
        child.waitUntilExit()
        return Outcome(status: child.terminationStatus, signalled: child.wasSignalled, timedOut: timedOut,
                       stdout: readers[0].bytes, stderr: readers.count > 1 ? readers[1].bytes : [])
    }
}
