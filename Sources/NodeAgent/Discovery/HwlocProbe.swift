import CHwloc
import ChessAPI
import Foundation

/// Reads a machine's topology through hwloc: the live machine, or an hwloc XML export of
/// another one (`--topology FILE.xml`, which is how one host presents many real nodes).
///
/// `reading` copies hwloc's answer into plain values; `HostTopology.init(reading:)` decides what
/// CHESS schedules (cores, NUMA domains, compute GPUs, HCAs).
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
        return read(topology, live: path == nil)
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

    static func read(_ t: hwloc_topology_t, live: Bool = false) -> HostTopology {
        HostTopology(reading: reading(t, live: live))
    }

    /// Copies what scheduling needs out of a loaded topology.
    static func reading(_ t: hwloc_topology_t, live: Bool) -> TopologyReading {
        let root = hwloc_get_root_obj(t)!
        let cores = objects(t, HWLOC_OBJ_CORE).map { TopologyReading.Core(cpus: indexes($0.pointee.cpuset)) }
        let numa = objects(t, HWLOC_OBJ_NUMANODE).map { node -> TopologyReading.NUMANode in
            let os = Int(node.pointee.os_index)
            var hasCPUs: Bool?
            if live, let list = try? String(contentsOfFile: "/sys/devices/system/node/node\(os)/cpulist", encoding: .utf8) {
                hasCPUs = !list.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            return .init(osIndex: os, kind: node.pointee.subtype.map { String(cString: $0) },
                         memoryMB: Int(node.pointee.attr.pointee.numanode.local_memory / (1024 * 1024)),
                         cpus: indexes(node.pointee.cpuset), locality: locality(of: node), kernelHasCPUs: hasCPUs)
        }

        var pci: [TopologyReading.PCIDevice] = []
        for device in objects(t, HWLOC_OBJ_PCI_DEVICE) {
            let attr = device.pointee.attr.pointee.pcidev
            guard Int(attr.class_id) >> 8 == 0x03 else { continue }  // display controllers: the GPU candidates
            let osDevices = children(of: device).filter { $0.pointee.type == HWLOC_OBJ_OS_DEVICE }.map { os in
                TopologyReading.OSDevice(name: os.pointee.name.map { String(cString: $0) } ?? "",
                                         subtype: os.pointee.subtype.map { String(cString: $0) },
                                         type: Int(os.pointee.attr.pointee.osdev.type.rawValue))
            }
            pci.append(.init(busID: busID(device), classID: Int(attr.class_id), vendorID: Int(attr.vendor_id),
                             deviceID: Int(attr.device_id),
                             name: device.pointee.name.map { String(cString: $0) } ?? info(device, "PCIDevice"),
                             osDevices: osDevices, locality: ioLocality(of: t, device)))
        }

        var fabrics: [TopologyReading.Fabric] = []
        var os = hwloc_get_next_osdev(t, nil)
        while let device = os {
            if device.pointee.attr.pointee.osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS {
                let parent = device.pointee.parent
                let bus = parent.flatMap { $0.pointee.type == HWLOC_OBJ_PCI_DEVICE ? busID($0) : nil }
                fabrics.append(.init(name: device.pointee.name.map { String(cString: $0) } ?? "hca", busID: bus,
                                     locality: ioLocality(of: t, device), info: infos(device)))
            }
            os = hwloc_get_next_osdev(t, device)
        }

        let machineMemory = Int(root.pointee.total_memory / (1024 * 1024))
        // Packages with no allowed CPU (a cgroup's leftovers) are not the machine's: hwloc-calc does not count them.
        let packages = objects(t, HWLOC_OBJ_PACKAGE).filter { hwloc_bitmap_intersects($0.pointee.cpuset, root.pointee.cpuset) != 0 }
        return TopologyReading(packages: packages.count, cpus: indexes(root.pointee.cpuset),
                               cores: cores, numaNodes: numa, totalMemoryMB: machineMemory, pciDevices: pci,
                               fabrics: fabrics)
    }

    /// `00000000:17:00.0`, lower case, with nvidia-smi's eight-digit domain.
    static func busID(_ device: hwloc_obj_t) -> String {
        let a = device.pointee.attr.pointee.pcidev
        return String(format: "%08x:%02x:%02x.%x", Int(a.domain), Int(a.bus), Int(a.dev), Int(a.func))
    }

    /// The CPUs an object is local to: its own cpuset, else (I/O objects, CPU-less memory) that of
    /// its nearest ancestor with CPUs.
    static func locality(of obj: hwloc_obj_t) -> [Int] {
        var current: hwloc_obj_t? = obj
        while let o = current {
            if let set = o.pointee.cpuset, hwloc_bitmap_iszero(set) == 0 { return indexes(set) }
            current = o.pointee.parent
        }
        return []
    }

    /// The CPUs an I/O object is local to: its nearest non-I/O ancestor's cpuset, which may hold
    /// no allowed CPU (then it is local to none: hwloc-calc's answer too).
    static func ioLocality(of t: hwloc_topology_t, _ obj: hwloc_obj_t) -> [Int] {
        hwloc_get_non_io_ancestor_obj(t, obj).map { indexes($0.pointee.cpuset) } ?? []
    }

    static func info(_ obj: hwloc_obj_t, _ name: String) -> String? {
        hwloc_obj_get_info_by_name(obj, name).map { String(cString: $0) }
    }

    static func infos(_ obj: hwloc_obj_t) -> [String: String] {
        var out: [String: String] = [:]
        guard let list = obj.pointee.infos else { return out }
        for i in 0..<Int(obj.pointee.infos_count) {
            guard let name = list[i].name, let value = list[i].value else { continue }
            out[String(cString: name)] = String(cString: value)
        }
        return out
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
