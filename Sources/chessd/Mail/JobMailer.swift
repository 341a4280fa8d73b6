import Foundation
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

    /// Runs the program for one mail; true when it exited 0 within the timeout.
    private func run(_ mail: JobMail) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = ["-s", mail.subject, mail.recipient]
        p.environment = mail.environment
        p.standardInput = FileHandle.nullDevice
        // What it says goes to an unlinked temporary file (a pipe would block a chatty program, or
        // stay open in a child it leaves behind); at most 4 KiB of it is logged.
        var template = Array("/tmp/chess-mail-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        if fd >= 0 { unlink(String(cString: template)) }
        let output = fd >= 0 ? FileHandle(fileDescriptor: fd, closeOnDealloc: true) : FileHandle.nullDevice
        p.standardOutput = output
        p.standardError = output
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do {
            try p.run()
        } catch {
            logger.error("MailProg could not start", metadata: ["program": "\(program)", "error": "\(error)", "subject": "\(mail.subject)"])
            return false
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            done.wait()
            logger.error("MailProg killed after \(Int(timeout)) s", metadata: ["program": "\(program)", "subject": "\(mail.subject)"])
            return false
        }
        var said = ""
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = pread(fd, &buffer, buffer.count, 0)
            if n > 0 { said = String(decoding: buffer.prefix(n), as: UTF8.self) }
        }
        guard p.terminationStatus == 0, p.terminationReason == .exit else {
            logger.error("MailProg failed", metadata: ["program": "\(program)", "status": "\(p.terminationStatus)",
                                                      "output": "\(said)", "subject": "\(mail.subject)"])
            return false
        }
        logger.debug("job mail sent", metadata: ["to": "\(mail.recipient)", "subject": "\(mail.subject)"])
        return true
    }
}
