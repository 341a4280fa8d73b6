/// Weights of Slurm's multifactor priority. Each factor is a fraction in [0, 1]; a job's priority
/// is the weighted sum, in integers.
public struct PriorityWeights: Sendable, Hashable, Codable {
    public var age: Int
    public var fairShare: Int
    public var jobSize: Int
    public var partition: Int
    public var qos: Int
    /// Age stops counting after this many seconds (Slurm's PriorityMaxAge, 7 days by default).
    public var maxAge: Int

    public init(age: Int = 1000, fairShare: Int = 10000, jobSize: Int = 1000, partition: Int = 1000,
                qos: Int = 10000, maxAge: Int = 7 * 86400) {
        self.age = age
        self.fairShare = fairShare
        self.jobSize = jobSize
        self.partition = partition
        self.qos = qos
        self.maxAge = maxAge
    }

    /// First in, first out: age alone, never capped in practice.
    public static let fifo = PriorityWeights(age: 1_000_000, fairShare: 0, jobSize: 0, partition: 0, qos: 0,
                                             maxAge: Int(Int32.max))
}

/// Computes multifactor priorities for one pass.
public struct PriorityCalculator: Sendable {
    /// Factors are computed in millionths.
    public static let factorScale = 1_000_000

    public let weights: PriorityWeights
    let now: Int
    let totalCPUs: Int
    let maxPartitionFactor: Int
    let maxQoSPriority: Int
    let shares: [String: Int]
    let totalShares: Int
    let usage: [String: Int]
    let totalUsage: Int

    /// `usage` is each account's decayed usage (CPU-seconds, any consistent unit).
    public init(weights: PriorityWeights, now: Int, cluster: Cluster, usage: [String: Int]) {
        self.weights = weights
        self.now = now
        totalCPUs = max(cluster.nodes.reduce(0) { $0 + $1.topology.coreCount }, 1)
        maxPartitionFactor = max(cluster.partitions.map(\.priorityJobFactor).max() ?? 1, 1)
        maxQoSPriority = cluster.qos.map(\.priority).max() ?? 0
        shares = Dictionary(cluster.accounts.map { ($0.name, max($0.shares, 0)) }, uniquingKeysWith: { a, _ in a })
        totalShares = shares.values.reduce(0, +)
        self.usage = usage
        totalUsage = usage.values.reduce(0) { $0 + max($1, 0) }
    }

    /// The job's priority; an admin override wins.
    public func priority(of job: Job, cpus: Int, partition: Partition?, qos: QoS?) -> Int {
        breakdown(of: job, cpus: cpus, partition: partition, qos: qos).total
    }

    /// The CPUs a job asks for, as the job-size factor counts them.
    public static func requestedCPUs(_ job: Job) -> Int {
        job.request.cpusPerTask * (job.request.tasks ?? job.request.nodes ?? 1)
    }

    /// The priority and its weighted factors (sprio): why one job goes before another.
    public func breakdown(of job: Job, cpus: Int, partition: Partition?, qos: QoS?) -> PriorityBreakdown {
        let scale = Self.factorScale
        let eligible = max(job.submitTime, job.beginTime ?? job.submitTime)
        let age = min(max(now - eligible, 0), weights.maxAge)
        let ageFactor = weights.maxAge > 0 ? age * scale / weights.maxAge : 0
        let sizeFactor = min(cpus, totalCPUs) * scale / totalCPUs
        let partitionFactor = (partition?.priorityJobFactor ?? 0) * scale / maxPartitionFactor
        let qosFactor = maxQoSPriority > 0 ? max(qos?.priority ?? 0, 0) * scale / maxQoSPriority : 0
        let weighted = (age: weights.age * ageFactor, fairShare: weights.fairShare * fairShareFactor(account: job.account),
                        jobSize: weights.jobSize * sizeFactor, partition: weights.partition * partitionFactor,
                        qos: weights.qos * qosFactor)
        let sum = weighted.age + weighted.fairShare + weighted.jobSize + weighted.partition + weighted.qos
        // As Slurm's multifactor plugin: the nice value comes off the sum, which stays at least 1.
        let nice = job.nice ?? 0
        let computed = nice == 0 ? sum / scale : max(sum / scale - nice, 1)
        return PriorityBreakdown(age: weighted.age / scale, fairShare: weighted.fairShare / scale, jobSize: weighted.jobSize / scale,
                                 partition: weighted.partition / scale, qos: weighted.qos / scale, nice: nice,
                                 override: job.priorityOverride, total: job.priorityOverride ?? computed)
    }

