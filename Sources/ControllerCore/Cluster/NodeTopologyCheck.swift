import ChessAPI
import SchedulerCore

/// Compares a probed topology with the configured one.
package enum NodeTopologyCheck {
    /// Why the node falls short of its configuration, or nil when it does not.
    package static func mismatch(reported: AgentTopology, configured: NodeTopology) -> String? {
        if let why = implausible(reported) { return "Implausible topology (\(why))" }
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

    /// Most NUMA domains one node reports (real machines have at most a few hundred).
    static let maxDomains = 4_096
    /// Most cores (and the highest core id) one node reports.
    static let maxCores = InputLimits.cpusPerTask * 64

    /// Why a probe cannot be a real machine's, or nil: what an agent says is bounded before the
    /// controller sums or scales it (a domain's memory times the configured memory, summed over
    /// thousands of domains, would overflow).
    static func implausible(_ t: AgentTopology) -> String? {
        guard t.numa.count <= maxDomains else { return "\(t.numa.count) NUMA domains, at most \(maxDomains)" }
        guard (1...InputLimits.cpusPerTask).contains(t.sockets), (1...64).contains(t.threadsPerCore) else {
            return "\(t.sockets) sockets, \(t.threadsPerCore) threads per core"
        }
        var cores = 0
        for d in t.numa {
            guard (0...InputLimits.memoryMB).contains(d.memoryMB) else { return "domain \(d.id) has \(d.memoryMB) MiB" }
            guard d.cores.allSatisfy({ (0..<maxCores).contains($0) }) else { return "domain \(d.id) has a core id out of range" }
            cores += d.cores.count
            guard cores <= maxCores else { return "more than \(maxCores) cores" }
        }
        guard t.gpus.count <= InputLimits.gpus else { return "\(t.gpus.count) GPUs, at most \(InputLimits.gpus)" }
        if let cpus = t.cpus, !(0...maxCores * 64).contains(cpus) { return "\(cpus) CPUs" }
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
