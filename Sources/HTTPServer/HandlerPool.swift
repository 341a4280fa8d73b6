import Foundation

/// The threads that run request handlers, off the event loops: a handler takes the controller's
/// lock, renders a queue of thousands of jobs, or waits for a commit, and none of that may stall
/// the loop that serves every other connection. A fixed number of threads, whatever the number
/// of connections; each connection's requests run one after another in arrival order
/// (`Lane`), so that pipelined submits get their ids in request order.
final class HandlerPool: @unchecked Sendable {
    static let shared = HandlerPool(threads: max(8, 4 * ProcessInfo.processInfo.activeProcessorCount))

    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var head = 0
    private var running = 0
    let threads: Int

    /// Threads running a handler now, and handlers waiting for a thread (for `/metrics`: a
    /// pool that stays busy with work waiting is one whose handlers block too long).
    var load: (busy: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (running, work.count - head)
    }

    init(threads: Int) {
        self.threads = threads
        for i in 0..<threads {
            let thread = Thread { [self] in run() }
            thread.name = "handler \(i)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    func submit(_ item: @escaping () -> Void) {
        condition.lock()
        work.append(item)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == work.count { condition.wait() }
            let item = work[head]
            head += 1
            if head > 1024 && head * 2 > work.count {
                work.removeFirst(head)
                head = 0
            }
            running += 1
            condition.unlock()
            item()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }

    /// One connection's handlers, in order, at most one at a time.
    final class Lane: @unchecked Sendable {
        private let pool: HandlerPool
        private let lock = NSLock()
        private var queued: [() -> Void] = []
        private var running = false

        init(pool: HandlerPool = .shared) { self.pool = pool }

        func enqueue(_ item: @escaping () -> Void) {
            lock.lock()
            queued.append(item)
            let start = !running
            running = true
            lock.unlock()
            if start { pool.submit { [self] in drain() } }
        }

        private func drain() {
            while true {
                lock.lock()
                guard !queued.isEmpty else {
                    running = false
                    lock.unlock()
                    return
                }
                let batch = queued
                queued = []
                lock.unlock()
                for item in batch { item() }
            }
        }
    }
}
