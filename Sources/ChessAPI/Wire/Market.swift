import Billing

// The marketplace's and the billing admin's messages (`/v1/market/...`, `/v1/prices`,
// `/v1/invoices`, `/v1/settlements`). Money is exact decimal text: USDC with 6 decimals
// (`"2.980000"`), CPT with 18; percentages as `"3%"`.

/// One partition's prices.
public struct PriceInfo: Codable, Sendable, Equatable {
    public var partition: String
    public var prices: PriceList
    public init(partition: String, prices: PriceList) {
        self.partition = partition
        self.prices = prices
    }
}

/// `GET /v1/market/prices`, `GET /v1/prices`: the catalogue and the economics around it.
public struct PriceListResponse: Codable, Sendable, Equatable {
    public var prices: [PriceInfo]
    public var policy: BillingPolicy
    /// QoS usage factors (per mille) that multiply the prices (spot capacity is cheaper).
    public var usageFactors: [String: Int]
    public init(prices: [PriceInfo], policy: BillingPolicy, usageFactors: [String: Int]) {
        self.prices = prices
        self.policy = policy
        self.usageFactors = usageFactors
    }
    enum CodingKeys: String, CodingKey { case prices, policy, usageFactors = "usage_factors" }
}

/// `POST /v1/market/quote` answers this for a job submission (the same body a submit takes).
public struct QuoteResponse: Codable, Sendable, Equatable {
    public var partition: String
    public var qos: String
    public var resources: BillableResources
    public var timeLimit: Int
    /// The price of the requested resources over the time limit.
    public var price: MicroUSDC
    /// What the escrow must hold: the price plus the buffer.
    public var requiredEscrow: MicroUSDC
    public var usageFactorPermille: Int
    public init(partition: String, qos: String, resources: BillableResources, timeLimit: Int, price: MicroUSDC,
                requiredEscrow: MicroUSDC, usageFactorPermille: Int) {
        self.partition = partition
        self.qos = qos
        self.resources = resources
        self.timeLimit = timeLimit
        self.price = price
        self.requiredEscrow = requiredEscrow
        self.usageFactorPermille = usageFactorPermille
    }
    enum CodingKeys: String, CodingKey {
        case partition, qos, resources, price
        case timeLimit = "time_limit", requiredEscrow = "required_escrow", usageFactorPermille = "usage_factor_permille"
    }
}

/// The escrow the marketplace funded, as it sends it with a job.
public struct EscrowFunding: Codable, Sendable, Equatable {
    public var escrowID: String
    public var payer: String
    public var amount: MicroUSDC
    public var transaction: String
    public var discount: BasisPoints?
    public init(escrowID: String, payer: String, amount: MicroUSDC, transaction: String, discount: BasisPoints? = nil) {
        self.escrowID = escrowID
        self.payer = payer
        self.amount = amount
        self.transaction = transaction
        self.discount = discount
    }
    enum CodingKeys: String, CodingKey { case payer, amount, transaction, discount, escrowID = "escrow_id" }
}

/// `POST /v1/market/jobs`: a job and the escrow that pays for it.
public struct MarketSubmission: Codable, Sendable {
    public var job: JobSubmission
    public var escrow: EscrowFunding
    public init(job: JobSubmission, escrow: EscrowFunding) {
        self.job = job
        self.escrow = escrow
    }
}

/// A marketplace job as the marketplace follows it.
public struct MarketJobStatus: Codable, Sendable, Equatable {
    public var id: Int
    public var state: String
    public var escrowState: String
    public var escrowID: String
    public var reason: String?
    public var submitTime: Int
    public var startTime: Int?
    public var endTime: Int?
    /// Seconds from funding to the first start.
    public var startLatency: Int?
    public var settlementID: String?
    public var quote: QuoteResponse?
    public init(id: Int, state: String, escrowState: String, escrowID: String, submitTime: Int) {
        self.id = id
        self.state = state
        self.escrowState = escrowState
        self.escrowID = escrowID
        self.submitTime = submitTime
    }
    enum CodingKeys: String, CodingKey {
        case id, state, reason, quote
        case escrowState = "escrow_state", escrowID = "escrow_id", submitTime = "submit_time", startTime = "start_time"
        case endTime = "end_time", startLatency = "start_latency", settlementID = "settlement_id"
    }
}

