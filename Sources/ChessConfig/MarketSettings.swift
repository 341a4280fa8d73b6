import Billing
import ChessAPI

/// `[market]`: how this cluster sells capacity on the marketplace — the EIP-712 signing domain of
/// the escrow contract, the provider's key, the oracle sources, the API's rate limit and the
/// SLA windows. Absent: no marketplace routes, no settlements.
public struct MarketSettings: Sendable, Hashable {
    public var domainName = "CHESS Escrow"
    public var domainVersion = "1"
    public var chainID: UInt64 = 1
    /// `0x` + 40 hex digits; checked (with its EIP-55 checksum) when chessd starts.
    public var escrowContract = ""
    /// File holding the provider's secp256k1 key as hex; must not be readable by group or others.
    public var providerKeyFile = ""
    /// Local user marketplace jobs run as when a token names none.
    public var runAs = "nobody"
    /// Account marketplace jobs are charged to in fair share.
    public var account: String?
    public var oracleSources: [String] = []
    public var oracleMaxAge = 3600
    public var oracleMaxDeviation = BasisPoints.percent(10)
    public var rateLimitPerMinute = 100
    public var earlyFailureWindow = 300
    public var disputeWindow = 72 * 3600
    public var promptStart = 300

    public init() {}
}

extension DocumentReader {
    /// A money amount: a string such as `"0.05"` or a whole number of USDC. Never a float.
    func money(_ v: DocumentValue) throws -> MicroUSDC {
        switch v.raw {
        case .string(let s):
            guard let m = MicroUSDC(parsing: s), m.units >= 0 else { throw fail(v, "'\(s)' is not an amount of USDC (up to 6 decimals, not negative)") }
            return m
        case .int(let i) where i >= 0:
            guard let m = MicroUSDC(parsing: String(i)) else { throw fail(v, "too large") }
            return m
        case .double:
            throw fail(v, "write amounts as strings, such as \"0.05\": a floating-point number is not exact")
        default:
            throw fail(v, "expected an amount of USDC such as \"0.05\"")
        }
    }

    /// A percentage: `"2.5"`, `3`, or `"3%"`.
    func percent(_ v: DocumentValue, within range: ClosedRange<BasisPoints>? = nil) throws -> BasisPoints {
        let text: String
        switch v.raw {
        case .string(let s): text = s.hasSuffix("%") ? String(s.dropLast()) : s
        case .int(let i): text = String(i)
        case .double: throw fail(v, "write percentages as strings, such as \"2.5\"")
        default: throw fail(v, "expected a percentage such as \"3\" or \"2.5\"")
        }
        guard let bp = BasisPoints(percent: text) else { throw fail(v, "'\(text)' is not a percentage with at most two decimals") }
        if let range, !range.contains(bp) { throw fail(v, "\(bp) is outside the allowed \(range.lowerBound)–\(range.upperBound)") }
        return bp
    }

    /// A partition's `prices = { core_hour = "0.05", gpu_hour = "2.5", gpu_hour_by_type = { h100 = "3.5" },
    /// mem_gib_hour = "0.005", node_hour = "0.10" }`.
    func priceList(_ v: DocumentValue) throws -> PriceList {
        let o = try object(v, keys: ["core_hour", "gpu_hour", "gpu_hour_by_type", "mem_gib_hour", "node_hour"])
        var byType: [String: MicroUSDC] = [:]
        if let t = o["gpu_hour_by_type"] {
            guard case .object(let dict) = t.raw else { throw fail(t, "expected a table of GPU type = price") }
            for key in dict.keys.sorted() { byType[key] = try money(DocumentValue(dict[key]!, at: "\(t.location).\(key)")) }
        }
        return PriceList(coreHour: try o["core_hour"].map(money) ?? .zero, gpuHour: try o["gpu_hour"].map(money) ?? .zero,
                         gpuHourByType: byType, memoryGiBHour: try o["mem_gib_hour"].map(money) ?? .zero,
                         exclusiveNodeHour: try o["node_hour"].map(money) ?? .zero)
    }

    func billingPolicy(_ v: DocumentValue) throws -> BillingPolicy {
        let o = try object(v, keys: ["platform_fee", "user_reward", "provider_reward", "escrow_buffer", "discount_tiers"])
        var p = BillingPolicy()
        if let f = o["platform_fee"] { p.platformFee = try percent(f, within: BillingPolicy.feeRange) }
        if let f = o["user_reward"] { p.userReward = try percent(f, within: BillingPolicy.userRewardRange) }
        if let f = o["provider_reward"] { p.providerReward = try percent(f, within: BillingPolicy.providerRewardRange) }
        if let f = o["escrow_buffer"] { p.escrowBuffer = try percent(f, within: BasisPoints(0)...BasisPoints(100_00)) }
        if let t = o["discount_tiers"] {
            p.discountTiers = try array(t).map { try percent($0, within: BasisPoints(0)...BasisPoints(100_00)) }
            if !p.discountTiers.contains(BasisPoints(0)) { throw fail(t, "the tiers must include 0 (no staking discount)") }
        }
        return p
    }

    func marketSettings(_ v: DocumentValue) throws -> MarketSettings {
        let o = try object(v, keys: ["domain_name", "domain_version", "chain_id", "escrow_contract", "provider_key_file",
                                     "run_as", "account", "oracle_sources", "oracle_max_age", "oracle_max_deviation",
                                     "rate_limit_per_minute", "early_failure_window", "dispute_window", "prompt_start"],
                           required: ["chain_id", "escrow_contract", "provider_key_file", "oracle_sources"])
        var m = MarketSettings()
        if let n = o["domain_name"] { m.domainName = try string(n) }
        if let n = o["domain_version"] { m.domainVersion = try string(n) }
        m.chainID = UInt64(try int(o["chain_id"]!, min: 1))
        m.escrowContract = try string(o["escrow_contract"]!)
        let hex = m.escrowContract.dropFirst(2)
        guard m.escrowContract.hasPrefix("0x"), hex.count == 40, hex.allSatisfy(\.isHexDigit) else {
            throw fail(o["escrow_contract"]!, "expected the contract's address: 0x followed by 40 hex digits")
        }
        m.providerKeyFile = try string(o["provider_key_file"]!)
        if let u = o["run_as"] { m.runAs = try string(u) }
        m.account = try o["account"].map(string)
        m.oracleSources = try strings(o["oracle_sources"]!)
        if m.oracleSources.isEmpty { throw fail(o["oracle_sources"]!, "name at least one price source") }
        if let a = o["oracle_max_age"] { m.oracleMaxAge = try duration(a, min: 1) }
        if let d = o["oracle_max_deviation"] { m.oracleMaxDeviation = try percent(d, within: BasisPoints(1)...BasisPoints(100_00)) }
        if let r = o["rate_limit_per_minute"] { m.rateLimitPerMinute = try int(r, min: 1) }
        if let w = o["early_failure_window"] { m.earlyFailureWindow = try duration(w) }
        if let w = o["dispute_window"] { m.disputeWindow = try duration(w, min: 1) }
        if let w = o["prompt_start"] { m.promptStart = try duration(w, min: 1) }
        return m
    }
}
