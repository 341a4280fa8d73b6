import Glibc
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
    public static func address(_ path: String) throws(Failure) -> sockaddr_un {
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
    public static func connect(_ path: String) throws(Failure) -> Int32 {
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
    public static func listen(_ path: String, backlog: Int32 = 128) throws(Failure) -> Int32 {
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

/// TCP connections as the agents, the controller's clients and job steps open them.
public enum TCPConnection {
    /// How long a connection may take to be accepted: a controller host that vanished (no
    /// answer to SYN) is given up after this rather than after the kernel's two minutes.
    public static let connectTimeout: Int32 = 10

    /// A connected socket (close-on-exec, no Nagle delay, TCP keepalive: a peer that vanished
    /// while the connection was idle is noticed within about 90 s).
    public static func connect(_ hp: HostPort) throws(UnixSocket.Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(hp.host, String(hp.port), &hints, &result)
        guard gai == 0, let info = result else {
            throw UnixSocket.Failure("cannot resolve \(hp.host): \(String(cString: gai_strerror(gai)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UnixSocket.Failure("socket(): \(String(cString: strerror(errno)))", code: errno) }
        // Non-blocking while it connects, so that the wait is bounded.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var e: Int32 = 0
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            e = errno
            if e == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                var ready: Int32
                repeat { ready = poll(&p, 1, connectTimeout * 1000) } while ready < 0 && errno == EINTR
                if ready == 0 {
                    e = ETIMEDOUT
                } else {
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    if getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0 { e = errno }
                }
            }
        }
        guard e == 0 else {
            close(fd)
            let why = e == ETIMEDOUT ? "no answer within \(connectTimeout) s" : String(cString: strerror(e))
            throw UnixSocket.Failure("\(hp): \(why)", code: e)
        }
        _ = fcntl(fd, F_SETFL, flags)
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, size)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, size)
        var idle: Int32 = 60, interval: Int32 = 10, count: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
        return fd
    }

    /// A listening socket on every IPv4 address and a port the kernel picks; the port.
    public static func listenAnyPort() throws(UnixSocket.Failure) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw UnixSocket.Failure("socket(): \(String(cString: strerror(errno)))", code: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = INADDR_ANY
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && Glibc.listen(fd, 128) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            let e = errno
            close(fd)
            throw UnixSocket.Failure("cannot listen on a TCP port: \(String(cString: strerror(e)))", code: e)
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    /// The address this host reaches `hp` from (the interface the route to it leaves by), as
    /// others on that network reach this host: a UDP socket connected, no packet sent.
    public static func localAddress(towards hp: HostPort) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(hp.host, String(hp.port), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { return nil }
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
        }
        guard ok, inet_ntop(AF_INET, &addr.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
        return String(cString: text)
    }
}
