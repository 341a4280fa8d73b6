/// Signs settlements as EIP-712 typed data for the escrow contract, and checks signatures.
///
/// The typed struct (its field list is the contract's ABI; changing it changes every digest):
/// `Settlement(bytes32 settlementId,bytes32 escrowId,uint256 jobId,address payer,address provider,
/// uint256 escrowAmount,uint256 cost,uint256 providerPayout,uint256 platformFee,uint256 userRefund,
/// uint256 userReward,uint256 providerReward,uint64 endTime)`; amounts in micro-USDC and CPT
/// base units.
public struct SettlementSigner: Sendable {
    public let domain: EIP712.Domain
    public let signer: Secp256k1Signer
    private let domainSeparator: [UInt8]

    public init(domain: EIP712.Domain, signer: Secp256k1Signer) {
        self.domain = domain
        self.signer = signer
        domainSeparator = domain.separator
    }

    public static func typedStruct(_ s: Settlement) -> EIP712.Struct {
        EIP712.Struct(name: "Settlement", fields: [
            ("settlementId", .bytes32(HexBytes.decode(s.id, length: 32) ?? [UInt8](repeating: 0, count: 32))),
            ("escrowId", .bytes32(HexBytes.decode(s.escrowID, length: 32) ?? [UInt8](repeating: 0, count: 32))),
            ("jobId", .uint256(UInt128(s.jobID))),
            ("payer", .address(s.payer)),
            ("provider", .address(s.provider)),
            ("escrowAmount", .uint256(UInt128(s.split.escrow.units))),
            ("cost", .uint256(UInt128(s.split.cost.units))),
            ("providerPayout", .uint256(UInt128(s.split.providerPayout.units))),
            ("platformFee", .uint256(UInt128(s.split.platformFee.units))),
            ("userRefund", .uint256(UInt128(s.split.userRefund.units))),
            ("userReward", .uint256(s.userReward?.baseUnits ?? 0)),
            ("providerReward", .uint256(s.providerReward?.baseUnits ?? 0)),
            ("endTime", .uint64(UInt64(max(s.endTime, 0)))),
        ])
    }

    public func digest(_ s: Settlement) -> [UInt8] { EIP712.digest(domainSeparator: domainSeparator, message: Self.typedStruct(s)) }

    /// Sets `digest` and `signature`. Only a settlement with its rewards is signed.
    public func sign(_ s: inout Settlement) throws {
        precondition(s.userReward != nil && s.providerReward != nil, "rewards come before the signature")
        let d = digest(s)
        s.digest = HexBytes.encode(d)
        s.signature = HexBytes.encode(try signer.sign(digest: d))
    }

    /// True when the signature recovers to the provider's address over the settlement as it is now.
    public func verify(_ s: Settlement) -> Bool {
        guard let sigText = s.signature, let sig = HexBytes.decode(sigText, length: 65) else { return false }
        return signer.recover(digest: digest(s), signature: sig) == s.provider
    }

    /// The `eth_signTypedData_v4` payload (types, primaryType, domain, message) with every value
    /// as a string: what a wallet or `eth-account` verifies against. Numbers are decimal strings
    /// because JSON numbers lose precision above 2⁵³.
    public func typedData(_ s: Settlement) -> TypedDataPayload {
        let message = Self.typedStruct(s)
        let domainStruct = domain.asStruct
        func fields(_ st: EIP712.Struct) -> [TypedDataPayload.Field] { st.fields.map { .init(name: $0.name, type: $0.value.typeName) } }
        func values(_ st: EIP712.Struct) -> [String: String] {
            Dictionary(uniqueKeysWithValues: st.fields.map { f in
                switch f.value {
                case .string(let v): (f.name, v)
                case .bytes32(let b): (f.name, HexBytes.encode(b))
                case .address(let a): (f.name, a.checksummed)
                case .uint256(let v): (f.name, String(v))
                case .uint64(let v): (f.name, String(v))
                case .struct(let inner): (f.name, HexBytes.encode(inner.hash))
                }
            })
        }
        return TypedDataPayload(types: ["EIP712Domain": fields(domainStruct), "Settlement": fields(message)],
                                primaryType: "Settlement", domain: values(domainStruct), message: values(message))
    }
}

/// EIP-712 typed data in the JSON shape wallets use.
public struct TypedDataPayload: Sendable, Hashable, Codable {
    public struct Field: Sendable, Hashable, Codable {
        public var name: String
        public var type: String
    }
    public var types: [String: [Field]]
    public var primaryType: String
    public var domain: [String: String]
    public var message: [String: String]
}
