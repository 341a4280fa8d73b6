/// The platform's economics: fee, reward rates, escrow buffer and staking discount tiers.
/// The defaults are the published ones; each can be configured within its published range.
public struct BillingPolicy: Sendable, Hashable, Codable {
    /// Platform fee on the cost (2–5%, default 3%).
    public var platformFee: BasisPoints
    /// CPT reward to the user, as a share of the cost (1–3%, default 2%).
    public var userReward: BasisPoints
    /// CPT reward to the provider (2–5%, default 3%).
    public var providerReward: BasisPoints
    /// Escrow required above the quoted price (default 20%).
    public var escrowBuffer: BasisPoints
    /// Staking discounts a job may carry.
    public var discountTiers: [BasisPoints]

    public static let feeRange = BasisPoints(200)...BasisPoints(500)
    public static let userRewardRange = BasisPoints(100)...BasisPoints(300)
    public static let providerRewardRange = BasisPoints(200)...BasisPoints(500)

    enum CodingKeys: String, CodingKey {
        case platformFee = "platform_fee", userReward = "user_reward", providerReward = "provider_reward"
        case escrowBuffer = "escrow_buffer", discountTiers = "discount_tiers"
    }

    public init(platformFee: BasisPoints = .percent(3), userReward: BasisPoints = .percent(2),
                providerReward: BasisPoints = .percent(3), escrowBuffer: BasisPoints = .percent(20),
                discountTiers: [BasisPoints] = [.percent(0), .percent(5), .percent(10), .percent(15)]) {
        self.platformFee = platformFee
        self.userReward = userReward
        self.providerReward = providerReward
        self.escrowBuffer = escrowBuffer
        self.discountTiers = discountTiers
    }

    /// What is out of its published range, in words; empty when the policy is valid.
    public var problems: [String] {
        var p: [String] = []
        if !Self.feeRange.contains(platformFee) { p.append("platform fee \(platformFee) is outside 2%–5%") }
        if !Self.userRewardRange.contains(userReward) { p.append("user reward \(userReward) is outside 1%–3%") }
        if !Self.providerRewardRange.contains(providerReward) { p.append("provider reward \(providerReward) is outside 2%–5%") }
        if escrowBuffer.value < 0 { p.append("escrow buffer \(escrowBuffer) is negative") }
        if discountTiers.contains(where: { $0.value < 0 || $0.value > 10_000 }) { p.append("discount tiers must lie within 0%–100%") }
        return p
    }

    /// The escrow a job must fund: its price over its time limit plus the buffer, rounded up so
    /// that the buffer is never short by a micro-USDC.
    public func requiredEscrow(price: MicroUSDC) -> MicroUSDC? {
        let total = Int128(price.units) * Int128(10_000 + escrowBuffer.value)
        let units = (total + 9_999) / 10_000
        return units <= Int128(Int64.max) ? MicroUSDC(units: Int64(units)) : nil
    }
}
