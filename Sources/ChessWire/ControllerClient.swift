import Glibc

/// A blocking HTTP/1.1 client for chessd (one kept-alive connection): on the Unix socket for
/// `chessctl`, on TCP with signed requests for agents.
///
/// Blocking and dependency-free on purpose: `chessctl` runs once per command, and its start-up
/// time is part of every `submit` and `queue` a user types. No Foundation either: `sbatch` links
/// it without (ChessAPI adds `Data` and `Codable` forms of `exchange`).
public final class ControllerClient: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The controller's error code, when it answered with one.
        public let code: String?
        public let status: Int?

        public init(description: String, code: String?, status: Int?) {
            self.description = description
            self.code = code
            self.status = status
        }
    }

    public let socketPath: String
    private let tcp: HostPort?
    /// Adds headers to each request (agents: the HMAC signature).
    private let signer: (@Sendable (_ method: String, _ target: String, _ body: [UInt8]) -> [(String, String)])?
    /// Checks each answer against the request's headers (agents: chessd's signature over it).
    private let verifier: (@Sendable (_ request: [(String, String)], _ status: Int, _ signature: String?, _ body: [UInt8]) -> Bool)?
    private var fd: Int32 = -1
    /// TLS on the TCP connection, when `security` is given.
    private let security: ConnectionSecurityFactory?
    private var session: (any ConnectionSecurity)?

    /// `--socket`, then `CHESS_SOCKET`, then the default path.
    public static func resolveSocket(_ explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = getenv("CHESS_SOCKET").map({ String(cString: $0) }), !env.isEmpty { return env }
        return defaultSocket
    }

    public static let defaultSocket = "/run/chess/chessd.sock"

    public init(socketPath: String) {
        self.socketPath = socketPath
        tcp = nil
        signer = nil
        verifier = nil
        security = nil
    }

    /// A client for chessd's TCP listener; `signer` adds each request's authentication headers,
    /// `verifier` (when given) must accept each answer, or the request fails. With `security`,
    /// each connection speaks TLS (an agent's `--tls-ca`); its session lives on the thread that
    /// uses this client.
    public init(tcp: HostPort, signer: (@Sendable (String, String, [UInt8]) -> [(String, String)])?,
                verifier: (@Sendable ([(String, String)], Int, String?, [UInt8]) -> Bool)? = nil,
                security: ConnectionSecurityFactory? = nil) {
        socketPath = tcp.description
        self.tcp = tcp
        self.signer = signer
        self.verifier = verifier
        self.security = security
    }

    /// The longest wait for each read and write of a request (nil: as long as it takes, as
    /// `chessctl` waits on its local socket). An agent sets it beyond its long poll's wait, so
    /// that a controller host that vanished without closing the connection is noticed.
    public var answerTimeout: Double? {
        didSet { applyTimeout() }
    }

    private func applyTimeout() {
        guard fd >= 0 else { return }
        let seconds = answerTimeout ?? 0
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    private func timedOut() -> Failure {
        disconnect()
        return Failure(description: "no answer from chessd at \(socketPath) within \(Int(answerTimeout ?? 0)) s", code: "timeout", status: nil)
    }

    /// Drops the connection (the next request dials again).
    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        session = nil
        buffer = []
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        defer { if answerTimeout != nil { applyTimeout() } }
        if let tcp { return try connectTCP(tcp) }
        do {
            fd = try UnixSocket.connect(socketPath)
        } catch {
            guard let e = error.code else { throw Failure(description: error.description, code: nil, status: nil) }
            let why = e == ENOENT ? "no such socket" : String(cString: strerror(e))
            throw Failure(description: "cannot reach chessd at \(socketPath): \(why). Is chessd running? (set --socket or CHESS_SOCKET)",
                          code: nil, status: nil)
        }
    }

    private func connectTCP(_ hp: HostPort) throws {
        do {
            fd = try TCPConnection.connect(hp)
        } catch {
            throw Failure(description: error.description.hasPrefix("cannot resolve") ? error.description : "cannot reach chessd at \(error)",
                          code: nil, status: nil)
        }
        guard let security else { return }
        do {
            session = try security(fd)
        } catch {
            disconnect()
            throw Failure(description: "TLS towards \(hp): \(error)", code: "tls", status: nil)
        }
        try writeWire(session!.takeOutput())
    }

    /// Sends one request; returns the answer's body. Non-2xx answers throw with the
    /// controller's message.
    @discardableResult
    public func exchange(_ method: String, _ target: String, body: [UInt8]? = nil) throws -> [UInt8] {
        try connectIfNeeded()
        var head = "\(method) \(target) HTTP/1.1\r\nHost: chessd\r\n"
        let signed = signer?(method, target, body ?? []) ?? []
        for (k, v) in signed { head += "\(k): \(v)\r\n" }
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        } else {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        var out = Array(head.utf8)
        if let body { out += body }
        try writeAll(out)
        let (status, data, signature) = try readResponse()
        // What the caller acts on must be chessd's; an unsigned refusal is only a failure.
        if let verifier, (200..<300).contains(status) || signature != nil, !verifier(signed, status, signature, data) {
            disconnect()
            throw Failure(description: "the answer from \(socketPath) is not signed by chessd with this agent's key (is something between them?)",
                          code: "unsigned_answer", status: status)
        }
        guard (200..<300).contains(status) else {
            if let (code, message) = Self.errorBody(data) {
                throw Failure(description: message, code: code, status: status)
            }
            throw Failure(description: "chessd answered \(status): \(String(decoding: data, as: UTF8.self))", code: nil, status: status)
        }
        return data
    }

    /// chessd's error answer, `{"error": {"code": …, "message": …}}` (`ErrorBody`).
    static func errorBody(_ data: [UInt8]) -> (code: String, message: String)? {
        var s = JSONScanner(data)
        var code: String?
        var message: String?
        do {
            try s.beginObject()
            while let key = try s.nextKey() {
                guard key == "error" else { try s.skipValue(); continue }
                try s.beginObject()
                while let inner = try s.nextKey() {
                    switch inner {
                    case "code": code = try s.string()
                    case "message": message = try s.string()
                    default: try s.skipValue()
                    }
                }
            }
        } catch { return nil }
        guard let code, let message else { return nil }
        return (code, message)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        guard let session else { return try writeWire(bytes) }
        do { try session.send(bytes) } catch { throw tlsFailure(error) }
        try writeWire(session.takeOutput())
    }

    private func tlsFailure(_ error: any Error) -> Failure {
        disconnect()
        return Failure(description: "TLS with chessd at \(socketPath) failed: \(error)", code: "tls", status: nil)
    }

    /// Writes bytes as they go on the wire (sealed already, when TLS is on).
    private func writeWire(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw timedOut() }
            guard n > 0 else { throw Failure(description: "lost the connection to chessd", code: nil, status: nil) }
            offset += n
        }
    }

    private var buffer: [UInt8] = []

    /// Reads into the end of `buffer`, as much room as it already holds (16 KiB at least): small
    /// answers touch few pages (a short-lived chessctl pays for each), large ones grow it
    /// geometrically.
    private func fill() throws {
        if session != nil { return try fillSealed() }
        let start = buffer.count
        let room = max(16 * 1024, start)
        buffer.append(contentsOf: repeatElement(0, count: room))
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + start, room) }
            if n < 0 && errno == EINTR { continue }
            let timedOut = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
            buffer.removeLast(room - max(n, 0))
            if timedOut { throw self.timedOut() }
            guard n > 0 else { throw Failure(description: "chessd closed the connection", code: nil, status: nil) }
            return
        }
    }

    /// `fill` through TLS: reads records until they carry application bytes, answering the
    /// handshake on the way.
    private func fillSealed() throws {
        var wire = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = wire.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw timedOut() }
            guard n > 0 else { throw Failure(description: "chessd closed the connection", code: nil, status: nil) }
            let plain: [UInt8]
            do { plain = try session!.receive(Array(wire[0..<n])) } catch { throw tlsFailure(error) }
            try writeWire(session!.takeOutput())
            if !plain.isEmpty {
                buffer += plain
                return
            }
        }
    }

    private func readResponse() throws -> (Int, [UInt8], String?) {
        var headerEnd: Int?
        var searchFrom = 0
        while headerEnd == nil {
            if buffer.count >= 4 {
                var i = max(searchFrom, 0)
                while i + 3 < buffer.count {
                    if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { headerEnd = i; break }
                    i += 1
                }
                searchFrom = max(buffer.count - 3, 0)
            }
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(description: "malformed answer from chessd", code: nil, status: nil)
        }
        var length = 0
        var closeAfter = false
        var signature: String?
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingBlanks) ?? 0 }
            if lower.hasPrefix("x-chess-signature:") { signature = String(lower.dropFirst(18).trimmingBlanks) }
            if lower.hasPrefix("connection:") && lower.contains("close") { closeAfter = true }
        }
        // An answer is read before it can be checked: its length is bounded like a request's.
        guard (0...(64 << 20)).contains(length) else { throw Failure(description: "malformed answer from chessd", code: nil, status: nil) }
        let bodyStart = headerEnd! + 4
        let body: [UInt8]
        if session == nil && buffer.count < bodyStart + length {
            body = try readBody(length: length, buffered: buffer[bodyStart...])
            buffer.removeAll(keepingCapacity: true)
        } else {
            while buffer.count < bodyStart + length { try fill() }
            body = Array(buffer[bodyStart..<bodyStart + length])
            buffer.removeFirst(bodyStart + length)
        }
        if closeAfter { disconnect() }
        return (status, body, signature)
    }

    /// A body of `length` bytes, of which `buffered` have arrived, read straight into its place
    /// (a queue of ten thousand jobs is half a megabyte: growing the read buffer by doubling
    /// zero-filled and copied it over again).
    private func readBody(length: Int, buffered: ArraySlice<UInt8>) throws -> [UInt8] {
        var failure: Failure?
        let body = [UInt8](unsafeUninitializedCapacity: length) { raw, initialized in
            var filled = buffered.withUnsafeBufferPointer { have in
                _ = UnsafeMutableBufferPointer(rebasing: raw[0..<have.count]).initialize(from: have)
                return have.count
            }
            while filled < length {
                let n = read(fd, raw.baseAddress! + filled, length - filled)
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { failure = timedOut(); break }
                guard n > 0 else { failure = Failure(description: "chessd closed the connection", code: nil, status: nil); break }
                filled += n
            }
            initialized = filled
        }
        if let failure { throw failure }
        return body
    }
}
