import FoundationEssentials
import Glibc

/// How a supervisor tells the agent at once that a job or step has ended, so that the agent
/// sleeps instead of scanning its spool every few milliseconds: a Unix datagram socket at
/// `SPOOL/bell`, bound by the agent (root's, mode 0600: only root can ring it). A supervisor
/// rings after its result is durable; the ring carries no data the agent trusts — it only
/// says "look at the spool now". A ring lost (agent restarting, socket full) costs at most the
/// agent's next periodic look, never a result: results live in the spool until acknowledged.
public final class SpoolBell: @unchecked Sendable {
    /// The bell of the spool that holds `jobs/ID.RUN` (a job's folder) or
    /// `jobs/ID.RUN/steps/N` (a step's folder).
    public static func path(spool: String) -> String { "\(spool)/bell" }

    /// The spool a job's or a step's folder belongs to: SPOOL/jobs/ID.RUN/steps/N is four
    /// levels below it; SPOOL/jobs/ID.RUN and a member step's SPOOL/steps/J.R.S two.
    /// (Path components by hand, not URL: this runs once per job in a new process.)
    public static func spool(ofFolder directory: String) -> String {
        var absolute = directory
        if !absolute.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            absolute = String(cString: cwd) + "/" + directory
            free(cwd)
        }
        var parts: [Substring] = []
        for part in absolute.split(separator: "/") where part != "." {
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
            } else {
                parts.append(part)
            }
        }
        let inJobFolder = parts.count >= 4 && parts[parts.count - 2] == "steps" && parts[parts.count - 4] == "jobs"
        parts.removeLast(min(inJobFolder ? 4 : 2, parts.count))
        return "/" + parts.joined(separator: "/")
    }

    let fd: Int32
    public let path: String

    /// Binds the bell (a stale socket file of an earlier agent is replaced).
    public init(spool: String) throws {
        path = Self.path(spool: spool)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        unlink(path)
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        self.fd = fd
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Sleeps until the bell rings or `milliseconds` pass (-1: until it rings); swallows every
    /// ring waiting, so that many ends at once wake the agent once. True when it rang.
    @discardableResult
    public func wait(milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, milliseconds)
        guard ready > 0 else { return false }
        var scratch = [UInt8](repeating: 0, count: 64)
        while recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) >= 0 {}
        return true
    }

    /// Wakes the waiter (the agent itself: a launch, a stop).
    public func ring() { Self.ring(path: path) }

    /// Rings the bell of `spool`; never blocks and never fails the caller (no agent listening
    /// is normal while it restarts).
    public static func ring(spool: String) { ring(path: path(spool: spool)) }

    static func ring(path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = address(path)
        var byte: UInt8 = 1
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(MemoryLayout.size(ofValue: address.sun_path) - 1))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return address
    }
}
