/// A topology in the terms hwloc's own tools use (`hwloc-calc --number-of …`), one column per
/// `../shared/data/hwloc/EXPECTED.tsv` column, so that what the agent read can be checked
/// against hwloc itself (`chess-nodeagent --probe --topology FILE --hwloc-summary`).
///
/// These are hwloc's counts, not the scheduling model: a NUMA node's cores are those in its cpuset
/// (a memory tier sharing a DRAM node's CPUs lists them too), where `wire.numa` gives each core
/// to one domain.
struct HwlocSummary: Equatable, CustomStringConvertible {
    static let columns = ["packages", "cores", "pus", "numa", "numa_cores", "numa_memory_mb", "gpus", "gpu_numa", "hcas"]

    var packages: Int
    var cores: Int
    var pus: Int
    /// NUMA nodes whose cpuset holds an allowed CPU (`hwloc-calc --number-of numa all`).
    var numa: Int
    /// For hwloc's NUMA nodes `numa:0` … `numa:(numa-1)`, in logical order: cores in the node's
    /// cpuset and the node's local memory.
    var numaCores: [Int]
    var numaMemoryMB: [Int]
    var gpus: Int
    /// Per GPU, in bus order: the logical NUMA nodes its locality intersects (nil: holds no CPU).
    var gpuNUMA: [[Int]?]
    var hcas: [String]

    init(_ t: HostTopology) {
        let r = t.reading ?? TopologyReading(packages: t.wire.sockets, cpus: t.coreCPUs.flatMap { $0 },
                                             cores: t.coreCPUs.map { .init(cpus: $0) }, numaNodes: [],
                                             totalMemoryMB: 0, pciDevices: [], fabrics: [])
        packages = r.packages
        cores = r.cores.count
        pus = r.cpus.count
        let allowed = Set(r.cpus)
        let nodeCPUs = r.numaNodes.map { Set($0.cpus).intersection(allowed) }
        numa = nodeCPUs.filter { !$0.isEmpty }.count
        let listed = r.numaNodes.indices.prefix(numa)
        numaCores = listed.map { n in r.cores.filter { !nodeCPUs[n].isDisjoint(with: $0.cpus) }.count }
        numaMemoryMB = listed.map { r.numaNodes[$0].memoryMB }
        gpus = t.wire.gpus.count
        gpuNUMA = t.gpuLocality.map { locality in
            let set = Set(locality).intersection(allowed)
            let nodes = nodeCPUs.indices.filter { !nodeCPUs[$0].isDisjoint(with: set) }
            return set.isEmpty || nodes.isEmpty ? nil : nodes
        }
        hcas = r.fabrics.map(\.name)
    }

    /// The row as EXPECTED.tsv writes it (after the file name).
    var fields: [String] {
        func list(_ xs: [Int]) -> String { xs.map(String.init).joined(separator: ",") }
        let gpuNUMAField = gpuNUMA.isEmpty ? "-" : gpuNUMA.map { $0.map { $0.map(String.init).joined(separator: "+") } ?? "-" }
            .joined(separator: ";")
        return ["\(packages)", "\(cores)", "\(pus)", "\(numa)", list(numaCores), list(numaMemoryMB), "\(gpus)",
                gpuNUMAField, hcas.isEmpty ? "-" : hcas.joined(separator: ",")]
    }

    var description: String { fields.joined(separator: "\t") }
}
