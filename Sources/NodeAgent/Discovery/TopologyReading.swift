/// What hwloc says about a machine, before CHESS decides how to schedule it: plain values copied
/// out of a loaded hwloc topology (so that the decisions in `HostTopology.init(reading:)` are pure
/// and testable), with CPUs as OS numbers. hwloc has already left out disallowed and offline CPUs.
struct TopologyReading: Sendable, Equatable {
    struct NUMANode: Sendable, Equatable {
        /// The kernel's node number (`/sys/devices/system/node/nodeN`).
        var osIndex: Int
        /// hwloc's subtype (`DRAM`, `HBM`, `MCDRAM`, `NVM`, `CXL-DRAM`…), when it knows one.
        var kind: String?
        /// Local memory in MiB, rounded down.
        var memoryMB: Int
        /// The CPUs of the node's cpuset (empty for a CPU-less node that hwloc left without one).
        var cpus: [Int]
        /// The CPUs the node is local to: its own cpuset, or its nearest ancestor's that has CPUs.
        var locality: [Int]
        /// On a live machine, whether the kernel lists CPUs for this node; nil when unknown (XML).
        var kernelHasCPUs: Bool? = nil
    }

    struct Core: Sendable, Equatable {
        /// The core's hardware threads, as OS CPU numbers.
        var cpus: [Int]
    }

    /// An OS device under a PCI device (`cuda0`, `opencl0d1`, `nvml0`, `card0`, `mlx5_0`).
    struct OSDevice: Sendable, Equatable {
        var name: String
        var subtype: String?
        /// hwloc's `hwloc_obj_osdev_type_e` value.
        var type: Int
    }

    struct PCIDevice: Sendable, Equatable {
        /// `00000000:17:00.0`: lower case, with nvidia-smi's eight-digit domain.
        var busID: String
        var classID: Int
        var vendorID: Int
        var deviceID: Int
        var name: String?
        var osDevices: [OSDevice]
        /// The CPUs of the nearest non-I/O ancestor (the part of the machine the device hangs off).
        var locality: [Int]
    }

    /// An OpenFabrics (verbs) device: an InfiniBand HCA, or an RDMA-capable Ethernet adapter.
    struct Fabric: Sendable, Equatable {
        var name: String
        var busID: String?
        var locality: [Int]
        /// hwloc's info attributes (`NodeGUID`, `Port1State`, `Port1LID`…), present on a live
        /// machine and in XML exported from one.
        var info: [String: String]
    }

    var packages: Int
    /// Every CPU the topology allows, as OS numbers.
    var cpus: [Int]
    /// hwloc's Core objects, in logical order; empty where hwloc knows no cores.
    var cores: [Core]
    /// All NUMA nodes, in hwloc's logical order.
    var numaNodes: [NUMANode]
    /// The machine's memory (when there is no NUMA information), MiB.
    var totalMemoryMB: Int
    var pciDevices: [PCIDevice]
    var fabrics: [Fabric]
}
