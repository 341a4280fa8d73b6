import ChessAPI
import ControllerCore
import Logging
import SchedulerCore

/// The state's parts under the names the controller's code has always used: each reads and
/// changes `state` in place (no copy of a table).
extension Controller {
    var index: ClusterIndex {
        _read { yield state.index }
        _modify { yield &state.index }
    }
    var records: LiveJobs {
        _read { yield state.records }
        _modify { yield &state.records }
    }
    var finished: [JobID: FinishedJob] {
        _read { yield state.finished }
        _modify { yield &state.finished }
    }
    var nextID: Int {
        _read { yield state.nextID }
        _modify { yield &state.nextID }
    }
    var nodes: [String: NodeStatus] {
        _read { yield state.nodes }
        _modify { yield &state.nodes }
    }
    var nodesOfAgent: [String: [String]] {
        _read { yield state.nodesOfAgent }
        _modify { yield &state.nodesOfAgent }
    }
    var plannerCluster: Cluster? {
        _read { yield state.plannerCluster }
        _modify { yield &state.plannerCluster }
    }
    var ledger: FairShareLedger {
        _read { yield state.ledger }
        _modify { yield &state.ledger }
    }
    var chargedAccounts: Set<String> {
        _read { yield state.chargedAccounts }
        _modify { yield &state.chargedAccounts }
    }
    var arrayProgress: [JobID: (open: Int, allCompleted: Bool)] {
        _read { yield state.arrayProgress }
        _modify { yield &state.arrayProgress }
    }
    var arrayBounds: [JobID: (count: Int, min: Int, max: Int)] {
        _read { yield state.arrayBounds }
        _modify { yield &state.arrayBounds }
    }
    var arrayExits: [JobID: JobMailComposer.ExitRange] {
        _read { yield state.arrayExits }
        _modify { yield &state.arrayExits }
    }
    var preemptionDeadlines: [JobID: Int] {
        _read { yield state.preemptionDeadlines }
        _modify { yield &state.preemptionDeadlines }
    }
    var liveEscrows: Set<String> {
        _read { yield state.liveEscrows }
        _modify { yield &state.liveEscrows }
    }
    var liveUsage: [JobID: JobLiveUsage] {
        _read { yield state.liveUsage }
        _modify { yield &state.liveUsage }
    }
    var liveSteps: [JobID: (run: Int, steps: [Int: StepRecord])] {
        _read { yield state.liveSteps }
        _modify { yield &state.liveSteps }
    }
    var passCount: Int {
        _read { yield state.passCount }
        _modify { yield &state.passCount }
    }
    var submittedCount: Int {
        _read { yield state.submittedCount }
        _modify { yield &state.submittedCount }
    }
    var startedCount: Int {
        _read { yield state.startedCount }
        _modify { yield &state.startedCount }
    }
    var endedCounts: [JobState: Int] {
        _read { yield state.endedCounts }
        _modify { yield &state.endedCounts }
    }
    var pendingLaunches: [JobID] {
        _read { yield state.pendingLaunches }
        _modify { yield &state.pendingLaunches }
    }
    var pendingTerminations: [(job: JobID, node: String, reason: String, run: Int)] {
        _read { yield state.pendingTerminations }
        _modify { yield &state.pendingTerminations }
    }
    var pendingSignals: [(job: JobID, node: String, kind: String, run: Int, signal: String?)] {
        _read { yield state.pendingSignals }
        _modify { yield &state.pendingSignals }
    }
    var pendingTimeLimits: [(job: JobID, node: String, seconds: Int, run: Int)] {
        _read { yield state.pendingTimeLimits }
        _modify { yield &state.pendingTimeLimits }
    }
    var configuredTopology: [String: NodeTopology] {
        _read { yield state.configuredTopology }
        _modify { yield &state.configuredTopology }
    }
    var reportedTopology: [String: AgentTopology] {
        _read { yield state.reportedTopology }
        _modify { yield &state.reportedTopology }
    }
    var pendingMail: [JobMail] {
        _read { yield state.pendingMail }
        _modify { yield &state.pendingMail }
    }
}

extension Controller {
    /// Runs one of the state's rules on the caller's lists of changed rows and events, then
    /// has the market settle the marketplace jobs the rule ended, so that each settlement is
    /// written in its job's end transaction. Under the lock. Returns the rule's other changes
    /// (node rows, silent nodes); its rows and events are in `changed` and `events`.
    @discardableResult
    func applyLocked(_ changed: inout [JobRecord], _ events: inout [JobEvent],
                     _ rule: (inout ControllerState, inout StateChanges) -> Void) -> StateChanges {
        var changes = StateChanges()
        swap(&changes.jobs, &changed)
        swap(&changes.events, &events)
        rule(&state, &changes)
        for n in changes.notices {
            let metadata = n.metadata.mapValues { Logger.MetadataValue.string($0) }
            switch n.level {
            case .info: logger.info("\(n.message)", metadata: metadata)
            case .warning: logger.warning("\(n.message)", metadata: metadata)
            case .error: logger.error("\(n.message)", metadata: metadata)
            }
        }
        for i in changes.ended where changes.jobs[i].market != nil {
            let (end, reason) = (changes.jobs[i].job.endTime ?? clock.now(), changes.jobs[i].endReason ?? "")
            settleLocked(&changes.jobs[i], now: end, reason: reason)
        }
        swap(&changes.jobs, &changed)
        swap(&changes.events, &events)
        return changes
    }
}
