import ChessAPI
import NIOCore
import NIOSSL

/// chessd's side: its certificate chain and private key (`[tls]` in the configuration). The
/// key file is read under the same rules as every key (root's, closed to group and others).
public struct TLSServerIdentity: Sendable {
    let context: NIOSSLContext

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(certificate: String, privateKey: String) throws(Failure) {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate)
            guard !chain.isEmpty else { throw Failure(description: "\(certificate): no PEM certificate in it") }
            let keyBytes = try KeyFile.read(privateKey, what: "the TLS private key")
            let key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                         privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            context = try NIOSSLContext(configuration: configuration)
        } catch let e as Failure {
            throw e
        } catch let e as KeyFile.Refusal {
            throw Failure(description: e.description)
        } catch {
            throw Failure(description: "TLS certificate \(certificate) or key \(privateKey): \(error)")
        }
    }

    /// A session for each accepted connection, made on the connection's own thread.
    public var factory: ConnectionSecurityFactory {
        let context = context
        return { socket in
            try TLSSession(handler: NIOSSLServerHandler(context: context), remote: TLSSession.peerAddress(of: socket))
        }
    }
}

/// An agent's (or any client's) side: the CA bundle that chessd's certificate must chain to,
/// and the name it must carry (default: the host the client dials; an IP address is checked
/// against the certificate's IP entries).
public struct TLSClientTrust: Sendable {
    let context: NIOSSLContext
    let serverName: String?

    public init(caFile: String, serverName: String?) throws(TLSServerIdentity.Failure) {
        do {
            let roots = try NIOSSLCertificate.fromPEMFile(caFile)
            guard !roots.isEmpty else { throw TLSServerIdentity.Failure(description: "\(caFile): no PEM certificate in it") }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .fullVerification
            configuration.minimumTLSVersion = .tlsv12
            context = try NIOSSLContext(configuration: configuration)
        } catch let e as TLSServerIdentity.Failure {
            throw e
        } catch {
            throw TLSServerIdentity.Failure(description: "TLS CA file \(caFile): \(error)")
        }
        self.serverName = serverName
    }

    /// Sessions for connections to `host` (a name is checked against the certificate's DNS
    /// names; an IP address, against its IP entries).
    public func factory(host: String) -> ConnectionSecurityFactory {
        let context = context
        let name = serverName ?? host
        // SNI and the name check take names only; an address is checked against the peer's.
        let isAddress = (try? SocketAddress(ipAddress: name, port: 0)) != nil
        return { socket in
            try TLSSession(handler: NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : name),
                           remote: TLSSession.peerAddress(of: socket))
        }
    }
}
