/// One job (or array task) as accounting keeps it: what `sacct` shows, and enough to price the
/// job later without guessing (allocated TRES, elapsed seconds, measured usage).
public struct AccountingRecord: Codable, Sendable, Equatable {
    public var id: Int
    /// `1234`, `1234_7`.
    public var jobID: String
    public var arrayJobID: Int?
    public var arrayTaskID: Int?
    public var name: String
    public var user: String
    public var account: String
    public var partition: String
    public var qos: String
    public var state: String
    public var reason: String?
    public var exitCode: Int?
    public var submitTime: Int
    public var eligibleTime: Int?
    public var startTime: Int?
    public var endTime: Int?
    /// Seconds from start to end (or to now while running).
    public var elapsed: Int
    public var timeLimit: Int?
    public var allocCPUs: Int
    public var allocMemoryMB: Int
    public var allocGPUs: Int
    public var allocNodes: Int
    public var nodeList: String?
    /// CPU time the job's processes used, as the agent measured it.
    public var cpuSeconds: Int?
    public var maxRSSMB: Int?
    public var gpuSeconds: Int?
    public var requeues: Int
    /// Its steps (srun), once it has ended: sacct's `JOBID.STEP` rows.
    public var steps: [StepRecord]?

    public init(id: Int, jobID: String, name: String, user: String, account: String, partition: String, qos: String,
                state: String, submitTime: Int, elapsed: Int, allocCPUs: Int, allocMemoryMB: Int, allocGPUs: Int,
                allocNodes: Int, requeues: Int) {
        self.id = id
        self.jobID = jobID
        self.name = name
        self.user = user
        self.account = account
        self.partition = partition
        self.qos = qos
        self.state = state
        self.submitTime = submitTime
        self.elapsed = elapsed
        self.allocCPUs = allocCPUs
        self.allocMemoryMB = allocMemoryMB
        self.allocGPUs = allocGPUs
        self.allocNodes = allocNodes
        self.requeues = requeues
    }

    enum CodingKeys: String, CodingKey {
        case id, name, user, account, partition, qos, state, reason, elapsed, requeues, steps
        case jobID = "job_id"
        case arrayJobID = "array_job_id"
        case arrayTaskID = "array_task_id"
        case exitCode = "exit_code"
        case submitTime = "submit_time"
        case eligibleTime = "eligible_time"
        case startTime = "start_time"
        case endTime = "end_time"
        case timeLimit = "time_limit"
        case allocCPUs = "alloc_cpus"
        case allocMemoryMB = "alloc_memory_mb"
        case allocGPUs = "alloc_gpus"
        case allocNodes = "alloc_nodes"
        case nodeList = "node_list"
        case cpuSeconds = "cpu_seconds"
        case maxRSSMB = "max_rss_mb"
        case gpuSeconds = "gpu_seconds"
    }
}

public struct AccountingList: Codable, Sendable, Equatable {
    public var records: [AccountingRecord]
    public init(records: [AccountingRecord]) { self.records = records }
}
