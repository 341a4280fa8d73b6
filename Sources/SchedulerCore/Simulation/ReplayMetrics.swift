/// The figures of a replay (`SIMULATION.md` §7). Integers are exact; the averages and the
/// utilization are the only floating-point values, computed once at the end.
public struct ReplayMetrics: Sendable, Equatable, Encodable {
    public var jobs: Int
    public var skipped: Int
    public var skippedByReason: [String: Int]
    public var truncatedToRequested: Int
    public var avgWait: Double
    public var maxWait: Int
    public var avgBoundedSlowdown: Double
    public var firstSubmit: Int?
    public var lastEnd: Int?
    public var makespan: Int
    public var utilization: Double

    /// Bounded slowdown threshold, seconds.
    public static let slowdownBound = 10

    public init(outcome: ReplayOutcome) {
        let w = outcome.workload
        jobs = w.jobs.count
        skipped = w.skippedTotal
        skippedByReason = Dictionary(uniqueKeysWithValues: w.skipped.map { ($0.key.rawValue, $0.value) })
        truncatedToRequested = w.truncatedToRequested

        var waitSum = 0
        var maxWait = 0
        var area = 0
        var first = Int.max
        var last = Int.min
        var slowdowns = CompensatedSum()
        for (job, start) in zip(w.jobs, outcome.starts) {
            let wait = start - job.submit
            waitSum += wait
            maxWait = max(maxWait, wait)
            area += job.procs * job.run
            first = min(first, job.submit)
            last = max(last, start + job.run)
            let bound = Double(max(job.run, Self.slowdownBound))
            slowdowns.add(max(1.0, Double(wait + job.run) / bound))
        }
        self.maxWait = maxWait
        if jobs == 0 {
            avgWait = 0
            avgBoundedSlowdown = 0
            firstSubmit = nil
            lastEnd = nil
            makespan = 0
            utilization = 0
        } else {
            avgWait = Double(waitSum) / Double(jobs)
            avgBoundedSlowdown = slowdowns.value / Double(jobs)
            firstSubmit = first
            lastEnd = last
            makespan = last - first
            utilization = makespan > 0 ? Double(area) / (Double(w.machineSize) * Double(makespan)) : 0
        }
    }

    enum CodingKeys: String, CodingKey {
        case jobs, skipped
        case skippedByReason = "skipped_by_reason"
        case truncatedToRequested = "truncated_to_requested"
        case avgWait = "avg_wait"
        case maxWait = "max_wait"
        case avgBoundedSlowdown = "avg_bsld"
        case firstSubmit = "first_submit"
        case lastEnd = "last_end"
        case makespan, utilization
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(jobs, forKey: .jobs)
        try c.encode(skipped, forKey: .skipped)
        try c.encode(skippedByReason, forKey: .skippedByReason)
        try c.encode(truncatedToRequested, forKey: .truncatedToRequested)
        try c.encode(avgWait, forKey: .avgWait)
        try c.encode(maxWait, forKey: .maxWait)
        try c.encode(avgBoundedSlowdown, forKey: .avgBoundedSlowdown)
        // Explicit nulls: the keys are always present.
        try c.encode(firstSubmit, forKey: .firstSubmit)
        try c.encode(lastEnd, forKey: .lastEnd)
        try c.encode(makespan, forKey: .makespan)
        try c.encode(utilization, forKey: .utilization)
    }
}

/// Kahan–Babuška (Neumaier) summation: the sum of many slowdowns without drift.
struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) {
            compensation += (sum - t) + x
        } else {
            compensation += (x - t) + sum
        }
        sum = t
    }

    var value: Double { sum + compensation }
}