/// One run of a job on its nodes, as billed.
public struct RunInfo: Codable, Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var ended: String
    /// Seconds of the run spent suspended, not charged; absent when none.
    public var suspended: Int?
    public init(start: Int, end: Int, ended: String, suspended: Int? = nil) {
        self.start = start
        self.end = end
        self.ended = ended
        self.suspended = suspended
    }
}

/// A settlement as the feed and `chessctl settlement show` give it, with the EIP-712 payload
/// the signature is over.
public struct SettlementInfo: Codable, Sendable, Equatable {
    public var id: String
    public var sequence: Int?
    public var jobID: Int
    public var escrowID: String
    public var payer: String
    public var provider: String
    public var outcome: String
    public var billedSeconds: Int64
    public var escrow: MicroUSDC
    public var charge: MicroUSDC
    public var discount: BasisPoints
    public var cost: MicroUSDC
    public var platformFee: MicroUSDC
    public var providerPayout: MicroUSDC
    public var userRefund: MicroUSDC
    public var userReward: CPTAmount?
    public var providerReward: CPTAmount?
    /// USD per CPT with 8 decimals, as a whole number.
    public var cptPriceE8: UInt64?
    public var endTime: Int
    public var reason: String
    public var runs: [RunInfo]
    public var digest: String?
    public var signature: String?
    public var typedData: TypedData?
    public var acknowledgedAt: Int?
    public var disputedAt: Int?
    public var disputeReason: String?

    public init(id: String, jobID: Int, escrowID: String, payer: String, provider: String, outcome: String,
                billedSeconds: Int64, split: SettlementSplit, endTime: Int, reason: String, runs: [RunInfo]) {
        self.id = id
        self.jobID = jobID
        self.escrowID = escrowID
        self.payer = payer
        self.provider = provider
        self.outcome = outcome
        self.billedSeconds = billedSeconds
        escrow = split.escrow
        charge = split.charge
        discount = split.discount
        cost = split.cost
        platformFee = split.platformFee
        providerPayout = split.providerPayout
        userRefund = split.userRefund
        self.endTime = endTime
        self.reason = reason
        self.runs = runs
    }

