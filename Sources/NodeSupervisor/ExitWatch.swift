import CChessSystem
import FoundationEssentials
import Glibc

/// What a supervisor sleeps on while its job runs: the job's process ending (a pidfd), the
/// agent changing the spool (a new time limit, a cancel: inotify on the job's folder), or the
/// next moment it must act (a warning signal, the time limit, KILL after TERM). An idle
/// running job costs its supervisor no CPU at all.
///
/// Where the kernel lacks pidfd_open (before Linux 5.3) a wait lasts at most 50 ms; without
/// inotify at most a second, so that a new time limit or a cancel is still seen promptly.
struct ExitWatch {
    private let pidfd: Int32
    private let spoolChanges: Int32

    init(pid: pid_t, folder: String) {
        pidfd = chess_pidfd_open(pid)
        spoolChanges = chess_watch_directory(folder)
    }

    func close() {
        if pidfd >= 0 { Glibc.close(pidfd) }
        if spoolChanges >= 0 { Glibc.close(spoolChanges) }
    }

    /// Returns when the job may have ended, the spool may have changed, or `until` (seconds
    /// since the epoch; nil: no time to keep) has come.
    func wait(until: Double?) {
        var limit: Double = until.map { max($0 - Date().timeIntervalSince1970, 0) } ?? .infinity
        if pidfd < 0 { limit = min(limit, 0.05) }
        if spoolChanges < 0 { limit = min(limit, 1) }
        // Whole milliseconds, rounded up so that a deadline is never woken for just before it.
        let milliseconds: Int32 = limit == .infinity ? -1 : Int32(min((limit * 1000).rounded(.up), 86_400_000))
        var fds: [pollfd] = []
        if pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
        if spoolChanges >= 0 { fds.append(pollfd(fd: spoolChanges, events: Int16(POLLIN), revents: 0)) }
        _ = poll(&fds, nfds_t(fds.count), milliseconds)
        if spoolChanges >= 0 {
            var drain = [UInt8](repeating: 0, count: 4096)
            while read(spoolChanges, &drain, drain.count) > 0 {}
        }
    }
}
