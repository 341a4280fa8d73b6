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

    public let endpoint: Endpoint
    let handler: any HTTPHandler
    private let listenFD: Int32
    private let stopped = Atomic<Bool>(false)
    /// The TCP port actually bound (useful with port 0).
    public let boundPort: UInt16?

    public init(endpoint: Endpoint, handler: any HTTPHandler) throws {
        self.endpoint = endpoint
        self.handler = handler
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
            let connection = Connection(fd: fd, peer: peer, handler: handler)
            let thread = Thread { connection.run() }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }

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

/// One client connection: reads requests, hands them to the handler, writes the responses in
/// request order.
private final class Connection: @unchecked Sendable {
    let fd: Int32
    let peer: Peer
    let handler: any HTTPHandler

    private struct Slots {
        var responses: [Int: (HTTPResponse, Bool)] = [:]
        var nextToWrite = 0
        var closed = false
    }
    private let slots = Mutex(Slots())
    /// Writes happen under this lock so that responses are never interleaved.
    private let writeLock = NSLock()
    /// Requests handed out and not yet answered (guarded by `drained`).
    private var outstanding = 0
    private let drained = NSCondition()

    init(fd: Int32, peer: Peer, handler: any HTTPHandler) {
        self.fd = fd
        self.peer = peer
        self.handler = handler
    }

    func run() {
        var parser = HTTPRequestParser()
        var sequence = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        reading: while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            while true {
                let request: HTTPRequest?
                do {
                    request = try parser.next()
                } catch {
                    let response: HTTPResponse
                    switch error {
                    case .malformed(let why): response = .error(status: 400, code: "invalid_request", message: "malformed HTTP request: \(why)")
                    case .headersTooLarge: response = .error(status: 431, code: "headers_too_large", message: "request headers exceed 64 KiB")
                    case .bodyTooLarge: response = .error(status: 413, code: "body_too_large", message: "request body exceeds 64 MiB")
                    case .lengthRequired: response = .error(status: 411, code: "length_required", message: "send a Content-Length; chunked bodies are not accepted")
                    }
                    begin()
                    deliver(sequence, response, keepAlive: false)
                    sequence += 1
                    break reading
                }
                guard let request else { break }
                let keepAlive = request.header("connection")?.lowercased() != "close"
                let slot = sequence
                sequence += 1
                begin()
                handler.handle(request, peer: peer) { [self] response in
                    deliver(slot, response, keepAlive: keepAlive)
                }
                if !keepAlive { break reading }
            }
        }
        // Let every handled request answer before closing.
        drained.lock()
        while outstanding > 0 { drained.wait() }
        drained.unlock()
        close(fd)
    }

    private func begin() {
        drained.lock()
        outstanding += 1
        drained.unlock()
    }

    private func deliver(_ slot: Int, _ response: HTTPResponse, keepAlive: Bool) {
        writeLock.lock()
        let ready = slots.withLock { s -> [(HTTPResponse, Bool)] in
            var ready: [(HTTPResponse, Bool)] = []
            s.responses[slot] = (response, keepAlive)
            while let r = s.responses.removeValue(forKey: s.nextToWrite) {
                ready.append(r)
                s.nextToWrite += 1
            }
            return ready
        }
        for (r, keep) in ready {
            guard writeAll(r.serialized(keepAlive: keep)) else { continue }
            if let stream = r.stream {
                // The producer runs here, holding the write lock: nothing else is written on
                // this connection, which closes when it returns.
                let fd = fd
                stream(ResponseStream { bytes in
                    Connection.writeAll(fd, Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A] + bytes + [0x0D, 0x0A])
                })
                _ = writeAll(Array("0\r\n\r\n".utf8))
                shutdown(fd, Int32(SHUT_RDWR))
            }
        }
        writeLock.unlock()
        drained.lock()
        outstanding -= 1
        drained.broadcast()
        drained.unlock()
    }

    @discardableResult
    private func writeAll(_ bytes: [UInt8]) -> Bool { Connection.writeAll(fd, bytes) }

    /// False when the peer is gone.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
