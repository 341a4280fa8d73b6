import CChessSystem
import ControllerCore
import Foundation
import Glibc
import Logging

/// Sends job mail through the configured `mail_program` (Slurm's MailProg), one program at a
/// time on a thread of its own: the controller hands mails over after their transaction commits
/// and never waits for one. A program that fails or outlives `timeout` is logged (and killed),
/// never fatal. At most `maxQueued` mails wait; beyond that they are dropped with a log line, so a
/// stuck mail system costs bounded memory.
final class JobMailer: @unchecked Sendable {
    let program: String
    let timeout: TimeInterval
    let logger: Logger
    static let maxQueued = 10_000

    private let lock = NSLock()
    private var queue: [JobMail] = []
    private var draining = false
    private var dropped = 0
    private(set) var sent = 0
    private(set) var failed = 0

    init(program: String, timeout: TimeInterval = 120, logger: Logger) {
        self.program = program
        self.timeout = timeout
        self.logger = logger
    }

    func send(_ mails: [JobMail]) {
        guard !mails.isEmpty else { return }
        lock.lock()
        let room = max(Self.maxQueued - queue.count, 0)
        queue.append(contentsOf: mails.prefix(room))
        dropped += mails.count - min(room, mails.count)
        let start = !draining
        draining = true
        lock.unlock()
        if start {
            let thread = Thread { [self] in drain() }
            thread.name = "job mail"
            thread.start()
        }
    }

    /// Mails sent and failed so far, and those still waiting (for diagnostics).
    var counts: (sent: Int, failed: Int, waiting: Int, dropped: Int) {
        lock.withLock { (sent, failed, queue.count, dropped) }
    }

    private func drain() {
        while true {
            lock.lock()
            if dropped > 0 {
                logger.error("job mail dropped: more than \(Self.maxQueued) mails waiting for \(program)", metadata: ["dropped": "\(dropped)"])
                dropped = 0
            }
            guard !queue.isEmpty else {
                draining = false
                lock.unlock()
                return
            }
            let mail = queue.removeFirst()
            lock.unlock()
            let ok = run(mail)
            lock.withLock { if ok { sent += 1 } else { failed += 1 } }
        }
    }

    /// Runs the program for one mail; true when it exited 0 within the timeout. posix_spawn and
    /// waitpid directly (Foundation's Process costs a thread and a pipe per run): a cluster that
    /// mails at every job end pays for the program and little else.
    private func run(_ mail: JobMail) -> Bool {
        // What it says goes to an unlinked temporary file (a pipe would block a chatty program, or
        // stay open in a child it leaves behind); at most 4 KiB of it is logged.
        var template = Array("/tmp/chess-mail-XXXXXX".utf8CString)
        let out = mkstemp(&template)
        if out >= 0 { unlink(template) }
        defer { if out >= 0 { close(out) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if out >= 0 {
            posix_spawn_file_actions_adddup2(&actions, out, 1)
            posix_spawn_file_actions_adddup2(&actions, out, 2)
        }
        // None of chessd's descriptors: its sockets (the event loops' are not close-on-exec) and
        // its database are not the mail program's business.
        _ = chess_spawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own, so that a timeout kills what it started too (sendmail, say); the
        // default signal dispositions, whatever chessd set.
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let words: [String] = [program, "-s", mail.subject, mail.recipient]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = mail.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            logger.error("MailProg could not start", metadata: ["program": "\(program)", "error": "\(String(cString: strerror(spawned)))",
                                                               "subject": "\(mail.subject)"])
            return false
        }
        // Waits with growing naps (1 ms up to 50 ms): a quick program is reaped at once.
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var nap: useconds_t = 1000
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return false }
            if Date() >= deadline {
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                logger.error("MailProg killed after \(Int(timeout)) s", metadata: ["program": "\(program)", "subject": "\(mail.subject)"])
                return false
            }
            usleep(nap)
            nap = min(nap * 2, 50_000)
        }
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            var said = ""
            if out >= 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = pread(out, &buffer, buffer.count, 0)
                if n > 0 { said = String(decoding: buffer.prefix(n), as: UTF8.self) }
            }
            logger.error("MailProg failed", metadata: ["program": "\(program)", "status": "\(exited ? "exit \(code)" : "signal \(status & 0x7f)")",
                                                      "output": "\(said)", "subject": "\(mail.subject)"])
            return false
        }
        logger.debug("job mail sent", metadata: ["to": "\(mail.recipient)", "subject": "\(mail.subject)"])
        return true
    }
}
