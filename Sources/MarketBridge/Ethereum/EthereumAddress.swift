/// A 20-byte Ethereum account address.
public struct EthereumAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public let bytes: [UInt8]
    /// EIP-55 mixed-case checksum form. Computed once (a keccak-256): addresses are written
    /// with every save of a marketplace job's record.
    public let checksummed: String

    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
        checksummed = Self.checksum(bytes)
    }

    /// `0x` + 40 hex digits, any case. A mixed-case address must carry a valid EIP-55 checksum
    /// (that is what mixed case is for: catching a mistyped address before money goes to it).
    public init?(_ text: String) {
        guard let b = HexBytes.decode(text, length: 20) else { return nil }
        bytes = b
        checksummed = Self.checksum(b)
        let digits = text.trimmingWhitespace.dropFirst(text.trimmingWhitespace.hasPrefix("0x") ? 2 : 0)
        let hasUpper = digits.contains { $0.isUppercase }, hasLower = digits.contains { $0.isLowercase }
        if hasUpper && hasLower && String(checksummed.dropFirst(2)) != String(digits) { return nil }
    }

    private static func checksum(_ bytes: [UInt8]) -> String {
        let lower = String(HexBytes.encode(bytes).dropFirst(2))
        let hash = Keccak256.hash(Array(lower.utf8))
        var out = "0x"
        for (i, c) in lower.enumerated() {
            let nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f
            out.append(c.isLetter && nibble >= 8 ? Character(c.uppercased()) : c)
        }
        return out
    }

    public var description: String { checksummed }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let a = EthereumAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an Ethereum address: \(text)"))
        }
        self = a
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(checksummed)
    }
}
