import BatchSubmission
import Glibc

/// Blocks `signals` in this thread and those it starts from now on, for a thread of srun's to
/// take with `sigwait` (srun passes them on to the tasks, or cancels its job): the set.
func blockSignals(_ signals: [Int32]) -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for s in signals { sigaddset(&set, s) }
    pthread_sigmask(SIG_BLOCK, &set, nil)
    return set
}

/// Runs `body` on a thread of its own for the rest of srun's life (a pthread: srun links no
/// Foundation). Signals blocked before the call stay blocked in it, for its `sigwait`.
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Work: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let work = Unmanaged.passRetained(Work(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { raw in
        Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, work)
    guard started == 0 else {
        Unmanaged<Work>.fromOpaque(work).release()
        CallingProcess.writeError("srun: error: cannot start a thread: \(String(cString: strerror(started)))\n")
        exit(1)
    }
    pthread_detach(thread)
}
