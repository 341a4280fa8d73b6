/// What the scheduler orders pending jobs by: `chessctl priority` (sprio) and `chessctl share`
/// (sshare).

/// `chessctl priority` (sprio): a pending job's priority and its weighted factors.
public struct JobPriorityInfo: Codable, Sendable, Equatable {
    public var id: Int
    public var displayID: String
    public var user: String
    public var account: String
    public var partition: String
    public var qos: String
    public var priority: Int
    public var age: Int
    public var fairShare: Int
    public var jobSize: Int
    public var partitionFactor: Int
    public var qosFactor: Int
    /// `--nice`, taken off the factors' sum.
    public var nice: Int
    /// Set by an administrator (`update … priority=`): it replaces the factors' sum.
    public var adminSet: Bool

    public init(id: Int, displayID: String, user: String, account: String, partition: String, qos: String, priority: Int,
                age: Int, fairShare: Int, jobSize: Int, partitionFactor: Int, qosFactor: Int, nice: Int = 0, adminSet: Bool) {
        self.id = id
        self.displayID = displayID
        self.user = user
        self.account = account
        self.partition = partition
        self.qos = qos
        self.priority = priority
        self.age = age
        self.fairShare = fairShare
        self.jobSize = jobSize
        self.partitionFactor = partitionFactor
        self.qosFactor = qosFactor
        self.nice = nice
        self.adminSet = adminSet
    }

    enum CodingKeys: String, CodingKey {
        case id, user, account, partition, qos, priority, age, nice
        case displayID = "display_id"
        case fairShare = "fair_share"
        case jobSize = "job_size"
        case partitionFactor = "partition_factor"
        case qosFactor = "qos_factor"
        case adminSet = "admin_set"
    }
}

public struct JobPriorityList: Codable, Sendable, Equatable {
    /// Highest priority first.
    public var jobs: [JobPriorityInfo]
    public init(jobs: [JobPriorityInfo]) { self.jobs = jobs }
}

/// `chessctl share` (sshare): an account's fair share. Fractions are decimal text with six
/// places (`0.250000`), as exact as the integers they come from.
public struct AccountShareInfo: Codable, Sendable, Equatable {
    public var account: String
    public var parent: String?
    /// Configured shares (Slurm's RawShares).
    public var shares: Int
    /// `shares` over every account's (NormShares).
    public var normalizedShares: String
    /// Decayed usage, CPU-seconds (RawUsage).
    public var usage: Int
    /// `usage` over every account's (EffectvUsage).
    public var effectiveUsage: String
    /// `2^(-EffectvUsage/NormShares)` (FairShare): 1 for an account that used nothing.
    public var fairShare: String

    public init(account: String, parent: String?, shares: Int, normalizedShares: String, usage: Int, effectiveUsage: String,
                fairShare: String) {
        self.account = account
        self.parent = parent
        self.shares = shares
        self.normalizedShares = normalizedShares
        self.usage = usage
        self.effectiveUsage = effectiveUsage
        self.fairShare = fairShare
    }

    enum CodingKeys: String, CodingKey {
        case account, parent, shares, usage
        case normalizedShares = "normalized_shares"
        case effectiveUsage = "effective_usage"
        case fairShare = "fair_share"
    }
}

public struct AccountShareList: Codable, Sendable, Equatable {
    public var accounts: [AccountShareInfo]
    /// The half-life usage decays with, seconds.
    public var halfLife: Int
    public init(accounts: [AccountShareInfo], halfLife: Int) {
        self.accounts = accounts
        self.halfLife = halfLife
    }

    enum CodingKeys: String, CodingKey {
        case accounts
        case halfLife = "half_life"
    }
}
