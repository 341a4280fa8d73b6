import ChessAPI
import SchedulerCore

extension ControllerState {
    /// The partitions in the configuration's order, with the default one marked.
    package func partitionSummaries(defaultPartition: String?) -> [PartitionSummary] {
        index.cluster.partitions.map {
            PartitionSummary(name: $0.name, isDefault: $0.name == defaultPartition, maxTime: $0.maxTime, state: $0.state.rawValue)
        }
    }

    /// Every configured node as `nodes`/`show node` present it: its state from what its jobs
    /// hold, its topology with what the agent probed, its health, metrics and jobs.
    package func nodeInfos() -> [NodeInfo] {
        var usage: [String: (cores: Int, memory: Int, gpus: Int, jobs: [Int])] = [:]
        for r in records.values where r.job.state.isActive {
            for a in r.job.allocation?.nodes ?? [] {
                var u = usage[a.node] ?? (0, 0, 0, [])
                u.cores += a.cores.count
                u.memory += a.memoryMB
                u.gpus += a.gpus.count
                u.jobs.append(r.id)
                usage[a.node] = u
            }
        }
        return index.cluster.nodes.map { node in
            let status = nodes[node.name] ?? NodeStatus(adminState: .down, reason: "no status", registered: false, lastHeartbeat: nil)
            let u = usage[node.name] ?? (0, 0, 0, [])
            let t = node.topology
            var info = NodeInfo(name: node.name,
                                state: NodeState.of(status.adminState, usedCores: u.cores, totalCores: t.coreCount).rawValue,
                                partitions: index.partitionsOfNode[node.name] ?? [], sockets: t.sockets, cores: t.coreCount,
                                cpus: t.cpuCount, memoryMB: t.memoryMB)
            info.reason = status.reason
            info.gpus = t.gpus.map { .init(index: $0.index, type: $0.type, numa: $0.numaDomain) }
            let probed = reportedTopology[node.name]?.numa
            info.numa = t.numaDomains.map { d in
                var numa = NodeInfo.NUMAInfo(id: d.id, cores: d.cores, memoryMB: d.memoryMB,
                                             gpus: t.gpus.filter { $0.numaDomain == d.id }.map(\.index))
                numa.memoryNodes = probed?.first { $0.id == d.id }?.memoryNodes
                return numa
            }
            info.features = node.features.sorted()
            info.allocatedCores = u.cores
            info.allocatedMemoryMB = u.memory
            info.allocatedGPUs = u.gpus
            info.jobs = u.jobs.sorted()
            info.lastHeartbeat = status.lastHeartbeat
            info.hcas = status.hcas
            info.metrics = status.metrics
            info.leafSwitch = t.leafSwitch
            return info
        }
    }
}
