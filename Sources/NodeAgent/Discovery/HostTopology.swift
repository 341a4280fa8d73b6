import ChessAPI
import Foundation

/// A node's hardware as the agent knows it: what registration reports (`wire`), plus what
/// launching needs and the controller does not (the OS CPU numbers of each core, for binding).
///
/// The scheduling model, made from hwloc's reading of the machine by `init(reading:)`:
/// - A core is what hwloc calls a Core, with its hardware threads (1 on an efficiency core, 2 on a
///   performance core of the same chip); where hwloc knows no cores, each CPU is one.
/// - Each core belongs to exactly one NUMA domain, the most local NUMA node that has CPUs, so the
///   domains' cores add up to the machine's and no core is handed out twice.
/// - A NUMA node that owns no core (HBM, MCDRAM, CXL or NVDIMM memory, a memory tier that shares
///   a DRAM node's CPUs) is not a domain: its memory is added to the domain it is local to, and
///   jobs bound to that domain may use it.
/// - GPUs are compute devices (see `isComputeGPU`), in PCI bus order, in the domain they hang off.
struct HostTopology: Sendable, Equatable {
    var wire: AgentTopology
    /// For each core (logical index, as the controller allocates them): its hardware threads'
    /// OS CPU numbers.
    var coreCPUs: [[Int]]
    /// The OS index of each domain's own NUMA node (for distances), by domain id.
    var numaOSIndex: [Int: Int]
    /// The OS NUMA nodes a job bound to a domain may allocate from: its own and the memory-only
    /// nodes attached to it, by domain id.
    var memoryNodes: [Int: [Int]]
    /// The CPUs each GPU is local to (in `wire.gpus` order), for reports in hwloc's terms.
    var gpuLocality: [[Int]] = []
    /// hwloc's own reading, when the topology came from hwloc.
    var reading: TopologyReading?

    var coreCount: Int { coreCPUs.count }

    init(wire: AgentTopology, coreCPUs: [[Int]], numaOSIndex: [Int: Int], memoryNodes: [Int: [Int]]? = nil) {
        self.wire = wire
        self.coreCPUs = coreCPUs
        self.numaOSIndex = numaOSIndex
        self.memoryNodes = memoryNodes ?? numaOSIndex.mapValues { [$0] }
    }
}

extension HostTopology {
    init(reading r: TopologyReading) {
        let units: [[Int]] = r.cores.isEmpty ? r.cpus.map { [$0] } : r.cores.map(\.cpus).filter { !$0.isEmpty }
        let nodeCPUs = r.numaNodes.map { Set($0.cpus) }

        // Each core to its most local CPU-having NUMA node.
        func rank(_ n: Int) -> (Int, Int, Int, Int) {
            let node = r.numaNodes[n]
            let memoryOnly = node.kernelHasCPUs == false ? 1 : 0
            let kind = node.kind.map { $0.uppercased() == "DRAM" } ?? true ? 0 : 1
            return (memoryOnly, nodeCPUs[n].count, kind, node.osIndex)
        }
        let owner: [Int?] = units.map { cpus in
            let unit = Set(cpus)
            var candidates = nodeCPUs.indices.filter { unit.isSubset(of: nodeCPUs[$0]) }
            if candidates.isEmpty { candidates = nodeCPUs.indices.filter { !unit.isDisjoint(with: nodeCPUs[$0]) } }
            return candidates.min { rank($0) < rank($1) }
        }
        // No NUMA node with CPUs (no NUMA information, or a cgroup that leaves none) makes one
        // domain with every core and all the memory.
        let domainNodes = Array(Set(owner.compactMap { $0 })).sorted()
        var domainOf: [Int: Int] = [:]
        for (d, n) in domainNodes.enumerated() { domainOf[n] = d }

        var cores: [[Int]] = Array(repeating: [], count: max(domainNodes.count, 1))
        for (u, o) in owner.enumerated() {
            // A core outside every CPU-having node (hwloc's oddities) joins the first domain.
            cores[o.flatMap { domainOf[$0] } ?? 0].append(u)
        }
        let domainCPUs = cores.map { Set($0.flatMap { units[$0] }) }
        func domain(localTo cpus: [Int]) -> Int? {
            let set = Set(cpus)
            return domainCPUs.firstIndex { !$0.isDisjoint(with: set) }
        }

        var memory = domainNodes.map { r.numaNodes[$0].memoryMB }
        var mems = domainNodes.map { [r.numaNodes[$0].osIndex] }
        var memoryParts = domainNodes.map { [r.numaNodes[$0]] }
        if domainNodes.isEmpty {
            let all = r.numaNodes.reduce(0) { $0 + $1.memoryMB }
            memory = [r.numaNodes.isEmpty ? r.totalMemoryMB : all]
            mems = [r.numaNodes.map(\.osIndex)]
            memoryParts = [r.numaNodes]
        } else {
            for (n, node) in r.numaNodes.enumerated() where domainOf[n] == nil {
                // Memory-only: to the domain it is local to (the first, when it is local to several).
                let d = domain(localTo: node.locality) ?? 0
                memory[d] += node.memoryMB
                mems[d].append(node.osIndex)
                memoryParts[d].append(node)
            }
        }

        let domains = cores.indices.map { d in
            var domain = AgentTopology.Domain(id: d, cores: cores[d], memoryMB: memory[d])
            if memoryParts[d].count > 1 {
                domain.memoryNodes = memoryParts[d].map { .init(osIndex: $0.osIndex, kind: $0.kind, memoryMB: $0.memoryMB) }
            }
            return domain
        }

        // GPUs in PCI bus order, the order CUDA_VISIBLE_DEVICES counts in (CUDA_DEVICE_ORDER=PCI_BUS_ID).
        let gpuDevices = r.pciDevices.filter(Self.isComputeGPU).sorted { $0.busID < $1.busID }
        let gpus = gpuDevices.enumerated().map { i, p in
            AgentTopology.GPU(index: i, type: GPUNaming.type(fromName: p.name, vendor: p.vendorID),
                              numa: domain(localTo: p.locality), pciBusID: p.busID)
        }
        let hcas = r.fabrics.map { f in
            Self.describe(f, domain: domain(localTo: f.locality))
        }

        var wire = AgentTopology(sockets: max(r.packages, 1), threadsPerCore: max(units.map(\.count).max() ?? 1, 1),
                                 numa: domains, gpus: gpus, hcas: hcas)
        wire.cpus = units.reduce(0) { $0 + $1.count }
        var osIndex: [Int: Int] = [:]
        var memoryNodes: [Int: [Int]] = [:]
        for d in domains.indices {
            if let first = mems[d].first { osIndex[d] = first }
            memoryNodes[d] = mems[d]
        }
        if domainNodes.isEmpty, r.numaNodes.isEmpty { osIndex[0] = 0; memoryNodes[0] = [0] }
        self.init(wire: wire, coreCPUs: units, numaOSIndex: osIndex, memoryNodes: memoryNodes)
        gpuLocality = gpuDevices.map(\.locality)
        reading = r
    }

