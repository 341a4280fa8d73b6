import ChessAPI
import Foundation
import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// Who is on the other end of a connection.
public enum Peer: Sendable, Hashable {
    /// A local process on the Unix socket, as the kernel vouches for it (`SO_PEERCRED`).
    case local(uid: UInt32, gid: UInt32, pid: Int32)
    /// A TCP client; who it is follows from what it signs or presents.
    case remote(address: String)
}

/// Handles one request; calls `respond` exactly once, from any thread, possibly later (a submit
/// answers after its transaction commits). Runs on a `HandlerPool` thread, never on an event
/// loop: it may take locks and wait for a commit.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, peer: Peer, respond: @escaping @Sendable (HTTPResponse) -> Void)
}

/// A listening socket (Unix or TCP) served by SwiftNIO's event loops: a few threads whatever
/// the number of connections (thousands of agents each hold one). Requests are handled on the
/// `HandlerPool`, a connection's in arrival order; pipelined requests are answered in order,
/// so a client that pipelines submits gets them group-committed.
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
    /// one, or one that takes none of its answers, after `idleTimeout`.
    public struct Limits: Sendable {
        /// Connections open at once on this listener.
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

    /// The event loops every server of this process shares: one per core, at least two.
    static let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))

    public let endpoint: Endpoint
    let handler: any HTTPHandler
    public let limits: Limits
    private let channel: any Channel
    /// Open connections, in all and by peer (a local uid, a TCP address).
    private let open = Mutex((total: 0, byPeer: [String: Int]()))
    /// The TCP port actually bound (useful with port 0).
    public let boundPort: UInt16?
    /// TLS for each connection (chessd's `[tls]`); nil: cleartext.
    let security: ConnectionSecurityFactory?

    /// Binds the listener; connections are accepted from `start()` on.
    public init(endpoint: Endpoint, handler: any HTTPHandler, limits: Limits = Limits(),
                security: ConnectionSecurityFactory? = nil) throws {
        self.endpoint = endpoint
        self.handler = handler
        self.limits = limits
        self.security = security
        let accepting = Admission()
        let bootstrap = ServerBootstrap(group: Self.loops)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Not before `start()`: the listener exists (a second chessd sees it) but waits.
            .serverChannelOption(.autoRead, value: false)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // What waits for a client that does not read: past 1 MiB the connection stops reading
            // its requests (backpressure), and it is closed after the idle timeout.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: Connection.maxPendingOutput))
            .childChannelInitializer { channel in accepting.admit(channel) }
        switch endpoint {
        case .unix(let path):
            // A stale socket from a crashed daemon is removed; a live one means another daemon runs.
            if FileManager.default.fileExists(atPath: path) {
                if SocketServer.isListening(unixPath: path) {
                    throw StartError(description: "\(path): another chessd is already listening there")
                }
                unlink(path)
            }
            do { _ = try UnixSocket.address(path) } catch { throw StartError(description: error.description) }
            do {
                channel = try bootstrap.bind(unixDomainSocketPath: path).wait()
            } catch {
                throw StartError(description: "\(path): cannot bind: \(error)")
            }
            // Everyone may connect; what each may do follows from SO_PEERCRED.
            chmod(path, 0o666)
            boundPort = nil
        case .tcp(let hp):
            do {
                channel = try bootstrap.bind(host: hp.host, port: Int(hp.port)).wait()
            } catch {
                throw StartError(description: "\(hp): cannot bind: \(error)")
            }
            boundPort = channel.localAddress?.port.map { UInt16($0) }
        }
        accepting.server = self
    }

    static func isListening(unixPath path: String) -> Bool {
        guard let fd = try? UnixSocket.connect(path) else { return false }
        close(fd)
        return true
    }

    /// Accepts connections until `stop()`.
    public func start() {
        channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    public func stop() {
        try? channel.close().wait()
        if case .unix(let path) = endpoint { unlink(path) }
    }

    /// The handler threads every server of this process shares: how many, how many run a
    /// handler now, how many handlers wait for one.
    public static var handlerLoad: (threads: Int, busy: Int, waiting: Int) {
        let load = HandlerPool.shared.load
        return (HandlerPool.shared.threads, load.busy, load.waiting)
    }

    /// Connections open now (for tests and metrics).
    public var openConnections: Int { open.withLock { $0.total } }

    /// This server's connection handlers still in memory: closed ones must go.
    var connectionsInMemory: Int { handlers.value.load(ordering: .relaxed) }
    fileprivate let handlers = HandlerCount()

    /// Counts a new connection in, or refuses it past a bound.
    fileprivate func admit(_ channel: any Channel, peer: Peer) -> EventLoopFuture<Void> {
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
            if security != nil { return channel.close() }
            let busy = HTTPResponse.error(status: 503, code: "too_many_connections",
                                          message: "too many connections open (\(limits.connections) in all, \(limits.connectionsPerPeer) per user or address): close some and retry")
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(Refusal(answer: busy.serialized(keepAlive: false)))
            }
        }
        channel.closeFuture.whenComplete { [self] _ in release(key) }
        let connection = Connection(peer: peer, handler: handler, limits: limits, security: security, count: handlers)
        return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
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

    fileprivate func peer(of channel: any Channel) -> EventLoopFuture<Peer> {
        switch endpoint {
        case .unix:
            guard let provider = channel as? any SocketOptionProvider else {
                return channel.eventLoop.makeSucceededFuture(.local(uid: .max, gid: .max, pid: 0))
            }
            return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
                .map { (cred: PeerCredentials) in Peer.local(uid: cred.uid, gid: cred.gid, pid: cred.pid) }
                .recover { _ in .local(uid: .max, gid: .max, pid: 0) }
        case .tcp:
            return channel.eventLoop.makeSucceededFuture(.remote(address: channel.remoteAddress?.ipAddress ?? "unknown"))
        }
    }
}

