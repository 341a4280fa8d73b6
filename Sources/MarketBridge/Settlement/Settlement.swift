import Billing

/// How a marketplace job's escrow was divided, signed for the escrow contract.
///
/// The id is derived from the cluster, the job and the escrow (`settlementID`), never from a
/// counter or a clock, so computing a settlement again — after a crash, on a retry — gives the
/// same record, and signing it again the same signature (RFC 6979 nonces).
public struct Settlement: Sendable, Hashable, Codable {
    /// `0x` + 64 hex digits.
    public var id: String
    /// Position in the settlement feed; assigned by the store, 0 until stored.
    public var sequence: Int
    public var jobID: Int
    public var escrowID: String
    public var payer: EthereumAddress
    public var provider: EthereumAddress
    /// `settled` or `refunded` (then `disputed` if contested).
    public var outcome: EscrowState
    public var billedSeconds: Int64
    public var split: SettlementSplit
    /// Rewards need a good oracle price; until there is one they are nil and the settlement is
    /// not signed (and not offered on the feed).
    public var userReward: CPTAmount?
    public var providerReward: CPTAmount?
    public var cptPriceE8: UInt64?
    public var endTime: Int
    /// Why the job ended, as recorded in accounting.
    public var reason: String
    public var runs: [JobRun]
    /// The EIP-712 digest and the provider's signature over it (`0x` hex, r ‖ s ‖ v).
    public var digest: String?
    public var signature: String?
    public var acknowledgedAt: Int?
    public var dispute: Dispute?

    public struct Dispute: Sendable, Hashable, Codable {
        public var openedAt: Int
        public var reason: String
        public init(openedAt: Int, reason: String) {
            self.openedAt = openedAt
            self.reason = reason
        }
    }

    public var isSigned: Bool { signature != nil }

    /// The first 24 bytes of `keccak256("chess-settlement|<cluster>|<job>|<escrow id>")`, then
    /// the job id as 8 bytes big-endian.
    ///
    /// The job id in the last 8 bytes is what lets the controller find a settlement by its id
    /// through the job's key: an index of the whole id, a random key, cost a b-tree page written
    /// in the transaction that ends every marketplace job (measured: a third of settlement's cost
    /// to the controller). 192 bits of hash keep ids of other clusters and escrows apart.
    public static func settlementID(cluster: String, jobID: Int, escrowID: String) -> String {
        var bytes = Array(Keccak256.hash(Array("chess-settlement|\(cluster)|\(jobID)|\(escrowID.lowercased())".utf8)).prefix(24))
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: jobID).bigEndian) { bytes.append(contentsOf: $0) }
        return HexBytes.encode(bytes)
    }

    /// The job a settlement id names (its last 8 bytes), if it is 32 bytes of hex. Ids made
    /// before the job was part of them name no job or another one: the store checks the whole id.
    public static func jobID(inSettlementID id: String) -> Int? {
        guard let bytes = HexBytes.decode(id, length: 32) else { return nil }
        let job = bytes[24...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return job <= UInt64(Int.max) ? Int(job) : nil
    }
}

/// Turns a finished marketplace job into its settlement: SLA rules, price, split, rewards.
public struct SettlementCalculator: Sendable {
    public var cluster: String
    public var provider: EthereumAddress
    public var policy: BillingPolicy
    public var sla: SLAPolicy

    public init(cluster: String, provider: EthereumAddress, policy: BillingPolicy, sla: SLAPolicy) {
        self.cluster = cluster
        self.provider = provider
        self.policy = policy
        self.sla = sla
    }

    /// What was agreed when the job was funded: prices are those of the quote, not of the day the
    /// job ends.
    public struct Terms: Sendable, Hashable, Codable {
        public var escrow: EscrowRecord
        public var prices: PriceList
        public var usageFactorPermille: Int64
        public init(escrow: EscrowRecord, prices: PriceList, usageFactorPermille: Int64) {
            self.escrow = escrow
            self.prices = prices
            self.usageFactorPermille = usageFactorPermille
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case chargeOverflow
        case split(SettlementSplit.Failure)
        public var description: String {
            switch self {
            case .chargeOverflow: "the charge does not fit in 64 bits of micro-USDC"
            case .split(let f): f.description
            }
        }
    }

    /// The settlement, without rewards or signature (see `reward` and `SettlementSigner`).
    public func settle(jobID: Int, terms: Terms, allocated: BillableResources, runs: [JobRun], endTime: Int,
                       reason: String) throws(Failure) -> Settlement {
        let billable = sla.billable(runs)
        guard let charge = terms.prices.charge(allocated, seconds: billable.seconds, usageFactorPermille: terms.usageFactorPermille) else {
            throw .chargeOverflow
        }
        let split: SettlementSplit
        do {
            split = billable.fullRefund || charge == .zero
                ? try .fullRefund(escrow: terms.escrow.amount, charge: charge, discount: terms.escrow.discount, policy: policy)
                : try SettlementSplit(escrow: terms.escrow.amount, charge: charge, discount: terms.escrow.discount, policy: policy)
        } catch { throw .split(error) }
        return Settlement(
            id: Settlement.settlementID(cluster: cluster, jobID: jobID, escrowID: terms.escrow.escrowID), sequence: 0,
            jobID: jobID, escrowID: terms.escrow.escrowID.lowercased(), payer: terms.escrow.payer, provider: provider,
            outcome: split.cost == .zero ? .refunded : .settled, billedSeconds: billable.fullRefund ? 0 : billable.seconds,
            split: split, userReward: nil, providerReward: nil, cptPriceE8: nil, endTime: endTime, reason: reason, runs: runs)
    }

    /// Adds the CPT rewards at an accepted oracle price.
    public func reward(_ s: inout Settlement, cptPriceE8: UInt64) {
        s.cptPriceE8 = cptPriceE8
        s.userReward = RewardCalculator.reward(cost: s.split.cost, rate: policy.userReward, cptPriceE8: cptPriceE8)
        s.providerReward = RewardCalculator.reward(cost: s.split.cost, rate: policy.providerReward, cptPriceE8: cptPriceE8)
    }
}
