import ChessAPI
import SchedulerCore

/// Compares a probed topology with the configured one.
package enum NodeTopologyCheck {
    /// Why the node falls short of its configuration, or nil when it does not.
    package static func mismatch(reported: AgentTopology, configured: NodeTopology) -> String? {
        let cores = reported.numa.reduce(0) { $0 + $1.cores.count }
        let memory = reported.numa.reduce(0) { $0 + $1.memoryMB }
        if cores < configured.coreCount { return "Low core count (\(cores) < \(configured.coreCount) configured)" }
        if memory < configured.memoryMB { return "Low RealMemory (\(memory) < \(configured.memoryMB) MiB configured)" }
        if reported.gpus.count < configured.gpus.count {
            return "GPU count mismatch (\(reported.gpus.count) < \(configured.gpus.count) configured)"
        }
        let configuredTypes = configured.gpuTypes
        if !configuredTypes.isEmpty, let other = reported.gpus.first(where: { !configuredTypes.contains($0.type) }) {
            return "GPU type mismatch (\(other.type), configured \(configuredTypes.sorted().joined(separator: ",")))"
        }
        return nil
    }

    /// The probed layout (which cores and GPUs sit in which NUMA domain), with the configured
    /// amounts: extra cores, memory and GPUs beyond the configuration are not scheduled, as in
    /// Slurm, so that a site can keep some for the system.
    package static func merge(reported: AgentTopology, configured: NodeTopology) -> NodeTopology {
        var remainingCores = configured.coreCount
        let totalMemory = max(reported.numa.reduce(0) { $0 + $1.memoryMB }, 1)
        var domains: [NUMADomain] = []
        var memoryLeft = configured.memoryMB
        for (i, d) in reported.numa.enumerated() {
            let cores = Array(d.cores.prefix(remainingCores))
            remainingCores -= cores.count
            let memory = i == reported.numa.count - 1 ? memoryLeft : configured.memoryMB * d.memoryMB / totalMemory
            memoryLeft -= memory
            domains.append(NUMADomain(id: d.id, cores: cores, memoryMB: memory))
        }
        let gpus = reported.gpus.prefix(configured.gpus.count).map { GPUDevice(index: $0.index, type: $0.type, numaDomain: $0.numa) }
        var topology = NodeTopology(sockets: reported.sockets, numaDomains: domains, gpus: Array(gpus),
                                    threadsPerCore: reported.threadsPerCore, leafSwitch: configured.leafSwitch)
        // The real thread count holds when every probed core is scheduled; otherwise cores × threads.
        let reportedCores = reported.numa.reduce(0) { $0 + $1.cores.count }
        if let cpus = reported.cpus, configured.coreCount >= reportedCores { topology.cpus = cpus }
        return topology
    }
}
