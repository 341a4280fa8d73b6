import ChessAPI
import SchedulerCore

/// The controller's state: its jobs and nodes, what it has promised agents, and what its timed
/// rules and a pass's decisions change.
///
/// A value with no I/O, no lock and no clock: chessd keeps one under its lock and hands each
/// change the time it read (see `docs/architecture.md`). The rules that change it (a job's end,
/// time limits, silent agents, a pass's decisions) are in `Rules/`; each adds the rows to write
/// and the events to record to the caller's `StateChanges`, and the agent commands and mail it
/// owes to the queues here, which chessd sends once the change is committed.
package struct ControllerState: Sendable {
    /// The configured cluster and its lookups (`plannerCluster` is derived from it).
    package var index: ClusterIndex { didSet { plannerCluster = nil } }
    /// Live jobs: waiting, active, and array records whose tasks have not all ended.
    package var records = LiveJobs()
    package var finished: [JobID: FinishedJob] = [:]
    package var nextID = 1
    package var nodes: [String: NodeStatus] = [:] { didSet { plannerCluster = nil } }
    /// The nodes each agent last registered: where its heartbeats look first, so that a
    /// heartbeat costs its own nodes, not a walk of every node (5,000 agents made that the
    /// heaviest part of a heartbeat). A hint only: `nodes` decides, every time.
    package var nodesOfAgent: [String: [String]] = [:]
    /// The cluster as the planner sees it, rebuilt after node or configuration changes.
    package var plannerCluster: Cluster?
    package var ledger: FairShareLedger
    /// Accounts charged since their usage was last stored (the next commit stores them).
    package var chargedAccounts = Set<String>()
    /// Per array job: tasks started and not yet ended, and whether all that ended completed.
    package var arrayProgress: [JobID: (open: Int, allCompleted: Bool)] = [:]
    /// Per array job whose tasks have been launched: how many tasks it has and its lowest and
    /// highest index (`SLURM_ARRAY_TASK_COUNT`, `_MIN`, `_MAX`), worked out once per array.
    package var arrayBounds: [JobID: (count: Int, min: Int, max: Int)] = [:]
    /// The lowest and highest exit code of each array's ended tasks, for its summary mail.
    package var arrayExits: [JobID: JobMailComposer.ExitRange] = [:]
    /// Jobs asked to stop for a preemption, and when their grace time runs out.
    package var preemptionDeadlines: [JobID: Int] = [:]
    /// Escrows funding live jobs (and submissions being stored): one escrow funds one job.
    package var liveEscrows = Set<String>()
    /// Running jobs' use as their agents last measured it (`chessctl stat`); dropped at the end.
    package var liveUsage: [JobID: JobLiveUsage] = [:]
    /// Running steps (srun) of running jobs, as their agents reported them, with the run they
    /// belong to (a requeued job's earlier run's steps are not its current run's).
    package var liveSteps: [JobID: (run: Int, steps: [Int: StepRecord])] = [:]

    // Counters since start: `diag` and `/metrics`.
    package var passCount = 0
    package var submittedCount = 0
    package var startedCount = 0
    package var endedCounts: [JobState: Int] = [:]

    // What agents are owed, sent once the change that queued it is committed.
    /// Started jobs whose launch is to be sent.
    package var pendingLaunches: [JobID] = []
    /// Jobs the controller ended while they ran (cancel, time limit): their agents must stop them.
    package var pendingTerminations: [(job: JobID, node: String, reason: String, run: Int)] = []
    /// Suspend, resume and `scancel --signal` commands (`signal`: the signal's name).
    package var pendingSignals: [(job: JobID, node: String, kind: String, run: Int, signal: String?)] = []
    /// New time limits of running jobs, for the agents that supervise them.
    package var pendingTimeLimits: [(job: JobID, node: String, seconds: Int, run: Int)] = []
    /// Job mail composed with the change, sent once it has committed.
    package var pendingMail: [JobMail] = []

    // What the configuration file says of nodes (chessd sets these at start and `reconfigure`).
    /// The agent that serves each node, where it is not the node itself (`agent(of:)`).
    package var nodeAgents: [String: String] = [:]
    /// Node topologies as configured: what registrations are checked against.
    package var configuredTopology: [String: NodeTopology] = [:]
    /// What each registered node's agent probed, to check it again when the configuration changes.
    package var reportedTopology: [String: AgentTopology] = [:]

    /// The cluster's name as mail and job environments give it.
    package var clusterName: String
    /// When this controller started: nodes that have not registered since get one heartbeat
    /// timeout from here before their jobs are given up.
    package let startedAt: Int

    package init(index: ClusterIndex, ledger: FairShareLedger, clusterName: String, startedAt: Int) {
        self.index = index
        self.ledger = ledger
        self.clusterName = clusterName
        self.startedAt = startedAt
        for node in index.cluster.nodes { nodes[node.name] = NodeStatus(unregistered: node) }
    }
}

/// A job event as the store records it: the job, the state it entered, why.
package typealias JobEvent = (JobID, JobState, String)

/// What one change to the state must write, in one transaction: job rows, job events and node
/// rows. `ended` marks the rows of jobs that a rule ended (their index in `jobs`), for what
/// observes ended jobs (the market settles them before the transaction).
package struct StateChanges {
    package var jobs: [JobRecord] = []
    package var events: [JobEvent] = []
    package var nodes: [(String, NodeStatus)] = []
    package var ended: [Int] = []
    /// What the change has to say to the log (chessd's logger writes them).
    package var notices: [Notice] = []

    package init() {}

    package var isEmpty: Bool { jobs.isEmpty && events.isEmpty && nodes.isEmpty }
}

/// A line for the log, said by a rule (the core has no logger).
package struct Notice: Sendable, Equatable {
    package enum Level: Sendable { case info, warning, error }
    package var level: Level
    package var message: String
    package var metadata: [String: String]

    package static func warning(_ message: String, _ metadata: [String: String]) -> Notice {
        Notice(level: .warning, message: message, metadata: metadata)
    }
}