    /// A compute GPU, as `../shared/data/SOURCES.md` defines it: a 3D controller (PCI class
    /// 0x0302), any display controller from NVIDIA, or a display controller with a compute
    /// interface under it (CUDA, OpenCL, NVML, ROCm SMI, Level Zero). A server's BMC display chip
    /// (ASPEED, Matrox, ATI ES1000) is none of these.
    static func isComputeGPU(_ p: TopologyReading.PCIDevice) -> Bool {
        guard p.classID >> 8 == 0x03 else { return false }
        if p.classID == 0x0302 || p.vendorID == 0x10de { return true }
        let computeKinds = ["cuda", "opencl", "nvml", "rsmi", "levelzero"]
        return p.osDevices.contains { os in
            if let subtype = os.subtype?.lowercased(), computeKinds.contains(subtype) { return true }
            let name = os.name.lowercased()
            return ["cuda", "opencl", "nvml", "rsmi", "ze"].contains { name.hasPrefix($0) && name.dropFirst($0.count).first?.isNumber == true }
        }
    }

    /// `mlx5_0 numa=0 port1 ACTIVE LID 12 GUID …`: name, NUMA domain and, where hwloc has them
    /// (a live machine or XML exported from one), its ports.
    static func describe(_ f: TopologyReading.Fabric, domain: Int?) -> String {
        var words = [f.name, "numa=\(domain.map(String.init) ?? "-")"]
        if let bus = f.busID { words.append("pci=\(bus)") }
        let ports = Set(f.info.keys.compactMap { key -> Int? in
            guard key.hasPrefix("Port"), let end = key.dropFirst(4).firstIndex(where: { !$0.isNumber }) else { return nil }
            return Int(key[key.index(key.startIndex, offsetBy: 4)..<end])
        }).sorted()
        for p in ports {
            var port = ["port\(p)"]
            if let state = f.info["Port\(p)State"] { port.append(Self.portState(state)) }
            if let lid = f.info["Port\(p)LID"] { port.append("LID \(lid)") }
            words.append(port.joined(separator: " "))
        }
        if let guid = f.info["NodeGUID"] { words.append("GUID \(guid)") }
        return words.joined(separator: " ")
    }

    /// hwloc records the verbs port state as its number (4 = ACTIVE).
    static func portState(_ value: String) -> String {
        switch value {
        case "1": return "DOWN"
        case "2": return "INIT"
        case "3": return "ARMED"
        case "4": return "ACTIVE"
        case "5": return "ACTIVE_DEFER"
        default: return value
        }
    }
}
