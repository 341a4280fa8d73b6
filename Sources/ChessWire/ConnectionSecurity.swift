/// One connection's encryption (TLS), driven by the thread that owns the connection. The
/// socket stays the owner's: bytes read from it go through `receive`, application bytes to
/// send go through `send`, and `takeOutput` says what to put on the wire (handshake messages
/// and sealed records).
///
/// A protocol here, implemented in `TransportSecurity` (swift-nio-ssl), so that `chessctl`,
/// which speaks only to the Unix socket, does not link a TLS library.
public protocol ConnectionSecurity: AnyObject {
    /// Bytes read from the peer; the application bytes they carried (none during the handshake).
    /// Throws when the peer's certificate or records are refused: the connection must close.
    func receive(_ bytes: [UInt8]) throws -> [UInt8]
    /// Application bytes to send; sealed once the handshake is done (held until then).
    func send(_ bytes: [UInt8]) throws
    /// What to write to the socket now; empties it.
    func takeOutput() -> [UInt8]
}

/// Makes the security of a new connection, on the thread that will drive it; `socket` is the
/// connected descriptor (for the peer's address, which a certificate for an IP address is
/// checked against).
public typealias ConnectionSecurityFactory = @Sendable (_ socket: Int32) throws -> any ConnectionSecurity
