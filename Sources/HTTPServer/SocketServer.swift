import ChessAPI
import Foundation
import Glibc
import Synchronization

/// Who is on the other end of a connection.
public enum Peer: Sendable, Hashable {
    /// A local process on the Unix socket, as the kernel vouches for it (`SO_PEERCRED`).
    case local(uid: UInt32, gid: UInt32, pid: Int32)
    /// A TCP client; who it is follows from what it signs or presents.
    case remote(address: String)
}

/// Handles one request; calls `respond` exactly once, from any thread, possibly later (a submit
/// answers after its transaction commits).
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, peer: Peer, respond: @escaping @Sendable (HTTPResponse) -> Void)
}

/// A listening socket (Unix or TCP) with a thread per connection. Pipelined requests on one
/// connection are handled concurrently and answered in order, so a client that pipelines submits
/// gets them group-committed.
public final class SocketServer: Sendable {
    public enum Endpoint: Sendable, CustomStringConvertible {
        case unix(path: String)
        case tcp(HostPort)

        public var description: String {
            switch self {
            case .unix(let path): return "unix:\(path)"
            case .tcp(let hp): return "tcp:\(hp)"
            }
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// What one client may hold of the server. A connection past a bound is answered 503 and
    /// closed at once; one that sends half a request is closed after `requestTimeout`, an idle
    /// one after `idleTimeout`.
    public struct Limits: Sendable {
        /// Connections open at once on this listener (each holds a thread).
        public var connections: Int
        /// Connections open at once from one local user (root excepted) or one TCP address.
        public var connectionsPerPeer: Int
        /// Seconds for a request to arrive whole, from its first byte.
        public var requestTimeout: Double
        /// Seconds a connection may wait with no request and nothing to answer.
        public var idleTimeout: Double

        public init(connections: Int = 4096, connectionsPerPeer: Int = 256, requestTimeout: Double = 30, idleTimeout: Double = 300) {
            self.connections = connections
            self.connectionsPerPeer = connectionsPerPeer
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
        }
    }

    public let endpoint: Endpoint
    let handler: any HTTPHandler
    public let limits: Limits
    private let listenFD: Int32
    private let stopped = Atomic<Bool>(false)
    /// Open connections, in all and by peer (a local uid, a TCP address).
    private let open = Mutex((total: 0, byPeer: [String: Int]()))
    /// The TCP port actually bound (useful with port 0).
    public let boundPort: UInt16?
    /// TLS for each connection (chessd's `[tls]`); nil: cleartext.
    let security: ConnectionSecurityFactory?

    public init(endpoint: Endpoint, handler: any HTTPHandler, limits: Limits = Limits(),
                security: ConnectionSecurityFactory? = nil) throws {
        self.endpoint = endpoint
        self.handler = handler
        self.limits = limits
        self.security = security
        switch endpoint {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw StartError(description: "socket(): \(String(cString: strerror(errno)))") }
            // A stale socket from a crashed daemon is removed; a live one means another daemon runs.
            if FileManager.default.fileExists(atPath: path) {
                if SocketServer.isListening(unixPath: path) {
                    close(fd)
                    throw StartError(description: "\(path): another chessd is already listening there")
                }
                unlink(path)
            }
            var addr: sockaddr_un
            do {
                addr = try UnixSocket.address(path)
            } catch {
                close(fd)
                throw StartError(description: error.description)
            }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else {
                let e = String(cString: strerror(errno))
                close(fd)
                throw StartError(description: "\(path): cannot bind: \(e)")
            }
            // Everyone may connect; what each may do follows from SO_PEERCRED.
            chmod(path, 0o666)
            listenFD = fd
            boundPort = nil
        case .tcp(let hp):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_PASSIVE
            var result: UnsafeMutablePointer<addrinfo>?
            let gai = getaddrinfo(hp.host, String(hp.port), &hints, &result)
            guard gai == 0, let info = result else {
                throw StartError(description: "\(hp): cannot resolve: \(String(cString: gai_strerror(gai)))")
            }
            defer { freeaddrinfo(result) }
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw StartError(description: "socket(): \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                let e = String(cString: strerror(errno))
                close(fd)
                throw StartError(description: "\(hp): cannot bind: \(e)")
            }
            listenFD = fd
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            boundPort = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        }
        guard listen(listenFD, 1024) == 0 else {
            let e = String(cString: strerror(errno))
            close(listenFD)
            throw StartError(description: "\(endpoint): cannot listen: \(e)")
        }
    }

    static func isListening(unixPath path: String) -> Bool {
        guard let fd = try? UnixSocket.connect(path) else { return false }
        close(fd)
        return true
    }

    /// Accepts connections on a thread of its own until `stop()`.
    public func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "accept \(endpoint)"
        thread.start()
    }

