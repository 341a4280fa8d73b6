import CHwloc
import ChessAPI
import Foundation

/// Reads a machine's topology through hwloc: the live machine, or an hwloc XML export of
/// another one (`--topology FILE.xml`, which is how one host presents many real nodes).
///
/// Packages, NUMA domains with their memory, cores and their hardware threads; PCI GPUs
/// (NVIDIA, AMD) and InfiniBand HCAs placed in the NUMA domain they hang off.
enum HwlocProbe {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func load(xml path: String? = nil) throws -> HostTopology {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else { throw Failure(description: "hwloc_topology_init failed") }
        defer { hwloc_topology_destroy(topology) }
        if let path {
            guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "\(path): no such file") }
            guard hwloc_topology_set_xml(topology, path) == 0 else {
                throw Failure(description: "\(path): not an hwloc XML topology (\(String(cString: strerror(errno))))")
            }
        }
        // PCI devices and OS devices (GPUs, HCAs) are filtered out by default.
        hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT)
        guard hwloc_topology_load(topology) == 0 else {
            throw Failure(description: "\(path ?? "this machine"): hwloc cannot load the topology")
        }
        return read(topology)
    }

    static func objects(_ t: hwloc_topology_t, _ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
        let n = hwloc_get_nbobjs_by_type(t, type)
        guard n > 0 else { return [] }
        return (0..<UInt32(n)).compactMap { hwloc_get_obj_by_type(t, type, $0) }
    }

    static func indexes(_ set: hwloc_const_bitmap_t?) -> [Int] {
        guard let set else { return [] }
        var out: [Int] = []
        var i = hwloc_bitmap_first(set)
        while i >= 0 {
            out.append(Int(i))
            i = hwloc_bitmap_next(set, i)
        }
        return out
    }

    static func read(_ t: hwloc_topology_t) -> HostTopology {
        let packages = objects(t, HWLOC_OBJ_PACKAGE)
        let cores = objects(t, HWLOC_OBJ_CORE)
        let numa = objects(t, HWLOC_OBJ_NUMANODE)
        let coreCPUs = cores.map { indexes($0.pointee.cpuset) }
        let threads = coreCPUs.map(\.count).max() ?? 1

        var domains: [AgentTopology.Domain] = []
        var numaOS: [Int: Int] = [:]
        for (i, node) in numa.enumerated() {
            let memoryMB = Int(node.pointee.attr.pointee.numanode.local_memory / (1024 * 1024))
            let coreIDs = cores.enumerated().filter { _, core in
                hwloc_bitmap_isincluded(core.pointee.cpuset, node.pointee.cpuset) != 0
            }.map(\.offset)
            domains.append(.init(id: i, cores: coreIDs, memoryMB: memoryMB))
            numaOS[i] = Int(node.pointee.os_index)
        }
        if domains.isEmpty {
            // No NUMA information: one domain with everything.
            let memory = Int((objects(t, HWLOC_OBJ_MACHINE).first?.pointee.total_memory ?? 0) / (1024 * 1024))
            domains = [.init(id: 0, cores: Array(cores.indices), memoryMB: memory)]
            numaOS[0] = 0
        }

        func domain(of obj: hwloc_obj_t) -> Int? {
            guard let ancestor = hwloc_get_non_io_ancestor_obj(t, obj) else { return nil }
            let set = ancestor.pointee.nodeset
            return numa.firstIndex { hwloc_bitmap_isset(set, $0.pointee.os_index) != 0 }
        }

        var gpus: [AgentTopology.GPU] = []
        var hcas: [String] = []
        for pci in objects(t, HWLOC_OBJ_PCI_DEVICE) {
            let attr = pci.pointee.attr.pointee.pcidev
            let classID = Int(attr.class_id)
            let busID = String(format: "%08x:%02x:%02x.%x", Int(attr.domain), Int(attr.bus), Int(attr.dev), Int(attr.func))
            let name = pci.pointee.name.map { String(cString: $0) }
            // Display (0x03xx) or 3D controllers from NVIDIA and AMD; InfiniBand (0x0207).
            if classID >> 8 == 0x03, attr.vendor_id == 0x10de || attr.vendor_id == 0x1002 {
                gpus.append(.init(index: 0, type: GPUNaming.type(fromName: name, vendor: Int(attr.vendor_id)),
                                  numa: domain(of: pci), uuid: nil, pciBusID: busID))
            } else if classID == 0x0207 {
                let osdev = children(of: pci).compactMap { $0.pointee.name.map { String(cString: $0) } }.first
                hcas.append("\(osdev ?? "hca") \(busID) numa=\(domain(of: pci).map(String.init) ?? "?")")
            }
        }
        // PCI bus order is CUDA_VISIBLE_DEVICES's order (CUDA_DEVICE_ORDER=PCI_BUS_ID).
        gpus.sort { ($0.pciBusID ?? "") < ($1.pciBusID ?? "") }
        for i in gpus.indices { gpus[i].index = i }

        let wire = AgentTopology(sockets: max(packages.count, 1), threadsPerCore: max(threads, 1), numa: domains,
                                 gpus: gpus, hcas: hcas)
        return HostTopology(wire: wire, coreCPUs: coreCPUs, numaOSIndex: numaOS)
    }

    static func children(of obj: hwloc_obj_t) -> [hwloc_obj_t] {
        var out: [hwloc_obj_t] = []
        var child = obj.pointee.io_first_child
        while let c = child {
            out.append(c)
            child = c.pointee.next_sibling
        }
        return out
    }

    /// This machine's topology as hwloc XML (for `chess-nodeagent --export-topology`).
    static func exportXML() throws -> String {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else { throw Failure(description: "hwloc_topology_init failed") }
        defer { hwloc_topology_destroy(topology) }
        hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT)
        guard hwloc_topology_load(topology) == 0 else { throw Failure(description: "hwloc cannot load this machine's topology") }
        var buffer: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        guard hwloc_topology_export_xmlbuffer(topology, &buffer, &length, 0) == 0, let buffer else {
            throw Failure(description: "hwloc cannot export XML")
        }
        defer { hwloc_free_xmlbuffer(topology, buffer) }
        return String(cString: buffer)
    }
}

/// GPU type names as sites write them in `gpu_type` (`a100`, `h100`, `mi250x`).
enum GPUNaming {
    /// From a device name such as "NVIDIA A100-SXM4-40GB" or "GA100 [A100 PCIe 40GB]": the first
    /// word that is one or two letters, digits, and at most one more letter (A100, H100, L40S,
    /// MI250X, T4), skipping NVIDIA's chip codes (GA100, GH100, …).
    static func type(fromName name: String?, vendor: Int = 0x10de) -> String {
        let fallback = vendor == 0x1002 ? "amdgpu" : "gpu"
        guard let name else { return fallback }
        let chipPrefixes: Set<String> = ["GA", "GH", "GV", "GP", "GK", "GM", "TU", "AD", "GB"]
        for word in name.uppercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            let letters = word.prefix { $0.isLetter }
            let digits = word.dropFirst(letters.count).prefix { $0.isNumber }
            let tail = word.dropFirst(letters.count + digits.count)
            guard (1...2).contains(letters.count), !digits.isEmpty, tail.count <= 1, tail.allSatisfy(\.isLetter),
                  !chipPrefixes.contains(String(letters)) else { continue }
            return word.lowercased()
        }
        return fallback
    }
}
