/// How an escrow divides when a job ends: the provider's payout, the platform's fee and the
/// user's refund, which always add up to the escrow exactly.
///
/// Order of operations (each step rounds down, and the remainder falls to the next party, so no
/// micro-USDC is created or lost):
/// 1. cost = min(charge, escrow)
/// 2. cost −= discount × cost
/// 3. fee = feeRate × cost; payout = cost − fee
/// 4. refund = escrow − cost
public struct SettlementSplit: Sendable, Hashable, Codable {
    public var escrow: MicroUSDC
    /// The job's charge before the cap and the discount.
    public var charge: MicroUSDC
    public var discount: BasisPoints
    /// What the user pays: the charge, capped at the escrow, less the discount.
    public var cost: MicroUSDC
    public var platformFee: MicroUSDC
    public var providerPayout: MicroUSDC
    public var userRefund: MicroUSDC

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case negative(String)
        case discountNotOffered(BasisPoints)
        public var description: String {
            switch self {
            case .negative(let what): return "\(what) cannot be negative"
            case .discountNotOffered(let d): return "a \(d) staking discount is not one of the offered tiers"
            }
        }
    }

    public init(escrow: MicroUSDC, charge: MicroUSDC, discount: BasisPoints, policy: BillingPolicy) throws(Failure) {
        guard escrow.units >= 0 else { throw .negative("the escrow") }
        guard charge.units >= 0 else { throw .negative("the charge") }
        guard policy.discountTiers.contains(discount) else { throw .discountNotOffered(discount) }
        let capped = min(charge, escrow)
        self.init(escrow: escrow, charge: charge, discount: discount,
                  cost: MicroUSDC(units: capped.units - discount.of(capped).units), policy: policy)
    }

    private init(escrow: MicroUSDC, charge: MicroUSDC, discount: BasisPoints, cost: MicroUSDC, policy: BillingPolicy) {
        self.escrow = escrow
        self.charge = charge
        self.discount = discount
        self.cost = cost
        platformFee = policy.platformFee.of(cost)
        providerPayout = MicroUSDC(units: cost.units - platformFee.units)
        userRefund = MicroUSDC(units: escrow.units - cost.units)
    }

    /// Everything goes back to the payer (a job that never ran, an SLA refund); `charge` is
    /// kept for the record of what was waived.
    public static func fullRefund(escrow: MicroUSDC, charge: MicroUSDC, discount: BasisPoints,
                                  policy: BillingPolicy) throws(Failure) -> SettlementSplit {
        guard escrow.units >= 0 else { throw .negative("the escrow") }
        return SettlementSplit(escrow: escrow, charge: charge, discount: discount, cost: .zero, policy: policy)
    }
}