    /// EIP-712 typed data as wallets take it, every value as text.
    public struct TypedData: Codable, Sendable, Equatable {
        public struct Field: Codable, Sendable, Equatable {
            public var name: String
            public var type: String
            public init(name: String, type: String) {
                self.name = name
                self.type = type
            }
        }
        public var types: [String: [Field]]
        public var primaryType: String
        public var domain: [String: String]
        public var message: [String: String]
        public init(types: [String: [Field]], primaryType: String, domain: [String: String], message: [String: String]) {
            self.types = types
            self.primaryType = primaryType
            self.domain = domain
            self.message = message
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, sequence, payer, provider, outcome, escrow, charge, discount, cost, reason, runs, digest, signature
        case jobID = "job_id", escrowID = "escrow_id", billedSeconds = "billed_seconds", platformFee = "platform_fee"
        case providerPayout = "provider_payout", userRefund = "user_refund", userReward = "user_reward"
        case providerReward = "provider_reward", cptPriceE8 = "cpt_price_e8", endTime = "end_time", typedData = "typed_data"
        case acknowledgedAt = "acknowledged_at", disputedAt = "disputed_at", disputeReason = "dispute_reason"
    }
}

/// `GET /v1/market/settlements?after=N`: signed settlements in feed order; `next` is the
/// sequence to ask after next time.
public struct SettlementFeed: Codable, Sendable, Equatable {
    public var settlements: [SettlementInfo]
    public var next: Int
    /// Settlements that wait for a good oracle price (not yet signed, not yet on the feed).
    public var awaitingPrice: Int
    public init(settlements: [SettlementInfo], next: Int, awaitingPrice: Int) {
        self.settlements = settlements
        self.next = next
        self.awaitingPrice = awaitingPrice
    }
    enum CodingKeys: String, CodingKey { case settlements, next, awaitingPrice = "awaiting_price" }
}

public struct DisputeRequest: Codable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// `PUT /v1/market/oracle/{source}`: a CPT/USD price as one source reports it.
public struct OraclePriceReport: Codable, Sendable, Equatable {
    /// USD per CPT, up to 8 decimals (`"0.25"`).
    public var price: String
    public var time: Int
    public init(price: String, time: Int) {
        self.price = price
        self.time = time
    }
}

/// The provider's service figures for a month.
public struct SLAReport: Codable, Sendable, Equatable {
    /// `2026-11`.
    public var month: String
    public var jobsStarted: Int
    public var startedPromptly: Int
    public var promptStartSeconds: Int
    public var medianStartLatency: Int?
    public var maxStartLatency: Int?
    public var providerFailures: Int
    public var slaRefunds: Int
    /// Node-seconds up over node-seconds in the month so far (drained nodes count as up;
    /// DOWN after lost heartbeats does not), as a percentage with two decimals.
    public var uptime: String
    public init(month: String, jobsStarted: Int, startedPromptly: Int, promptStartSeconds: Int, medianStartLatency: Int?,
                maxStartLatency: Int?, providerFailures: Int, slaRefunds: Int, uptime: String) {
        self.month = month
        self.jobsStarted = jobsStarted
        self.startedPromptly = startedPromptly
        self.promptStartSeconds = promptStartSeconds
        self.medianStartLatency = medianStartLatency
        self.maxStartLatency = maxStartLatency
        self.providerFailures = providerFailures
        self.slaRefunds = slaRefunds
        self.uptime = uptime
    }
    enum CodingKeys: String, CodingKey {
        case month, uptime
        case jobsStarted = "jobs_started", startedPromptly = "started_promptly", promptStartSeconds = "prompt_start_seconds"
        case medianStartLatency = "median_start_latency", maxStartLatency = "max_start_latency"
        case providerFailures = "provider_failures", slaRefunds = "sla_refunds"
    }
}

/// Marketplace API tokens: what `chessctl market token create` asks for and gets.
public struct TokenRequest: Codable, Sendable {
    public var name: String
    public var scopes: [String]
    /// Local user the token's jobs run as (default: `[market] run_as`).
    public var user: String?
    public init(name: String, scopes: [String], user: String?) {
        self.name = name
        self.scopes = scopes
        self.user = user
    }
}

public struct TokenInfo: Codable, Sendable, Equatable {
    public var name: String
    public var scopes: [String]
    public var user: String
    public var createdAt: Int
    public var revokedAt: Int?
    /// Only in the answer to a create: the secret, shown once and stored only as a hash.
    public var token: String?
    public init(name: String, scopes: [String], user: String, createdAt: Int, revokedAt: Int? = nil, token: String? = nil) {
        self.name = name
        self.scopes = scopes
        self.user = user
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.token = token
    }
    enum CodingKeys: String, CodingKey { case name, scopes, user, token, createdAt = "created_at", revokedAt = "revoked_at" }
}

public struct TokenList: Codable, Sendable { public var tokens: [TokenInfo]; public init(tokens: [TokenInfo]) { self.tokens = tokens } }
public struct SettlementList: Codable, Sendable { public var settlements: [SettlementInfo]; public init(settlements: [SettlementInfo]) { self.settlements = settlements } }
public struct InvoiceList: Codable, Sendable { public var invoices: [Invoice]; public init(invoices: [Invoice]) { self.invoices = invoices } }
