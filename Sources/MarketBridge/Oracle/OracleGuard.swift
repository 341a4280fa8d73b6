/// A CPT/USD price as one configured source reported it.
public struct OracleReading: Sendable, Hashable, Codable {
    public var source: String
    /// USD per CPT with 8 decimals.
    public var priceE8: UInt64
    /// When the source observed it (seconds since the epoch).
    public var time: Int

    public init(source: String, priceE8: UInt64, time: Int) {
        self.source = source
        self.priceE8 = priceE8
        self.time = time
    }
}

/// Decides whether the oracle prices can be used for rewards, and which price: a reading older
/// than `maxAge`, or further than `maxDeviation` from the median of the configured sources'
/// fresh readings, is refused; the price used is the median of those accepted. When nothing
/// is accepted, settlements wait for a good price rather than use a bad one.
public struct OracleGuard: Sendable, Hashable, Codable {
    public var sources: [String]
    public var maxAge: Int
    /// In basis points of the median (10% = 1000).
    public var maxDeviationBasisPoints: Int64

    public init(sources: [String], maxAge: Int = 3600, maxDeviationBasisPoints: Int64 = 1000) {
        self.sources = sources
        self.maxAge = maxAge
        self.maxDeviationBasisPoints = maxDeviationBasisPoints
    }

    public enum Verdict: Sendable, Hashable {
        case accepted(priceE8: UInt64, sources: [String])
        case refused(String)
    }

    public func evaluate(_ readings: [OracleReading], now: Int) -> Verdict {
        let latest = Dictionary(readings.filter { sources.contains($0.source) && $0.priceE8 > 0 }.map { ($0.source, $0) },
                                uniquingKeysWith: { $0.time >= $1.time ? $0 : $1 })
        guard !latest.isEmpty else { return .refused("no price from any configured source (\(sources.joined(separator: ", ")))") }
        let fresh = latest.values.filter { now - $0.time <= maxAge && $0.time <= now + 60 }
        guard !fresh.isEmpty else { return .refused("every price is older than \(maxAge) s") }
        let median = Self.median(fresh.map(\.priceE8))
        let accepted = fresh.filter {
            let distance = UInt128($0.priceE8 > median ? $0.priceE8 - median : median - $0.priceE8)
            return distance * 10_000 <= UInt128(median) * UInt128(maxDeviationBasisPoints)
        }
        guard !accepted.isEmpty else {
            return .refused("every fresh price is more than \(maxDeviationBasisPoints / 100)% from their median")
        }
        return .accepted(priceE8: Self.median(accepted.map(\.priceE8)), sources: accepted.map(\.source).sorted())
    }

    /// The middle value; for an even count the mean of the two middle ones, rounded down.
    static func median(_ values: [UInt64]) -> UInt64 {
        let s = values.sorted()
        if s.count % 2 == 1 { return s[s.count / 2] }
        let a = s[s.count / 2 - 1], b = s[s.count / 2]
        return a + (b - a) / 2
    }
}
