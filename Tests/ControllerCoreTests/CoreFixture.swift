import ControllerCore
import SchedulerCore

/// A controller state over `count` 16-core nodes `n01…` in one partition, every node's agent
/// registered at time 0: the core on its own, with no store, no threads and no clock but the
/// times the tests pass.
func makeState(nodes count: Int = 2, qos: [QoS] = [QoS(name: "normal")]) -> ControllerState {
    let nodes = (1...count).map { i in
        Node(name: "n0\(i)", topology: .uniform(sockets: 2, coresPerSocket: 8, memoryMB: 64_000))
    }
    let cluster = Cluster(nodes: nodes, partitions: [Partition(name: "batch", nodes: nodes.map(\.name), maxTime: 86400)], qos: qos)
    var state = ControllerState(index: ClusterIndex(cluster), ledger: FairShareLedger(halfLife: 7 * 86400, now: 0),
                                clusterName: "test", startedAt: 0)
    for node in nodes {
        state.nodes[node.name] = NodeStatus(adminState: .up, reason: nil, registered: true, lastHeartbeat: 0)
    }
    return state
}

/// A pending job of `cores` cores (on each of `nodes` nodes) and `limit` seconds, as a submit stores it.
func submit(_ state: inout ControllerState, cores: Int = 4, nodes: Int? = nil, limit: Int = 600, requeue: Bool? = nil,
            array: [Int]? = nil, mail: MailRequest? = nil, now: Int = 0) -> JobID {
    let id = state.nextID
    state.nextID += 1
    var r = JobRecord(job: Job(id: id, user: "alice", partition: "batch",
                               request: JobRequest(nodes: nodes, tasks: nodes ?? 1, cpusPerTask: cores, timeLimit: limit), submitTime: now,
                               array: array.map { ArrayTasks(pending: $0) }))
    r.requeue = requeue
    r.mail = mail
    state.records[id] = r
    return id
}

/// One scheduling pass at `now`: the real planner on the state's own snapshot, its decisions
/// applied.
@discardableResult
func pass(_ state: inout ControllerState, now: Int) -> StateChanges {
    var changes = StateChanges()
    state.enforceTimeLimits(now: now, changes: &changes)
    let snapshot = SchedulingSnapshot(now: now, cluster: state.effectiveCluster(), jobs: state.plannedJobs(),
                                      finished: state.finished, usage: state.ledger.usage)
    state.apply(Planner().plan(snapshot), now: now, changes: &changes)
    return changes
}
