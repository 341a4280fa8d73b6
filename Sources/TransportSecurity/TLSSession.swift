import ChessAPI
import Glibc
import NIOCore
import NIOEmbedded
import NIOSSL

/// TLS for one connection on a blocking or poll-driven socket: swift-nio-ssl's handler in an
/// `EmbeddedChannel`, fed the bytes the owner reads and drained of the bytes it must write.
///
/// The channel is NIO's in-memory one, which must be used and released on the thread that made
/// it: the owner of the connection makes the session (through a `ConnectionSecurityFactory`)
/// on the thread that drives the socket, and drops it there.
public final class TLSSession: ConnectionSecurity {
    private let channel: EmbeddedChannel

    init(handler: any ChannelHandler, remote: SocketAddress) throws {
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        // Active, with the peer's address: a client checks an IP certificate against it. (No
        // `wait()` on this loop's futures: nothing would run the loop while it waits.)
        channel.connect(to: remote, promise: nil)
        channel.embeddedEventLoop.run()
        try channel.throwIfErrorCaught()
    }

    deinit {
        // Nothing scheduled may outlive the channel's loop (a close would schedule a timer).
        // (Not `finish()`: it waits for the close, which NIOSSL holds for the peer's close_notify.)
        channel.close(promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .hours(1))
        channel.embeddedEventLoop.run()
    }

    public func receive(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try channel.writeInbound(buffer)
        // NIOSSL hands on what it decrypted, and sends what it has to, at the end of a read.
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
        try channel.throwIfErrorCaught()
        var plain: [UInt8] = []
        while let b = try channel.readInbound(as: ByteBuffer.self) { plain += b.readableBytesView }
        return plain
    }

    public func send(_ bytes: [UInt8]) throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        // Not `writeOutbound`: it waits for the write, which NIOSSL holds until the handshake ends.
        channel.writeAndFlush(buffer, promise: nil)
        channel.embeddedEventLoop.run()
        try channel.throwIfErrorCaught()
    }

    public func takeOutput() -> [UInt8] {
        var out: [UInt8] = []
        while let b = try? channel.readOutbound(as: ByteBuffer.self) { out += b.readableBytesView }
        return out
    }

    /// The peer's address as NIO names it (for the client's check of an IP certificate).
    static func peerAddress(of socket: Int32) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(socket, $0, &length) == 0 }
        }
        if ok {
            switch Int32(storage.ss_family) {
            case AF_INET:
                let v4 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
                return SocketAddress(v4, host: "")
            case AF_INET6:
                let v6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
                return SocketAddress(v6, host: "")
            default: break
            }
        }
        return try! SocketAddress(ipAddress: "0.0.0.0", port: 0)
    }
}
