import CSecp256k1

/// The provider's signing key, through Debian's libsecp256k1: deterministic (RFC 6979) ECDSA
/// signatures in Ethereum's `r ‖ s ‖ v` form, so that signing the same settlement again gives
/// the same bytes.
public final class Secp256k1Signer: @unchecked Sendable {
    // libsecp256k1 contexts are safe to share once created (the library's documentation): signing
    // and verification do not mutate them.
    private let context: OpaquePointer
    private let secretKey: [UInt8]
    public let address: EthereumAddress

    public enum Failure: Error, CustomStringConvertible {
        case invalidKey
        case signingFailed
        public var description: String {
            switch self {
            case .invalidKey: "not a valid secp256k1 private key (32 bytes, below the curve order, not zero)"
            case .signingFailed: "libsecp256k1 could not sign"
            }
        }
    }

    public init(privateKey: [UInt8]) throws(Failure) {
        guard privateKey.count == 32, let ctx = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY)) else {
            throw .invalidKey
        }
        guard secp256k1_ec_seckey_verify(ctx, privateKey) == 1 else {
            secp256k1_context_destroy(ctx)
            throw .invalidKey
        }
        var pubkey = secp256k1_pubkey()
        _ = secp256k1_ec_pubkey_create(ctx, &pubkey, privateKey)
        context = ctx
        secretKey = privateKey
        address = Self.address(of: pubkey, context: ctx)
    }

    /// A key file holds the key as hex (`0x` optional), alone on its line.
    public convenience init(hexKey: String) throws(Failure) {
        guard let bytes = HexBytes.decode(hexKey, length: 32) else { throw .invalidKey }
        try self.init(privateKey: bytes)
    }

    deinit { secp256k1_context_destroy(context) }

    /// 65 bytes: r (32), s (32, low-s), v (27 or 28).
    public func sign(digest: [UInt8]) throws(Failure) -> [UInt8] {
        precondition(digest.count == 32, "a digest is 32 bytes")
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_sign_recoverable(context, &sig, digest, secretKey, nil, nil) == 1 else { throw .signingFailed }
        var out = [UInt8](repeating: 0, count: 64)
        var recid: Int32 = 0
        _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(context, &out, &recid, &sig)
        return out + [UInt8(27 + recid)]
    }

    /// The address that signed `digest`, or nil if the signature is malformed.
    public func recover(digest: [UInt8], signature: [UInt8]) -> EthereumAddress? {
        guard digest.count == 32, signature.count == 65, signature[64] == 27 || signature[64] == 28 else { return nil }
        var sig = secp256k1_ecdsa_recoverable_signature()
        guard secp256k1_ecdsa_recoverable_signature_parse_compact(context, &sig, Array(signature[0..<64]),
                                                                  Int32(signature[64]) - 27) == 1 else { return nil }
        var pubkey = secp256k1_pubkey()
        guard secp256k1_ecdsa_recover(context, &pubkey, &sig, digest) == 1 else { return nil }
        return Self.address(of: pubkey, context: context)
    }

    /// The last 20 bytes of keccak256 of the uncompressed public key without its 0x04 prefix.
    private static func address(of pubkey: secp256k1_pubkey, context: OpaquePointer) -> EthereumAddress {
        var key = pubkey
        var out = [UInt8](repeating: 0, count: 65)
        var length = 65
        _ = secp256k1_ec_pubkey_serialize(context, &out, &length, &key, UInt32(SECP256K1_EC_UNCOMPRESSED))
        return EthereumAddress(bytes: Array(Keccak256.hash(out[1..<65]).suffix(20)))!
    }
}
