/// EIP-712 typed structured data: the hashing that lets a contract (or `eth-account`) verify a
/// signature over named, typed fields instead of over opaque bytes.
///
/// Only the field types settlements use are supported: `string`, `bytes32`, `address`,
/// `uint256` and `uint64` (values up to 2¹²⁸, which every amount here fits in).
public enum EIP712 {
    public indirect enum Value: Sendable, Hashable {
        case string(String)
        case bytes32([UInt8])
        case address(EthereumAddress)
        case uint256(UInt128)
        case uint64(UInt64)
        /// A nested struct, encoded as its `hashStruct`.
        case `struct`(Struct)

        var typeName: String {
            switch self {
            case .string: "string"
            case .bytes32: "bytes32"
            case .address: "address"
            case .uint256: "uint256"
            case .uint64: "uint64"
            case .struct(let s): s.name
            }
        }

        /// The 32-byte word `encodeData` puts in place of the value.
        var encoded: [UInt8] {
            var out: [UInt8] = []
            appendWord(to: &out)
            return out
        }

        /// Appends that word (numbers written in place, without an array of their own).
        func appendWord(to out: inout [UInt8]) {
            switch self {
            case .string(let s): out += Keccak256.hash(Array(s.utf8))
            case .bytes32(let b): out += b
            case .address(let a):
                out.append(contentsOf: repeatElement(0, count: 12))
                out += a.bytes
            case .uint256(let v): Self.appendWord(v, to: &out)
            case .uint64(let v): Self.appendWord(UInt128(v), to: &out)
            case .struct(let s): out += s.hash
            }
        }

        static func appendWord(_ v: UInt128, to out: inout [UInt8]) {
            out.append(contentsOf: repeatElement(0, count: 16))
            for i in (0..<16).reversed() { out.append(UInt8(truncatingIfNeeded: v >> UInt128(8 * i))) }
        }
    }

    /// A struct instance: its type name and its fields in declaration order.
    public struct Struct: Sendable, Hashable {
        public var name: String
        public var fields: [(name: String, value: Value)]

        public init(name: String, fields: [(name: String, value: Value)]) {
            self.name = name
            self.fields = fields
        }

        /// `Name(type1 field1,type2 field2)`, followed by the struct types it refers to, sorted by name.
        public var encodedType: String {
            var referenced: [String: String] = [:]
            collectReferences(into: &referenced)
            return ownType + referenced.keys.sorted().map { referenced[$0]! }.joined()
        }

        var ownType: String { "\(name)(" + fields.map { "\($0.value.typeName) \($0.name)" }.joined(separator: ",") + ")" }

        private func collectReferences(into types: inout [String: String]) {
            for f in fields {
                if case .struct(let inner) = f.value, types[inner.name] == nil {
                    types[inner.name] = inner.ownType
                    inner.collectReferences(into: &types)
                }
            }
        }

        public var typeHash: [UInt8] { Keccak256.hash(Array(encodedType.utf8)) }

        /// `keccak256(typeHash ‖ encodeData(fields))`.
        public var hash: [UInt8] { hash(typeHash: typeHash) }

        /// The same with the type's hash known already (it is fixed for a type: a signer of many
        /// instances of one type computes it once).
        public func hash(typeHash: [UInt8]) -> [UInt8] {
            var data = typeHash
            data.reserveCapacity(32 * (fields.count + 1))
            for f in fields { f.value.appendWord(to: &data) }
            return Keccak256.hash(data)
        }

        public static func == (a: Struct, b: Struct) -> Bool { a.name == b.name && a.hash == b.hash }
        public func hash(into h: inout Hasher) { h.combine(hash) }
    }

    /// The signing domain: which contract on which chain a signature is good for.
    public struct Domain: Sendable, Hashable, Codable {
        public var name: String
        public var version: String
        public var chainID: UInt64
        public var verifyingContract: EthereumAddress

        public init(name: String, version: String, chainID: UInt64, verifyingContract: EthereumAddress) {
            self.name = name
            self.version = version
            self.chainID = chainID
            self.verifyingContract = verifyingContract
        }

        public var asStruct: Struct {
            Struct(name: "EIP712Domain", fields: [("name", .string(name)), ("version", .string(version)),
                                                  ("chainId", .uint256(UInt128(chainID))),
                                                  ("verifyingContract", .address(verifyingContract))])
        }

        public var separator: [UInt8] { asStruct.hash }
    }

    /// The digest a wallet signs: `keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))`.
    public static func digest(domain: Domain, message: Struct) -> [UInt8] {
        digest(domainSeparator: domain.separator, message: message)
    }

    /// The same with the separator computed once (it is fixed for a signer's lifetime).
    public static func digest(domainSeparator: [UInt8], message: Struct) -> [UInt8] {
        digest(domainSeparator: domainSeparator, messageHash: message.hash)
    }

    /// The same from the message's `hashStruct`.
    public static func digest(domainSeparator: [UInt8], messageHash: [UInt8]) -> [UInt8] {
        Keccak256.hash([0x19, 0x01] + domainSeparator + messageHash)
    }
}