    public func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        if case .unix(let path) = endpoint { unlink(path) }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let peer = self.peer(of: fd)
            let key: String?
            switch peer {
            case .local(let uid, _, _): key = uid == 0 ? nil : "uid \(uid)"
            case .remote(let address): key = address
            }
            let limits = limits
            let admitted = open.withLock { o -> Bool in
                guard o.total < limits.connections, key.map({ o.byPeer[$0, default: 0] < limits.connectionsPerPeer }) ?? true else { return false }
                o.total += 1
                if let key { o.byPeer[key, default: 0] += 1 }
                return true
            }
            guard admitted else {
                // A TLS client would take clear text for a broken handshake: it is only closed.
                if security != nil {
                    close(fd)
                    continue
                }
                let busy = HTTPResponse.error(status: 503, code: "too_many_connections",
                                              message: "too many connections open (\(limits.connections) in all, \(limits.connectionsPerPeer) per user or address): close some and retry")
                let bytes = busy.serialized(keepAlive: false)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                close(fd)
                continue
            }
            let connection = Connection(fd: fd, peer: peer, handler: handler, limits: limits, security: security) { [self] in release(key) }
            let thread = Thread { connection.run() }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

    /// A connection of `key`'s (nil: root's, not counted by peer) has closed.
    private func release(_ key: String?) {
        open.withLock { o in
            o.total -= 1
            if let key {
                o.byPeer[key, default: 1] -= 1
                if o.byPeer[key] == 0 { o.byPeer[key] = nil }
            }
        }
    }

    /// Connections open now (for tests and metrics).
    public var openConnections: Int { open.withLock { $0.total } }

    private func peer(of fd: Int32) -> Peer {
        switch endpoint {
        case .unix:
            var cred: (Int32, UInt32, UInt32) = (0, UInt32.max, UInt32.max)
            var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
            if getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 { cred = (0, UInt32.max, UInt32.max) }
            return .local(uid: cred.1, gid: cred.2, pid: cred.0)
        case .tcp:
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let ok = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                    getpeername(fd, sa, &len) == 0
                        && getnameinfo(sa, len, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
                }
            }
            return .remote(address: ok ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown")
        }
    }
}

/// One client connection, on a thread of its own: reads requests, hands them to the handler,
/// writes the responses in request order.
///
/// Nothing a client does can hold another thread: responses are written without blocking (what
/// the socket does not take at once waits in this connection's buffer, flushed by its own
/// thread), the connection stops reading while 64 requests wait for answers or 1 MiB of answers
/// waits for the client (backpressure), a request must arrive whole within the request
/// timeout, and a connection idle for the idle timeout is closed.
private final class Connection: @unchecked Sendable {
    let fd: Int32
    let peer: Peer
    let handler: any HTTPHandler
    let limits: SocketServer.Limits
    /// Makes the connection's TLS session on its own thread; nil: cleartext. With TLS, answers
    /// wait in `output` as clear text and only this connection's thread seals and sends them.
    let security: ConnectionSecurityFactory?

    private struct State {
        var responses: [Int: (HTTPResponse, Bool)] = [:]
        var nextToWrite = 0
        /// Bytes answered and not yet taken by the socket.
        var output: [UInt8] = []
        var outputStart = 0
        /// Requests handed out and not yet answered.
        var outstanding = 0
        /// A response said `Connection: close` (or the client went away): no more is written.
        var closing = false
        /// A streaming response waits for the bytes before it to leave.
        var streams: [(ResponseStream) -> Void] = []
        var lastActivity = 0.0
        /// The socket is closed: its number may belong to another connection now.
        var finished = false
        var pendingBytes: Int { output.count - outputStart }
    }
    private let state = Mutex(State())
    /// Wakes the connection's thread when an answer arrives from another thread.
    private let wake: (read: Int32, write: Int32)

    static let maxOutstanding = 64
    static let maxPendingOutput = 1 << 20

    /// Called once the connection is closed (the server counts its connections).
    let onClose: @Sendable () -> Void

