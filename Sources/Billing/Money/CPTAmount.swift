/// An amount of CPT in base units (10⁻¹⁸ CPT, the token's 18 decimals).
///
/// `UInt128` because 18 decimals overflow 64 bits at 18.4 CPT; rewards are never negative.
public struct CPTAmount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var baseUnits: UInt128

    public static let decimals = 18
    public static let zero = CPTAmount(baseUnits: 0)

    public init(baseUnits: UInt128) { self.baseUnits = baseUnits }

    /// `"1.250000000000000000"`: all 18 decimals, so amounts round-trip exactly.
    public var description: String {
        let scale: UInt128 = 1_000_000_000_000_000_000
        let fraction = String(baseUnits % scale)
        return "\(baseUnits / scale)." + String(repeating: "0", count: Self.decimals - fraction.count) + fraction
    }

    public static func < (a: CPTAmount, b: CPTAmount) -> Bool { a.baseUnits < b.baseUnits }

    // Encoded as a decimal string of base units: JSON numbers lose precision past 2^53.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = UInt128(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a CPT base-unit amount: \(text)"))
        }
        baseUnits = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(String(baseUnits))
    }
}
