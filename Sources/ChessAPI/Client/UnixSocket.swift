import Foundation
import Glibc

/// Unix stream sockets as the controller's API, the agent's step socket and `srun` use them:
/// addresses, connecting, listening, the peer's identity, and file descriptors passed along
/// with data (`SCM_RIGHTS`: how `srun` hands its standard input, output and error to a step).
public enum UnixSocket {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The `errno` behind it, if one was.
        public let code: Int32?
        init(_ description: String, code: Int32? = nil) {
            self.description = description
            self.code = code
        }
    }

    /// The address of `path`; throws when it is longer than a socket address holds.
    public static func address(_ path: String) throws -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw Failure("\(path): socket path is too long (\(bytes.count) bytes; the limit is \(MemoryLayout.size(ofValue: addr.sun_path) - 1))")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }

    /// A connected socket; the failure carries `errno` (ENOENT: nothing there).
    public static func connect(_ path: String) throws -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket(): \(String(cString: strerror(errno)))", code: errno) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw Failure("\(path): \(e == ENOENT ? "no such socket" : String(cString: strerror(e)))", code: e)
        }
        return fd
    }

    /// A listening socket at `path` (a stale socket file there is replaced), open to every local
    /// user: what each may do follows from `peer(of:)`.
    public static func listen(_ path: String, backlog: Int32 = 128) throws -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket(): \(String(cString: strerror(errno)))", code: errno) }
        unlink(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, Glibc.listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw Failure("\(path): cannot listen: \(String(cString: strerror(e)))", code: e)
        }
        chmod(path, 0o666)
        return fd
    }

    /// The connected process as the kernel vouches for it (`SO_PEERCRED`); nil if it cannot say.
    public static func peer(of fd: Int32) -> (pid: Int32, uid: UInt32, gid: UInt32)? {
        var cred: (Int32, UInt32, UInt32) = (0, UInt32.max, UInt32.max)
        var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return nil }
        return cred
    }

    /// The control-message header's size, rounded as `CMSG_ALIGN` rounds (Swift does not import
    /// the `CMSG_*` macros).
    private static let headerSize = (MemoryLayout<cmsghdr>.size + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
    /// `CMSG_SPACE` for `count` descriptors.
    private static func space(_ count: Int) -> Int {
        headerSize + ((count * MemoryLayout<Int32>.size + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1))
    }

    /// Writes all of `data`, the descriptors attached to its first byte.
    public static func send(_ fd: Int32, _ data: [UInt8], descriptors: [Int32] = []) throws {
        precondition(!data.isEmpty, "descriptors travel with at least one byte")
        var sent = 0
        while sent < data.count {
            let n: Int = data.withUnsafeBytes { raw in
                var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + sent), iov_len: data.count - sent)
                var msg = msghdr()
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    msg.msg_iov = iovPointer
                    msg.msg_iovlen = 1
                    guard sent == 0, !descriptors.isEmpty else { return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL)) }
                    var control = [UInt8](repeating: 0, count: space(descriptors.count))
                    return control.withUnsafeMutableBytes { c in
                        let header = c.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                        header.pointee.cmsg_len = headerSize + descriptors.count * MemoryLayout<Int32>.size
                        header.pointee.cmsg_level = SOL_SOCKET
                        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                        for (i, d) in descriptors.enumerated() {
                            c.storeBytes(of: d, toByteOffset: headerSize + i * MemoryLayout<Int32>.size, as: Int32.self)
                        }
                        msg.msg_control = c.baseAddress
                        msg.msg_controllen = c.count
                        return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure("send: \(String(cString: strerror(errno)))", code: errno)
            }
            sent += n
        }
    }

    /// Reads what is there (at most `limit` bytes; empty at the end of the stream) and any
    /// descriptors that came with it, close-on-exec.
    public static func receive(_ fd: Int32, limit: Int = 65536, maxDescriptors: Int = 8) throws -> (data: [UInt8], descriptors: [Int32]) {
        var buffer = [UInt8](repeating: 0, count: limit)
        var control = [UInt8](repeating: 0, count: space(maxDescriptors))
        var descriptors: [Int32] = []
        while true {
            let n: Int = buffer.withUnsafeMutableBytes { raw in
                control.withUnsafeMutableBytes { c in
                    var iov = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPointer in
                        var msg = msghdr()
                        msg.msg_iov = iovPointer
                        msg.msg_iovlen = 1
                        msg.msg_control = c.baseAddress
                        msg.msg_controllen = c.count
                        let n = recvmsg(fd, &msg, Int32(MSG_CMSG_CLOEXEC))
                        guard n >= 0, msg.msg_controllen >= headerSize else { return n }
                        let header = c.baseAddress!.assumingMemoryBound(to: cmsghdr.self).pointee
                        if header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS) {
                            let count = (Int(header.cmsg_len) - headerSize) / MemoryLayout<Int32>.size
                            for i in 0..<count {
                                descriptors.append(c.load(fromByteOffset: headerSize + i * MemoryLayout<Int32>.size, as: Int32.self))
                            }
                        }
                        return n
                    }
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                for d in descriptors { close(d) }
                throw Failure("receive: \(String(cString: strerror(e)))", code: e)
            }
            return (Array(buffer.prefix(n)), descriptors)
        }
    }
}

/// Newline-terminated lines read from a stream socket, with the descriptors that arrived on
/// the way.
public struct LineReader {
    public let fd: Int32
    private var pending: [UInt8] = []
    public private(set) var descriptors: [Int32] = []

    public init(fd: Int32) { self.fd = fd }

    /// The next line without its newline; nil at the end of the stream (or past `limit` bytes
    /// without one).
    public mutating func next(limit: Int = 16 << 20) throws -> [UInt8]? {
        while true {
            if let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                return line
            }
            guard pending.count < limit else { return nil }
            let (data, fds) = try UnixSocket.receive(fd)
            descriptors += fds
            if data.isEmpty { return nil }
            pending += data
        }
    }
}