    init(fd: Int32, peer: Peer, handler: any HTTPHandler, limits: SocketServer.Limits, security: ConnectionSecurityFactory?,
         onClose: @escaping @Sendable () -> Void) {
        self.onClose = onClose
        self.security = security
        self.fd = fd
        self.peer = peer
        self.handler = handler
        self.limits = limits
        var pair: [Int32] = [-1, -1]
        if pipe(&pair) == 0 {
            for p in pair {
                _ = fcntl(p, F_SETFD, FD_CLOEXEC)
                _ = fcntl(p, F_SETFL, fcntl(p, F_GETFL) | O_NONBLOCK)
            }
        }
        wake = (pair[0], pair[1])
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// TLS state of the connection, owned by its thread.
    private struct Sealed {
        let session: any ConnectionSecurity
        /// Sealed bytes not yet taken by the socket.
        var wire: [UInt8] = []
        var failed = false

        /// Seals the answers waiting as clear text and sends what the socket takes now.
        mutating func pump(_ connection: Connection) {
            let plain = connection.state.withLock { s -> [UInt8] in
                guard s.pendingBytes > 0 else { return [] }
                let p = Array(s.output[s.outputStart...])
                s.output.removeAll(keepingCapacity: s.output.count <= 65536)
                s.outputStart = 0
                return p
            }
            if !plain.isEmpty {
                do { try session.send(plain) } catch { return fail(connection) }
            }
            wire += session.takeOutput()
            while !wire.isEmpty {
                let n = wire.withUnsafeBytes { send(connection.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { fail(connection) }
                    return
                }
                wire.removeFirst(n)
                connection.state.withLock { $0.lastActivity = Connection.now() }
            }
        }

        /// The peer broke the protocol or went away: nothing more is read or written.
        mutating func fail(_ connection: Connection) {
            failed = true
            wire = []
            connection.state.withLock { $0.closing = true; $0.output.removeAll(); $0.outputStart = 0 }
        }
    }

    func run() {
        var sealed: Sealed?
        if let security {
            do {
                sealed = Sealed(session: try security(fd))
            } catch {
                return finish()
            }
        }
        defer { sealed = nil }  // released on this thread, which made it
        var parser = HTTPRequestParser()
        var sequence = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var reading = true
        /// When the request now arriving began (its first byte), for the request timeout.
        var requestStarted: Double?
        state.withLock { $0.lastActivity = Self.now() }
        while true {
            sealed?.pump(self)
            let wire = sealed?.wire.count ?? 0
            let (pending, outstanding, closing, idleSince, stream) = state.withLock { s in
                (s.pendingBytes + wire, s.outstanding, s.closing, s.lastActivity, s.pendingBytes + wire == 0 ? s.streams.popLast() : nil)
            }
            if let stream {
                // The stream's producer runs here for as long as it likes; the connection closes after.
                runStream(stream, sealed: sealed?.session)
                break
            }
            if closing && pending == 0 { break }
            if !reading && outstanding == 0 && pending == 0 { break }
            let now = Self.now()
            if reading, let started = requestStarted, now - started > limits.requestTimeout {
                begin()
                deliver(sequence, .error(status: 408, code: "request_timeout",
                                         message: "the request did not arrive whole within \(Int(limits.requestTimeout)) s"), keepAlive: false)
                sequence += 1
                reading = false
                continue
            }
            let idle = reading && outstanding == 0 && pending == 0 && requestStarted == nil
            if idle && now - idleSince > limits.idleTimeout { break }
            // A client that stopped taking its answers for the idle timeout is gone too.
            if pending > 0 && now - idleSince > limits.idleTimeout { break }
            let readMore = reading && !closing && outstanding < Self.maxOutstanding && pending < Self.maxPendingOutput
            var fds = [pollfd(fd: fd, events: Int16(readMore ? POLLIN : 0) | Int16(pending > 0 ? POLLOUT : 0), revents: 0),
                       pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            // Asleep until the socket or an answer wakes it, or its next deadline: a connection
            // waiting for its client or for a long poll's answer costs no CPU (with thousands
            // of agents connected, a wake every second each was most of chessd's idle load).
            var deadline = Double.infinity
            if reading, let started = requestStarted { deadline = started + limits.requestTimeout }
            if idle || pending > 0 { deadline = min(deadline, idleSince + limits.idleTimeout) }
            let wait = deadline == .infinity ? -1 : Int32(min(max((deadline - now) * 1000, 0).rounded(.up) + 1, 3_600_000))
            let rc = poll(&fds, 2, wait)
            if rc < 0 && errno != EINTR { break }
            if fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while read(wake.read, &drain, drain.count) > 0 {}
            }
            if fds[0].revents & Int16(POLLOUT) != 0 {
                if sealed == nil { flush() } else { sealed!.pump(self) }
            }
            if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                // The peer is gone: nothing more to read or write.
                state.withLock { $0.closing = true; $0.output.removeAll(); $0.outputStart = 0 }
                sealed?.wire = []
                reading = false
                continue
            }
            guard readMore, fds[0].revents & Int16(POLLIN) != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 {
                reading = false
                continue
            }
            state.withLock { $0.lastActivity = Self.now() }
            // The request timeout runs from the first byte, handshake included.
            if requestStarted == nil { requestStarted = Self.now() }
            if sealed != nil {
                let plain: [UInt8]
                do { plain = try sealed!.session.receive(Array(buffer[0..<n])) } catch {
                    sealed!.fail(self)
                    reading = false
                    continue
                }
                plain.withUnsafeBytes { parser.append($0) }
            } else {
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            while true {
                let request: HTTPRequest?
                do {
                    request = try parser.next()
                } catch {
                    let response: HTTPResponse
                    switch error {
                    case .malformed(let why): response = .error(status: 400, code: "invalid_request", message: "malformed HTTP request: \(why)")
                    case .headersTooLarge: response = .error(status: 431, code: "headers_too_large", message: "request headers exceed 64 KiB")
                    case .bodyTooLarge:
                        response = .error(status: 413, code: "body_too_large", message: "request body exceeds \(HTTPRequestParser.maxBodyBytes >> 20) MiB")
                    case .lengthRequired: response = .error(status: 411, code: "length_required", message: "send a Content-Length; chunked bodies are not accepted")
                    }
                    begin()
                    deliver(sequence, response, keepAlive: false)
                    sequence += 1
                    reading = false
                    break
                }
                guard let request else { break }
                requestStarted = parser.hasPartialRequest ? Self.now() : nil
                let keepAlive = request.header("connection")?.lowercased() != "close"
                let slot = sequence
                sequence += 1
                begin()
                handler.handle(request, peer: peer) { [self] response in
                    deliver(slot, response, keepAlive: keepAlive)
                }
                if !keepAlive {
                    reading = false
                    break
                }
            }
        }
        finish()
    }

    /// Answers still to come are dropped (`deliver` sees the connection finished); closed
    /// under the lock, so that no answer is being written to the descriptor as it closes.
    private func finish() {
        state.withLock { s in
            s.closing = true
            s.finished = true
            close(fd)
            close(wake.read)
            close(wake.write)
        }
        onClose()
    }

    private func begin() {
        state.withLock { $0.outstanding += 1 }
    }

    /// Called once per request, from any thread: queues the response in order and writes what
    /// the socket takes now, never waiting for the client.
    private func deliver(_ slot: Int, _ response: HTTPResponse, keepAlive: Bool) {
        state.withLock { s in
            s.outstanding -= 1
            guard !s.finished else { return }
            s.responses[slot] = (response, keepAlive)
            while !s.closing, let (r, keep) = s.responses.removeValue(forKey: s.nextToWrite) {
                s.nextToWrite += 1
                s.output += r.serialized(keepAlive: keep)
                if let stream = r.stream {
                    s.streams.append(stream)
                    s.closing = true
                } else if !keep {
                    s.closing = true
                }
            }
            // With TLS only the connection's thread may seal: it is woken to.
            if security == nil { flush(&s) }
            _ = Glibc.write(wake.write, "w", 1)
        }
    }

    private func flush() { state.withLock { flush(&$0) } }

    /// Writes what the socket takes now, without waiting (under the state's lock).
    private func flush(_ s: inout State) {
        guard !s.finished else { return }
        while s.pendingBytes > 0 {
            let n = s.output.withUnsafeBytes { send(fd, $0.baseAddress! + s.outputStart, s.pendingBytes, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
                    // The client is gone: drop what it would not read.
                    s.output.removeAll()
                    s.outputStart = 0
                    s.closing = true
                }
                return
            }
            s.outputStart += n
            s.lastActivity = Self.now()
        }
        s.output.removeAll(keepingCapacity: s.output.count <= 65536)
        s.outputStart = 0
    }

    /// A streaming response: its producer sends chunk by chunk, each waiting (at most the idle
    /// timeout) for the client to take it; the connection closes when the producer returns or
    /// the client stops reading.
    private func runStream(_ stream: (ResponseStream) -> Void, sealed session: (any ConnectionSecurity)?) {
        let writer = StreamWriter(fd: fd, timeout: limits.idleTimeout, session: session)
        stream(ResponseStream { bytes in
            writer.write(Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A] + bytes + [0x0D, 0x0A])
        })
        _ = writer.write(Array("0\r\n\r\n".utf8))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Writes all of `bytes` to a non-blocking socket, waiting at most `timeout` seconds for
    /// the client to make room; false when it is gone or too slow.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], timeout: Double) -> Bool {
        var offset = 0
        let deadline = now() + timeout
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                let left = deadline - now()
                guard left > 0 else { return false }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, Int32(min(left, 1) * 1000))
                continue
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// Writes a streaming response's chunks, sealed when the connection speaks TLS. The producer
/// calls it on the connection's own thread (`runStream`), the one thread that may use the
/// session: hence unchecked.
private final class StreamWriter: @unchecked Sendable {
    let fd: Int32
    let timeout: Double
    let session: (any ConnectionSecurity)?

    init(fd: Int32, timeout: Double, session: (any ConnectionSecurity)?) {
        self.fd = fd
        self.timeout = timeout
        self.session = session
    }

    func write(_ bytes: [UInt8]) -> Bool {
        guard let session else { return Connection.writeAll(fd, bytes, timeout: timeout) }
        do { try session.send(bytes) } catch { return false }
        return Connection.writeAll(fd, session.takeOutput(), timeout: timeout)
    }
}