/// `struct ucred` as SO_PEERCRED fills it (Swift's Glibc leaves the type out).
private struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = .max
    var gid: UInt32 = .max
}

/// A connection past a bound: answered once it is active, then closed.
private final class Refusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let answer: [UInt8]
    private var sent = false

    init(answer: [UInt8]) { self.answer = answer }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context) }
    }

    func channelActive(context: ChannelHandlerContext) { send(context) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func send(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: answer))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }
}

/// Hands new connections to their server (set once it is bound).
private final class Admission: @unchecked Sendable {
    weak var server: SocketServer?

    func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let server else { return channel.close() }
        return server.peer(of: channel).flatMap { server.admit(channel, peer: $0) }
    }
}

/// One client connection, on its channel's event loop: reads requests, hands them to the
/// handler pool, writes the responses in request order.
///
/// Nothing a client does can hold a thread: responses are written without blocking, the
/// connection stops reading while 64 requests wait for answers or 1 MiB of answers waits for
/// the client (backpressure), a request must arrive whole within the request timeout, and a
/// connection idle — or not taking its answers — for the idle timeout is closed. Between
/// events it costs nothing: it sleeps until its socket, an answer or its next deadline.
final class Connection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxOutstanding = 64
    static let maxPendingOutput = 1 << 20

    let peer: Peer
    let handler: any HTTPHandler
    let limits: SocketServer.Limits
    let securityFactory: ConnectionSecurityFactory?
    let lane = HandlerPool.Lane()

    private var security: (any ConnectionSecurity)?
    private var parser = HTTPRequestParser()
    private var sequence = 0
    private var nextToWrite = 0
    private var responses: [Int: (HTTPResponse, Bool)] = [:]
    /// Requests handed to the handler and not answered yet.
    private var outstanding = 0
    /// The client may send more requests (its side open, no error, no `Connection: close`).
    private var reading = true
    /// An answer that ends the connection was written: nothing more is.
    private var closing = false
    private var closed = false
    /// A streaming answer's producer runs (on a thread of its own).
    private var streaming = false
    /// Bytes written and not yet taken by the socket.
    private var unwritten = 0
    /// When the request now arriving began (its first byte), for the request timeout.
    private var requestStarted: NIODeadline?
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var context: ChannelHandlerContext!

    /// Its server's count of connection handlers in memory (a test's check that closed
    /// connections are freed).
    private let count: HandlerCount

    init(peer: Peer, handler: any HTTPHandler, limits: SocketServer.Limits, security: ConnectionSecurityFactory?, count: HandlerCount) {
        self.peer = peer
        self.handler = handler
        self.limits = limits
        self.securityFactory = security
        self.count = count
        count.value.add(1, ordering: .relaxed)
    }

    deinit { count.value.subtract(1, ordering: .relaxed) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { activate(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    /// The context holds this handler and this handler its context: the cycle is broken here,
    /// or every connection would stay in memory after it closed.
    func handlerRemoved(context: ChannelHandlerContext) {
        closed = true
        timer?.cancel()
        timer = nil
        security = nil
        self.context = nil
    }

    private var activated = false

    private func activate(_ context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        if let securityFactory {
            // Made on this loop's thread, the one thread that ever uses it. A server checks no
            // peer address: no descriptor is given.
            do { security = try securityFactory(-1) } catch { return close() }
        }
        lastActivity = .now()
        context.read()
        armTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        timer?.cancel()
        timer = nil
        // Released on this thread, which made it.
        security = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard reading, !closed else { return }
        let buffer = unwrapInboundIn(data)
        lastActivity = .now()
        // The request timeout runs from the first byte, handshake included.
        if requestStarted == nil { requestStarted = lastActivity }
        if let security {
            let plain: [UInt8]
            do {
                plain = try security.receive(Array(buffer.readableBytesView))
            } catch {
                return close()
            }
            sendSealed()
            plain.withUnsafeBytes { parser.append($0) }
        } else {
            buffer.withUnsafeReadableBytes { parser.append($0) }
        }
        parse()
        armTimer()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        readMoreIfRoom()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        readMoreIfRoom()
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client sent all it will: what it asked is still answered.
            reading = false
            requestStarted = nil
            finishIfDone()
            armTimer()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close()
    }

    private func readMoreIfRoom() {
        guard !closed, reading, !closing, outstanding < Self.maxOutstanding, context.channel.isWritable else { return }
        context.read()
    }

    private func parse() {
        while reading {
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
                refuse(response)
                return
            }
            guard let request else { return }
            requestStarted = parser.hasPartialRequest ? .now() : nil
            let keepAlive = request.header("connection")?.lowercased() != "close"
            let slot = sequence
            sequence += 1
            outstanding += 1
            let answer = NIOLoopBound(self, eventLoop: context.eventLoop)
            let (handler, peer) = (handler, peer)
            lane.enqueue {
                handler.handle(request, peer: peer) { response in
                    answer.eventLoop.execute { answer.value.deliver(slot, response, keepAlive: keepAlive) }
                }
            }
            if !keepAlive { reading = false }
        }
    }

    /// Answers the request now arriving with an error and reads nothing more.
    private func refuse(_ response: HTTPResponse) {
        outstanding += 1
        let slot = sequence
        sequence += 1
        reading = false
        requestStarted = nil
        deliver(slot, response, keepAlive: false)
    }

    /// Queues a response in order and writes those whose turn has come.
    private func deliver(_ slot: Int, _ response: HTTPResponse, keepAlive: Bool) {
        outstanding -= 1
        guard !closed else { return }
        responses[slot] = (response, keepAlive)
        while !closing, !closed, let (r, keep) = responses.removeValue(forKey: nextToWrite) {
            nextToWrite += 1
            write(r.serialized(keepAlive: keep))
            if let stream = r.stream {
                closing = true
                if !closed { startStream(stream) }
            } else if !keep {
                closing = true
            }
        }
        // A failed write (TLS) may have closed it.
        guard !closed else { return }
        context.flush()
        finishIfDone()
        readMoreIfRoom()
        armTimer()
    }

    private func write(_ bytes: [UInt8], then done: (@Sendable (Bool) -> Void)? = nil) {
        guard !closed else { done?(false); return }
        if let security {
            do { try security.send(bytes) } catch { done?(false); return close() }
            sendSealed(then: done)
        } else {
            writeRaw(bytes, then: done)
        }
    }

    /// What the TLS session has to send (a handshake's answer, sealed records).
    private func sendSealed(then done: (@Sendable (Bool) -> Void)? = nil) {
        guard let security else { return }
        let wire = security.takeOutput()
        if wire.isEmpty {
            done?(true)
        } else {
            writeRaw(wire, then: done)
        }
    }

    private func writeRaw(_ bytes: [UInt8], then done: (@Sendable (Bool) -> Void)?) {
        unwritten += bytes.count
        let promise = context.eventLoop.makePromise(of: Void.self)
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let count = bytes.count
        promise.futureResult.whenComplete { result in
            let c = me.value
            c.unwritten -= count
            if case .success = result { c.lastActivity = .now() }
            done?({ if case .success = result { return true } else { return false } }())
            c.finishIfDone()
            c.armTimer()
        }
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: promise)
    }

    /// A streaming answer: its producer runs on a thread of its own, each chunk waiting (at
    /// most the idle timeout) until the socket took the one before; the connection closes
    /// when the producer returns or the client stops reading.
    private func startStream(_ stream: @escaping @Sendable (ResponseStream) -> Void) {
        streaming = true
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let timeout = limits.idleTimeout
        let thread = Thread {
            @Sendable func send(_ bytes: [UInt8]) -> Bool {
                let done = DispatchSemaphore(value: 0)
                let ok = Mutex(false)
                loop.execute {
                    me.value.write(bytes) { written in
                        ok.withLock { $0 = written }
                        done.signal()
                    }
                    if !me.value.closed { me.value.context.flush() }
                }
                guard done.wait(timeout: .now() + timeout) == .success else {
                    loop.execute { me.value.close() }
                    return false
                }
                return ok.withLock { $0 }
            }
            stream(ResponseStream { bytes in
                send(Array(String(bytes.count, radix: 16).utf8) + [0x0D, 0x0A] + bytes + [0x0D, 0x0A])
            })
            _ = send(Array("0\r\n\r\n".utf8))
            loop.execute {
                me.value.streaming = false
                me.value.finishIfDone()
            }
        }
        thread.name = "stream"
        thread.start()
    }

    /// Closes once nothing more will be read and everything owed is written.
    private func finishIfDone() {
        guard !closed, !streaming, unwritten == 0 else { return }
        if closing || (!reading && outstanding == 0) { close() }
    }

    private func close() {
        guard !closed else { return }
        closed = true
        timer?.cancel()
        timer = nil
        context.close(promise: nil)
    }

    /// The next moment something is due: the request now arriving must be whole, an idle
    /// connection (or one whose client takes none of its answers) is closed.
    private var deadline: NIODeadline? {
        var due: NIODeadline?
        if reading, let started = requestStarted { due = started + .milliseconds(Int64(limits.requestTimeout * 1000)) }
        let idle = reading && outstanding == 0 && unwritten == 0 && requestStarted == nil && !streaming
        if idle || unwritten > 0 && !streaming {
            let d = lastActivity + .milliseconds(Int64(min(limits.idleTimeout, 3_600) * 1000))
            due = due.map { min($0, d) } ?? d
        }
        return due
    }

    private func armTimer() {
        guard !closed else { return }
        guard let due = deadline else { return }
        if let current = timerDeadline, timer != nil, current <= due { return }
        timer?.cancel()
        timerDeadline = due
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) { me.value.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard !closed else { return }
        let now = NIODeadline.now()
        if reading, let started = requestStarted, now >= started + .milliseconds(Int64(limits.requestTimeout * 1000)) {
            refuse(.error(status: 408, code: "request_timeout",
                          message: "the request did not arrive whole within \(Int(limits.requestTimeout)) s"))
            return
        }
        if let due = deadline, now >= due {
            // Idle, or a client that stopped taking its answers: gone.
            return close()
        }
        armTimer()
    }
}

/// Connection handlers alive, per server.
final class HandlerCount: Sendable {
    let value = Atomic<Int>(0)
}
