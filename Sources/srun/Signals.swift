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
