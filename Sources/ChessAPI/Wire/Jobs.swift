import SchedulerCore

/// A job as `queue`, `show job` and `acct` report it.
public struct JobInfo: Codable, Sendable, Equatable {
    public var id: Int
    /// `1234_7` for an array task, `1234_[8-40%8]` for the tasks not yet started.
    public var displayID: String
    public var arrayJobID: Int?
    public var arrayTaskID: Int?
    /// Task indexes not yet started (array records only), as a range expression.
    public var arrayPending: String?
    public var name: String
    public var user: String
    public var account: String
    public var partition: String
    public var qos: String
    public var state: String
    /// Pending reason, or why the job ended.
    public var reason: String?
    /// With reason ReqNodeNotAvail: the nodes of the job's partition that are drained or down,
    /// as a host list (squeue's `UnavailableNodes:`).
    public var unavailableNodes: String?
    public var priority: Int?
    public var submitTime: Int
    public var eligibleTime: Int?
    public var startTime: Int?
    public var endTime: Int?
    /// Expected start of a pending job holding a reservation.
    public var plannedStart: Int?
    /// Seconds; nil is unlimited.
    public var timeLimit: Int?
    public var nodeList: String?
    public var nodes: Int
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: Int
    public var exitCode: Int?
    public var dependency: String?
    /// `--nodelist` and `--exclude`, as host lists (scontrol's ReqNodeList and ExcNodeList).
    public var requiredNodes: String?
    public var excludedNodes: String?
    /// `--nice`, when set.
    public var nice: Int?
    /// `--licenses`, as `ansys:1,matlab:2`.
    public var licenses: String?
    public var workdir: String?
    public var output: String?
    public var error: String?
    /// `--mail-type` as Slurm prints it (`END,FAIL`), and the recipient; nil without mail.
    public var mailType: String?
    public var mailUser: String?
    /// Seconds this run spent in earlier suspensions, and when its current one began: time
    /// suspended counts neither as run time nor against the time limit (as in Slurm).
    public var suspendedSeconds: Int?
    public var suspendedSince: Int?

    public init(id: Int, displayID: String, name: String, user: String, account: String, partition: String, qos: String,
                state: String, submitTime: Int, nodes: Int, cpus: Int, memoryMB: Int, gpus: Int) {
        self.id = id
        self.displayID = displayID
        self.name = name
        self.user = user
        self.account = account
        self.partition = partition
        self.qos = qos
        self.state = state
        self.submitTime = submitTime
        self.nodes = nodes
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
    }

    enum CodingKeys: String, CodingKey {
        case id, name, user, account, partition, qos, state, reason, priority, nodes, cpus, gpus, dependency, workdir, output, error, nice, licenses
        case displayID = "display_id"
        case arrayJobID = "array_job_id"
        case arrayTaskID = "array_task_id"
        case arrayPending = "array_pending"
        case submitTime = "submit_time"
        case eligibleTime = "eligible_time"
        case startTime = "start_time"
        case endTime = "end_time"
        case plannedStart = "planned_start"
        case timeLimit = "time_limit"
        case nodeList = "node_list"
        case memoryMB = "memory_mb"
        case exitCode = "exit_code"
        case unavailableNodes = "unavailable_nodes"
        case requiredNodes = "required_nodes"
        case excludedNodes = "excluded_nodes"
        case mailType = "mail_type"
        case mailUser = "mail_user"
        case suspendedSeconds = "suspended_seconds"
        case suspendedSince = "suspended_since"
    }

    /// Seconds the job has run (squeue's TIME): from its start to its end or `now`, less the
    /// time suspended.
    public func runSeconds(now: Int) -> Int {
        Self.runSeconds(start: startTime, end: endTime, suspendedSeconds: suspendedSeconds, suspendedSince: suspendedSince, now: now)
    }

    /// Seconds suspended up to the job's end or `now`.
    public func suspendedUpTo(now: Int) -> Int {
        Self.suspended(seconds: suspendedSeconds, since: suspendedSince, until: endTime ?? now)
    }

    /// Seconds suspended up to `until`: the earlier suspensions' and the current one's so far
    /// (the controller's records hold the same parts).
    public static func suspended(seconds: Int?, since: Int?, until: Int) -> Int {
        (seconds ?? 0) + (since.map { max(until - $0, 0) } ?? 0)
    }

