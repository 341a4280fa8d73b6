/// CPT rewards for a settled cost, converted at the CPT/USD oracle price.
///
/// CPT has 18 decimals, USDC 6 and oracle prices 8: a reward of `rate × cost` micro-USDC is
/// `cost × rate/10⁴ × 10¹² × 10⁸ / price` base units, computed in one `UInt128` division and
/// rounded down. With cost ≤ Int64.max and rate ≤ 5% the product stays below 2¹²⁸.
public enum RewardCalculator {
    /// Oracle prices carry 8 decimals (USD per CPT × 10⁸), as Chainlink's USD feeds do.
    public static let priceDecimals = 8

    public static func reward(cost: MicroUSDC, rate: BasisPoints, cptPriceE8: UInt64) -> CPTAmount? {
        guard cost.units >= 0, rate.value >= 0, rate.value <= 10_000, cptPriceE8 > 0 else { return nil }
        let numerator = UInt128(cost.units) * UInt128(rate.value) * 10_000_000_000_000_000 // 10^12 · 10^8 / 10^4
        return CPTAmount(baseUnits: numerator / UInt128(cptPriceE8))
    }
}
