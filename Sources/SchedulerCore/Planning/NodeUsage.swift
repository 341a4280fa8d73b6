/// What is free on one node right now, at the granularity of cores and GPUs: the allocator's
/// bitsets. The planner's time view (`StepProfile<NodeCapacity>`) counts the same resources.
struct NodeUsage: Sendable {
    var freeCores: CoreSet
    var freeGPUs: CoreSet
    var freeMemoryMB: Int

    init(topology: NodeTopology) {
        freeCores = CoreSet(topology.numaDomains.flatMap(\.cores), capacity: topology.coreCount)
        freeGPUs = CoreSet(topology.gpus.map(\.index), capacity: max(topology.gpus.count, 1))
        freeMemoryMB = topology.memoryMB
    }

    var capacity: NodeCapacity { NodeCapacity(cores: freeCores.count, memoryMB: freeMemoryMB, gpus: freeGPUs.count) }

    /// Takes what `allocation` holds (`memoryOnly` for a suspended job, which keeps its memory).
    mutating func take(_ allocation: NodeAllocation, memoryOnly: Bool = false) {
        freeMemoryMB -= allocation.memoryMB
        guard !memoryOnly else { return }
        for c in allocation.cores { freeCores.remove(c) }
        for g in allocation.gpus { freeGPUs.remove(g) }
    }

    mutating func give(_ allocation: NodeAllocation, memoryOnly: Bool = false) {
        freeMemoryMB += allocation.memoryMB
        guard !memoryOnly else { return }
        for c in allocation.cores { freeCores.insert(c) }
        for g in allocation.gpus { freeGPUs.insert(g) }
    }

    /// True when every core and GPU of `allocation` is free (a suspended job can resume).
    func holdsFree(_ allocation: NodeAllocation) -> Bool {
        allocation.cores.allSatisfy(freeCores.contains) && allocation.gpus.allSatisfy(freeGPUs.contains)
    }
}

/// Chooses cores, GPUs and memory binding on one node: cores packed into as few NUMA domains as
/// possible, GPUs taken from the domains of those cores first, memory bound to the same domains.
enum CoreAllocator {
    static func allocate(on node: Node, usage: NodeUsage, need: NodeCapacity, gpuType: String?,
                         exclusive: Bool) -> NodeAllocation? {
        let topology = node.topology
        if exclusive {
            guard usage.freeCores.count == topology.coreCount, usage.freeGPUs.count == topology.gpus.count,
                  usage.freeMemoryMB == topology.memoryMB else { return nil }
            return NodeAllocation(node: node.name, cores: topology.numaDomains.flatMap(\.cores).sorted(),
                                  memoryMB: topology.memoryMB, numaDomains: topology.numaDomains.map(\.id),
                                  gpus: topology.gpus.map(\.index), exclusive: true)
        }
        guard usage.freeMemoryMB >= need.memoryMB else { return nil }
        let usableGPUs = topology.gpus.filter { usage.freeGPUs.contains($0.index) && (gpuType == nil || $0.type == gpuType) }
        guard usableGPUs.count >= need.gpus else { return nil }

        struct Domain { var id: Int; var freeCores: [Int]; var freeGPUs: Int }
        var domains = topology.numaDomains.map { d in
            Domain(id: d.id, freeCores: d.cores.filter(usage.freeCores.contains),
                   freeGPUs: usableGPUs.filter { $0.numaDomain == d.id }.count)
        }
        guard domains.reduce(0, { $0 + $1.freeCores.count }) >= need.cores else { return nil }

        if need.gpus > 0 {
            // Domains with the GPUs first, so the cores sit next to them.
            domains.sort { ($0.freeGPUs, $0.freeCores.count, -$0.id) > ($1.freeGPUs, $1.freeCores.count, -$1.id) }
        } else if let best = domains.filter({ $0.freeCores.count >= need.cores })
            .min(by: { ($0.freeCores.count, $0.id) < ($1.freeCores.count, $1.id) }) {
            // One domain holds it all: the tightest such domain keeps the others whole.
            domains = [best]
        } else {
            domains.sort { ($0.freeCores.count, -$0.id) > ($1.freeCores.count, -$1.id) }
        }

        var cores: [Int] = []
        var used: [Int] = []
        for d in domains where cores.count < need.cores {
            let take = min(need.cores - cores.count, d.freeCores.count)
            guard take > 0 else { continue }
            cores += d.freeCores.prefix(take)
            used.append(d.id)
        }
        let preferred = Set(used)
        let gpus = usableGPUs
            .sorted { (preferred.contains($0.numaDomain ?? -1) ? 0 : 1, $0.index) < (preferred.contains($1.numaDomain ?? -1) ? 0 : 1, $1.index) }
            .prefix(need.gpus).map(\.index).sorted()
        return NodeAllocation(node: node.name, cores: cores.sorted(), memoryMB: need.memoryMB,
                              numaDomains: used.sorted(), gpus: gpus, exclusive: false)
    }
}
