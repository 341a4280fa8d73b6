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

    /// The struct's fields in order with their EIP-712 types: the escrow contract's ABI.
    static let fieldTypes: [(name: String, type: String)] = [
        ("settlementId", "bytes32"), ("escrowId", "bytes32"), ("jobId", "uint256"), ("payer", "address"),
        ("provider", "address"), ("escrowAmount", "uint256"), ("cost", "uint256"), ("providerPayout", "uint256"),
        ("platformFee", "uint256"), ("userRefund", "uint256"), ("userReward", "uint256"), ("providerReward", "uint256"),
        ("endTime", "uint64"),
    ]

    /// `keccak256` of the type string: the same for every settlement, so computed once.
    static let typeHash = Keccak256.hash(Array(("Settlement(" + fieldTypes.map { "\($0.type) \($0.name)" }.joined(separator: ",") + ")").utf8))

    /// The settlement's values, in the order of `fieldTypes`.
    static func values(_ s: Settlement) -> [EIP712.Value] {
        let zero = [UInt8](repeating: 0, count: 32)
        return [
            .bytes32(HexBytes.decode(s.id, length: 32) ?? zero),
            .bytes32(HexBytes.decode(s.escrowID, length: 32) ?? zero),
            .uint256(UInt128(s.jobID)),
            .address(s.payer),
            .address(s.provider),
            .uint256(UInt128(s.split.escrow.units)),
            .uint256(UInt128(s.split.cost.units)),
            .uint256(UInt128(s.split.providerPayout.units)),
            .uint256(UInt128(s.split.platformFee.units)),
            .uint256(UInt128(s.split.userRefund.units)),
            .uint256(s.userReward?.baseUnits ?? 0),
            .uint256(s.providerReward?.baseUnits ?? 0),
            .uint64(UInt64(max(s.endTime, 0))),
        ]
    }

    public static func typedStruct(_ s: Settlement) -> EIP712.Struct {
        EIP712.Struct(name: "Settlement", fields: zip(fieldTypes, values(s)).map { ($0.name, $1) })
    }

    /// With the type hash computed once (see `typeHash`): the digest each marketplace job's end
    /// signs.
    public func digest(_ s: Settlement) -> [UInt8] {
        EIP712.digest(domainSeparator: domainSeparator, messageHash: Self.typedStruct(s).hash(typeHash: Self.typeHash))
    }

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
