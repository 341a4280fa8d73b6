import Billing

/// The escrow the marketplace funded for one job, as it sent it (checked on submission).
public struct EscrowRecord: Sendable, Hashable, Codable {
    /// The escrow contract's id for this deposit: 32 bytes, `0x` + 64 hex digits.
    public var escrowID: String
    public var payer: EthereumAddress
    public var amount: MicroUSDC
    /// The chain transaction that funded it (`0x` + 64 hex digits).
    public var transaction: String
    /// Staking discount tier the payer holds (0, 5, 10 or 15% by default).
    public var discount: BasisPoints

    public init(escrowID: String, payer: EthereumAddress, amount: MicroUSDC, transaction: String, discount: BasisPoints = .percent(0)) {
        self.escrowID = escrowID
        self.payer = payer
        self.amount = amount
        self.transaction = transaction
        self.discount = discount
    }

    /// What is wrong with the record, in words the marketplace can act on; nil when it is sound.
    public func problem(requiredEscrow: MicroUSDC, policy: BillingPolicy) -> String? {
        if HexBytes.decode(escrowID, length: 32) == nil { return "escrow_id must be 0x followed by 64 hex digits" }
        if HexBytes.decode(transaction, length: 32) == nil { return "transaction must be a transaction hash (0x followed by 64 hex digits)" }
        if amount.units <= 0 { return "the escrow amount must be positive" }
        if !policy.discountTiers.contains(discount) {
            return "discount \(discount) is not an offered tier (\(policy.discountTiers.map(\.description).joined(separator: ", ")))"
        }
        if amount < requiredEscrow {
            return "the escrow of \(amount) USDC does not cover the quote: \(requiredEscrow) USDC is required (price over the time limit plus the buffer)"
        }
        return nil
    }
}
