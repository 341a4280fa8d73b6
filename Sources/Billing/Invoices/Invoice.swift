/// One job's charge as an invoice line: who ran it, under which account, when it ended.
public struct ChargedJob: Sendable, Hashable, Codable {
    public var jobID: Int
    public var user: String
    public var account: String
    public var partition: String
    public var endTime: Int
    /// Seconds charged (elapsed, whole seconds).
    public var seconds: Int64
    public var coreSeconds: Int64
    public var gpuSeconds: Int64
    public var charge: MicroUSDC

    public init(jobID: Int, user: String, account: String, partition: String, endTime: Int, seconds: Int64,
                coreSeconds: Int64, gpuSeconds: Int64, charge: MicroUSDC) {
        self.jobID = jobID
        self.user = user
        self.account = account
        self.partition = partition
        self.endTime = endTime
        self.seconds = seconds
        self.coreSeconds = coreSeconds
        self.gpuSeconds = gpuSeconds
        self.charge = charge
    }
}

/// What a user or an account owes for a period: one line per partition and the total.
public struct Invoice: Sendable, Hashable, Codable {
    public enum Subject: String, Sendable, Codable { case user, account }

    public struct Line: Sendable, Hashable, Codable {
        public var partition: String
        public var jobs: Int
        public var coreSeconds: Int64
        public var gpuSeconds: Int64
        public var amount: MicroUSDC

        enum CodingKeys: String, CodingKey { case partition, jobs, amount, coreSeconds = "core_seconds", gpuSeconds = "gpu_seconds" }
    }

    public var subject: Subject
    public var name: String
    /// `[start, end)`, seconds since the epoch; a job belongs to the period its end falls in.
    public var start: Int
    public var end: Int
    public var lines: [Line]
    public var total: MicroUSDC

    /// Invoices for every user (or account) with a job ending in `[start, end)`, by name.
    /// Totals that would overflow Int64 saturate rather than wrap (no real period comes near).
    public static func build(_ jobs: [ChargedJob], by subject: Subject, start: Int, end: Int) -> [Invoice] {
        var grouped: [String: [String: Line]] = [:]
        for j in jobs where j.endTime >= start && j.endTime < end {
            let name = subject == .user ? j.user : j.account
            var line = grouped[name, default: [:]][j.partition] ?? Line(partition: j.partition, jobs: 0, coreSeconds: 0, gpuSeconds: 0, amount: .zero)
            line.jobs += 1
            line.coreSeconds += j.coreSeconds
            line.gpuSeconds += j.gpuSeconds
            line.amount = line.amount.adding(j.charge) ?? MicroUSDC(units: .max)
            grouped[name, default: [:]][j.partition] = line
        }
        return grouped.keys.sorted().map { name in
            let lines = grouped[name]!.values.sorted { $0.partition < $1.partition }
            let total = lines.reduce(MicroUSDC.zero) { $0.adding($1.amount) ?? MicroUSDC(units: .max) }
            return Invoice(subject: subject, name: name, start: start, end: end, lines: lines, total: total)
        }
    }
}
