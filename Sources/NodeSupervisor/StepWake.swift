import CChessSystem
import Glibc

/// What a step's supervisor sleeps on besides its connections and its tasks' pipes: a task
/// ending (SIGCHLD through a signalfd), and on the batch node the step's job ending (its folder
/// changing: `result.json`, `ending`, `cancel`; its supervisor exiting: a pidfd), until the next
/// moment something is due. A step whose tasks compute quietly costs its supervisor no wake-up
/// at all — on a compute node every wake-up is noise in a tightly coupled job.
///
/// Where the kernel lacks one of them the wait is capped as before: 50 ms without the signalfd
/// (task ends are then found by polling wait4), a second without the job's watches (the job's
/// end is then looked for once a second).
struct StepWake {
    /// Readable when a child (a task) ended. Create before the tasks are forked, so that no
    /// SIGCHLD is missed.
    let childEnded: Int32
    /// inotify on the job's folder; -1 for a member (it has no job folder on its agent).
    private let jobFolder: Int32
    /// The job's supervisor, as a pidfd; -1 for a member, and once it has ended.
    private var jobSupervisor: Int32
    /// Whether the job's end needs looking for (the batch node's hub), and can only be polled.
    private let jobPolled: Bool

    /// `job`: the job's folder and its supervisor's pid, for the batch node's hub; nil for a
    /// member supervisor.
    init(job: (folder: String, supervisor: pid_t?)?) {
        childEnded = chess_child_end_fd()
        if let job {
            jobFolder = chess_watch_directory(job.folder)
            jobSupervisor = job.supervisor.map { chess_pidfd_open($0) } ?? -1
            jobPolled = jobFolder < 0 || jobSupervisor < 0
        } else {
            (jobFolder, jobSupervisor, jobPolled) = (-1, -1, false)
        }
    }

    var descriptors: [Int32] { [childEnded, jobFolder, jobSupervisor].filter { $0 >= 0 } }

    func owns(_ fd: Int32) -> Bool { fd >= 0 && (fd == childEnded || fd == jobFolder || fd == jobSupervisor) }

    /// Consumes what made `fd` readable; true when it was about the job (look whether it ended).
    /// A pidfd stays readable once its process has ended, so it is closed then and no longer
    /// watched (else every poll would return at once: a busy loop until the step ends).
    mutating func consume(_ fd: Int32) -> Bool {
        if fd == jobSupervisor {
            Glibc.close(fd)
            jobSupervisor = -1
            return true
        }
        if fd == childEnded || fd == jobFolder {
            var scratch = [UInt8](repeating: 0, count: 4096)
            while read(fd, &scratch, scratch.count) > 0 {}
        }
        return fd == jobFolder
    }

    /// Whether the job's end must be looked for by time (a watch is missing) at `now`, given
    /// when it was last looked for.
    func jobCheckDue(now: Int, lastChecked: Int) -> Bool { jobPolled && now > lastChecked }

    /// poll's timeout: until `due` (seconds since the epoch; nil: nothing due), capped where an
    /// event source is missing.
    func timeout(until due: Int?) -> Int32 {
        var limit: Int32 = -1
        if let due {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let ms = (Int64(due) - Int64(now.tv_sec)) * 1000 - Int64(now.tv_nsec) / 1_000_000
            limit = Int32(clamping: max(ms, 0))
        }
        func cap(_ ms: Int32) { limit = limit < 0 ? ms : min(limit, ms) }
        if childEnded < 0 { cap(50) }
        if jobPolled { cap(1000) }
        return limit
    }

    func close() {
        for fd in descriptors { Glibc.close(fd) }
    }
}