    /// Slurm's classic fair-share factor `2^(-U/S)`, with U the account's share of the decayed
    /// usage and S its share of the configured shares; in millionths.
    public func fairShareFactor(account: String) -> Int {
        let scale = Self.factorScale
        guard totalShares > 0, let s = shares[account], s > 0 else { return 0 }
        guard totalUsage > 0 else { return scale }
        let u = max(usage[account] ?? 0, 0)
        let value = FixedPoint.exp2Negative(Int128(u) * Int128(totalShares), over: Int128(totalUsage) * Int128(s))
        return Int(Int128(value) * Int128(scale) / Int128(FixedPoint.one))
    }
}

/// A job's priority and its weighted factors, in priority units (each rounded down, so they may
/// add up to a little less than `total`).
public struct PriorityBreakdown: Sendable, Hashable {
    public var age: Int
    public var fairShare: Int
    public var jobSize: Int
    public var partition: Int
    public var qos: Int
    /// `--nice`, taken off the sum.
    public var nice: Int
    /// An administrator's priority, which replaces the sum.
    public var override: Int?
    public var total: Int
}

/// Fair-share usage that decays with a half-life, kept per account by the controller or the
/// simulator and handed to each pass.
public struct FairShareLedger: Sendable, Hashable, Codable {
    public var halfLife: Int
    /// Usage in millionths of its unit. Decaying whole units rounded each value down at every
    /// call, and the controller decays once a second: an account lost up to one CPU-second a
    /// second on top of its half-life (below ~870,000 CPU-seconds that was most of its decay).
    private var micro: [String: Int128] = [:]
    public private(set) var lastDecay: Int

    /// Each account's decayed usage, in the unit it was charged in.
    public var usage: [String: Int] { micro.mapValues { Int($0 / 1_000_000) } }

    public init(halfLife: Int = 7 * 86400, now: Int = 0) {
        self.halfLife = halfLife
        self.lastDecay = now
    }

    /// A ledger from stored accounts (millionths, each as of the time it was stored), every
    /// one decayed to the latest of those times.
    public init(halfLife: Int, restoring accounts: [String: (micro: Int128, asOf: Int)]) {
        self.halfLife = halfLife
        let latest = accounts.values.map(\.asOf).max() ?? 0
        lastDecay = latest
        for (account, stored) in accounts {
            let elapsed = latest - stored.asOf
            let factor = elapsed > 0 && halfLife > 0
                ? FixedPoint.exp2Negative(Int128(elapsed), over: Int128(halfLife)) : FixedPoint.one
            micro[account] = stored.micro * Int128(factor) / Int128(FixedPoint.one)
        }
    }

    /// What to keep of `accounts`: their usage in millionths, as of the last decay.
    public func stored(_ accounts: Set<String>) -> (micro: [String: Int128], asOf: Int) {
        (micro.filter { accounts.contains($0.key) }, lastDecay)
    }

    /// Ages every account's usage to `now`.
    public mutating func decay(to now: Int) {
        let elapsed = now - lastDecay
        guard elapsed > 0 else { return }
        lastDecay = now
        guard halfLife > 0 else { return }
        let factor = FixedPoint.exp2Negative(Int128(elapsed), over: Int128(halfLife))
        for (account, value) in micro {
            micro[account] = value * Int128(factor) / Int128(FixedPoint.one)
        }
    }

    /// Adds usage (e.g. CPU-seconds times the QoS usage factor) to an account.
    public mutating func charge(_ account: String, _ amount: Int) {
        micro[account, default: 0] += Int128(amount) * 1_000_000
    }
}
