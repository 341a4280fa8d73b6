import ChessAPI
import SchedulerCore

/// A configuration that changes while chessd runs: a partition, QoS, account or reservation
/// changed at run time, or the whole file read again (`reconfigure`, SIGHUP). The configuration
/// file's meaning is ChessConfig's; what reaches the state is its cluster and the few settings
/// the rules use.
extension ControllerState {
    /// True when a live job names `name` as its partition, QoS, account or reservation (it may
    /// not be deleted under them).
    package func liveJobsUse(_ kind: ConfigObjectKind, named name: String) -> Bool {
        records.values.contains { r in
            switch kind {
            case .partitions: return r.job.partition == name
            case .qos: return r.job.qos == name
            case .accounts: return r.job.account == name
            case .reservations: return r.job.request.reservation == name
            }
        }
    }

    /// A runtime change's cluster becomes the scheduled one, each node keeping the topology it
    /// is scheduled with now (what its agent's probe gave it).
    package mutating func adoptRuntimeChange(_ next: Cluster) {
        var cluster = next
        for i in cluster.nodes.indices {
            if let n = index.node(cluster.nodes[i].name) { cluster.nodes[i].topology = n.topology }
        }
        index = ClusterIndex(cluster)
    }

    /// What reading the configuration file again did to the nodes.
    package struct NodesReconfigured {
        package var added: [String] = []
        package var removed: [String] = []
    }

    /// The configuration file read again: `file` is its cluster as written (the nodes' configured
    /// topologies), `effective` the same with the runtime changes replayed over it (what is
    /// scheduled). Nodes added start unregistered; nodes removed are forgotten; each registered
    /// node's scheduled topology is its probe checked against the new configuration, as at a
    /// registration (a drain or an undrain it causes is in `changes.nodes`). A node removed from
    /// the file while it runs jobs refuses the whole change, and nothing is changed.
    package mutating func reconfigureNodes(file: Cluster, effective: Cluster, nodeAgents: [String: String], fairShareHalfLife: Int,
                                           source: String, changes: inout StateChanges) throws(APIError) -> NodesReconfigured {
        let names = Set(file.nodes.map(\.name))
        let stranded = records.values.filter { $0.job.state.isActive }.flatMap { $0.job.allocation?.nodeNames ?? [] }.filter { !names.contains($0) }
        guard stranded.isEmpty else {
            throw .conflict("\(HostList.compress(Array(Set(stranded)).sorted())) run jobs and are not in \(source) any more: drain them and let their jobs end first; nothing changed")
        }
        var outcome = NodesReconfigured()
        outcome.added = file.nodes.map(\.name).filter { nodes[$0] == nil }
        outcome.removed = nodes.keys.filter { !names.contains($0) }.sorted()
        configuredTopology = Dictionary(file.nodes.map { ($0.name, $0.topology) }, uniquingKeysWith: { a, _ in a })
        self.nodeAgents = nodeAgents
        ledger.halfLife = fairShareHalfLife
        for name in outcome.removed {
            nodes[name] = nil
            reportedTopology[name] = nil
        }
        var cluster = effective
        for (i, node) in cluster.nodes.enumerated() {
            guard var status = nodes[node.name] else {
                nodes[node.name] = NodeStatus(unregistered: node)
                continue
            }
            guard status.registered, let reported = reportedTopology[node.name] else { continue }
            let before = (status.adminState, status.reason)
            checkTopology(reported, node: i, in: &cluster, status: &status)
            nodes[node.name] = status
            if before != (status.adminState, status.reason) { changes.nodes.append((node.name, status)) }
        }
        index = ClusterIndex(cluster)
        return outcome
    }
}
