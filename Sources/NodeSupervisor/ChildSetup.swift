import CNuma
import CChessSystem
import Glibc

/// What a job's process needs between `fork` and `exec` — default signal handling, its cgroup,
/// its CPUs and memory nodes, the job's user — prepared before the fork, so that the child does
/// only plain system calls. The batch script and every task of a step start this way.
struct ChildSetup {
    let cgroupProcs: [String]
    let cpus: [Int32]
    let mems: [Int32]
    let dropTo: (uid: uid_t, gid: gid_t, user: UnsafeMutablePointer<CChar>?)?
    /// The supplementary groups the agent resolved; nil: `initgroups` (NSS) in the child.
    let groups: [gid_t]?

    init(cgroup: Cgroup?, cpus: [Int], mems: [Int], uid: UInt32?, gid: UInt32?, user: String, groups: [UInt32]?) {
        self.groups = groups
        cgroupProcs = cgroup.map { cg in cg.paths.values.map { "\($0)/\(cg.version == .v2 ? "cgroup.procs" : "tasks")" } } ?? []
        self.cpus = cpus.map(Int32.init)
        self.mems = mems.map(Int32.init)
        // Freed with the process: a supervisor starts its children once.
        dropTo = getuid() == 0 && (uid ?? 0) != 0 ? (uid!, gid ?? uid!, strdup(user)) : nil
        // Root runs a job as root only when the job's record says root: a plan without a user id
        // (an old record, a forged plan) runs nothing.
        refused = getuid() == 0 && uid == nil
    }

    let refused: Bool

    /// In the child: default signal handling, whatever this process inherited (the agent and
    /// the supervisor ignore SIGPIPE; a shell that started the agent with `&` made it ignore
    /// SIGQUIT; a parent may have blocked some), so that a job's `trap`, `scancel --signal` and a
    /// broken pipe work as they would from a login shell; then into the cgroup, bound.
    func enter() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        for s in 1..<Int32(32) where s != SIGKILL && s != SIGSTOP { signal(s, SIG_DFL) }
        let me = "\(getpid())"
        for p in cgroupProcs {
            let fd = open(p, O_WRONLY)
            if fd >= 0 { _ = Glibc.write(fd, me, me.utf8.count); close(fd) }
        }
        if !cpus.isEmpty { _ = cpus.withUnsafeBufferPointer { chess_bind_cpus($0.baseAddress, Int32($0.count)) } }
        if !mems.isEmpty { _ = mems.withUnsafeBufferPointer { chess_bind_memory($0.baseAddress, Int32($0.count)) } }
    }

    /// In the child: becomes the job's user (groups, then gid, then uid); false when it cannot.
    func becomeUser() -> Bool {
        if refused {
            errno = EPERM
            return false
        }
        guard let d = dropTo else { return true }
        let grouped = groups.map { list in list.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) } == 0 }
            ?? (initgroups(d.user, d.gid) == 0)
        return grouped && setgid(d.gid) == 0 && setuid(d.uid) == 0
    }

    /// In the child, last before `exec`: closes every descriptor above `highest` (the job's
    /// standard ones, and PMI's 3 for a step's task) but `keep`, so that nothing this process
    /// holds — the agent's listening sockets, other tasks' pipes, a report pipe — reaches the
    /// job. Descriptors marked close-on-exec would go anyway; this covers those that are not.
    static func closeInherited(above highest: Int32, keeping keep: Int32 = -1) {
        chess_close_from(highest + 1, keep)
    }
}

/// What went wrong in a child between `fork` and `exec`, sent to the parent through a
/// close-on-exec pipe (end of file there means the `exec` happened): the step and its `errno`.
/// Plain `write`s only, as befits a child of a process that may have threads.
enum ChildFailure: Int32, Sendable {
    case becomeUser = 1
    case outputFile = 2
    case errorFile = 3

    /// In the child: reports and exits.
    func report(_ fd: Int32, errno code: Int32) -> Never {
        var message: (Int32, Int32) = (rawValue, code)
        _ = withUnsafeBytes(of: &message) { Glibc.write(fd, $0.baseAddress, $0.count) }
        _exit(126)
    }

    /// In the parent, with its end of the pipe (closed here): the child's failure, or nil once
    /// the child has exec'd.
    static func read(_ fd: Int32) -> (ChildFailure, Int32)? {
        defer { close(fd) }
        var message: (Int32, Int32) = (0, 0)
        var got = 0
        while got < MemoryLayout<(Int32, Int32)>.size {
            let n = withUnsafeMutableBytes(of: &message) { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        guard got == MemoryLayout<(Int32, Int32)>.size, let failure = ChildFailure(rawValue: message.0) else { return nil }
        return (failure, message.1)
    }
}
