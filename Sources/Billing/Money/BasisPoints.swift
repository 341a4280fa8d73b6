/// A fraction in basis points (1/100 of a percent): how fees, discounts, buffers and reward
/// rates are held, so that no percentage is ever a floating-point number.
public struct BasisPoints: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    /// `"3"` → 300, `"2.5"` → 250, `"0.01"` → 1; more than two decimals is an error.
    public init?(percent text: String) {
        guard let amount = MicroUSDC(parsing: text), amount.units >= 0, amount.units % 10_000 == 0 else { return nil }
        value = amount.units / 10_000
    }

    public static func percent(_ p: Int64) -> BasisPoints { BasisPoints(p * 100) }

    /// `"3%"`, `"2.5%"`.
    public var description: String {
        let whole = value / 100, rest = value % 100
        if rest == 0 { return "\(whole)%" }
        return rest % 10 == 0 ? "\(whole).\(rest / 10)%" : "\(whole).\(rest < 10 ? "0" : "")\(rest)%"
    }

    /// `amount × self`, rounded down.
    public func of(_ amount: MicroUSDC) -> MicroUSDC {
        MicroUSDC(units: Int64(Int128(amount.units) * Int128(value) / 10_000))
    }

    public static func < (a: BasisPoints, b: BasisPoints) -> Bool { a.value < b.value }

    // Encoded as text with its percent sign (`"2.5%"`), read back with or without it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) { self.init(n * 100); return }
        var text = try c.decode(String.self)
        if text.hasSuffix("%") { text.removeLast() }
        guard let v = BasisPoints(percent: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a percentage: \(text)"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