    /// `runSeconds` from its parts.
    public static func runSeconds(start: Int?, end: Int?, suspendedSeconds: Int?, suspendedSince: Int?, now: Int) -> Int {
        guard let start else { return 0 }
        let end = end ?? now
        return max(end - start - suspended(seconds: suspendedSeconds, since: suspendedSince, until: end), 0)
    }

    /// The reason as Slurm words it: `ReqNodeNotAvail, UnavailableNodes:n[01-02]` with the
    /// nodes that keep the job waiting.
    public var reasonText: String? {
        guard let reason else { return nil }
        return unavailableNodes.map { "\(reason), UnavailableNodes:\($0)" } ?? reason
    }
}

/// `GET /v1/jobs/{id}/events`: a job's state changes, each with its reason, oldest first.
public struct JobEventList: Codable, Sendable, Equatable {
    public struct Event: Codable, Sendable, Equatable {
        public var time: Int
        public var state: String
        public var reason: String?
        public init(time: Int, state: String, reason: String?) {
            self.time = time
            self.state = state
            self.reason = reason
        }
    }

    public var id: Int
    public var events: [Event]
    public init(id: Int, events: [Event]) {
        self.id = id
        self.events = events
    }
}

/// `GET /v1/jobs/{id}/script`: the batch script the job was submitted with.
public struct JobScript: Codable, Sendable, Equatable {
    public var id: Int
    public var script: String
    public init(id: Int, script: String) {
        self.id = id
        self.script = script
    }
}

public struct JobList: Codable, Sendable, Equatable {
    public var jobs: [JobInfo]
    public init(jobs: [JobInfo]) { self.jobs = jobs }
}

/// What `cancel`, `hold`, `release`, `requeue`, `suspend` and `resume` send.
/// `chessctl update` (scontrol update job): the fields to change; nil leaves one as it is.
public struct JobUpdate: Codable, Sendable, Equatable {
    /// Seconds. Owners may shorten a job's limit; lengthening it is for administrators (as in
    /// Slurm). A running job's new limit reaches its supervisor.
    public var timeLimit: Int?
    public var name: String?
    /// An administrator's priority for a pending job (`priority` at submit).
    public var priority: Int?
    /// A pending job's partition, QoS and account, checked as at submit (the partition allows
    /// the QoS and the account, the job fits the partition's nodes and limits).
    public var partition: String?
    public var qos: String?
    public var account: String?
    /// A pending job's `--nodelist` and `--exclude` (host lists; empty removes one), checked as
    /// at submit.
    public var nodelist: String?
    public var exclude: String?
    /// The job's `--nice`: owners set it (not below 0), administrators also lower it.
    public var nice: Int?
    /// A pending job's `--dependency` (Slurm's syntax; empty removes it) and `--begin` (Unix time).
    public var dependency: String?
    public var begin: Int?
    /// An array's `%N`: how many of its tasks may run at once (0 removes the cap).
    public var arrayThrottle: Int?

    public init(timeLimit: Int? = nil, name: String? = nil, priority: Int? = nil,
                partition: String? = nil, qos: String? = nil, account: String? = nil,
                nodelist: String? = nil, exclude: String? = nil, nice: Int? = nil) {
        self.timeLimit = timeLimit
        self.name = name
        self.priority = priority
        self.partition = partition
        self.qos = qos
        self.account = account
        self.nodelist = nodelist
        self.exclude = exclude
        self.nice = nice
    }

    /// True when the update moves a job: it changes only while the job is pending.
    public var movesJob: Bool { partition != nil || qos != nil || account != nil || nodelist != nil || exclude != nil }

    enum CodingKeys: String, CodingKey {
        case timeLimit = "time_limit"
        case name, priority, partition, qos, account, nodelist, exclude, nice, dependency, begin
        case arrayThrottle = "array_throttle"
    }
}

public struct JobActionRequest: Codable, Sendable, Equatable {
    /// For `cancel`: send this signal (`USR1`, `SIGUSR1`, `10`) to the running job's processes
    /// instead of ending it (`scancel --signal`).
    public var signal: String?
    /// For `requeue`: hold the job once it is back in the queue (scontrol requeuehold).
    public var hold: Bool?
    public init(signal: String? = nil, hold: Bool? = nil) {
        self.signal = signal
        self.hold = hold
    }
}

public struct JobActionResponse: Codable, Sendable, Equatable {
    public var id: Int
    public var state: String
    public init(id: Int, state: String) {
        self.id = id
        self.state = state
    }
}
