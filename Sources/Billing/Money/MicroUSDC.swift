/// An amount of USDC in micro-units (10⁻⁶ USDC, the token's own 6 decimals).
///
/// Money never touches floating point: amounts are `Int64` and every operation that could
/// overflow says so instead of wrapping.
public struct MicroUSDC: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var units: Int64

    public static let perUSDC: Int64 = 1_000_000
    public static let zero = MicroUSDC(units: 0)

    public init(units: Int64) { self.units = units }

    /// Parses a decimal amount such as `"12.5"` or `"-0.000001"`; more than 6 decimals is an error.
    public init?(parsing text: String) {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let wholeText = parts.first, !wholeText.isEmpty,
              wholeText.allSatisfy(\.isASCIIDigit), let whole = Int64(wholeText) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 6, f.allSatisfy(\.isASCIIDigit), let digits = Int64(f) else { return nil }
            fraction = digits
            for _ in f.count..<6 { fraction *= 10 }
        }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: Self.perUSDC)
        let (sum, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2 else { return nil }
        units = negative ? -sum : sum
    }

    /// `"12.500000"`: always six decimals, so amounts line up in tables and round-trip exactly.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(Self.perUSDC)
        let fraction = String(magnitude % UInt64(Self.perUSDC))
        let padded = String(repeating: "0", count: 6 - fraction.count) + fraction
        return (units < 0 ? "-" : "") + "\(whole).\(padded)"
    }

    public static func < (a: MicroUSDC, b: MicroUSDC) -> Bool { a.units < b.units }

    // Encoded as the exact decimal text (`"12.500000"`): readable, and no JSON reader rounds it.
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = MicroUSDC(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an amount of USDC: \(text)"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Sum, or nil on overflow.
    public func adding(_ other: MicroUSDC) -> MicroUSDC? {
        let (v, o) = units.addingReportingOverflow(other.units)
        return o ? nil : MicroUSDC(units: v)
    }

    /// Difference, or nil on overflow.
    public func subtracting(_ other: MicroUSDC) -> MicroUSDC? {
        let (v, o) = units.subtractingReportingOverflow(other.units)
        return o ? nil : MicroUSDC(units: v)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
