import ChessAPI
import Foundation
import Testing
@testable import NodeAgent

/// The real topologies in `../shared/data/hwloc` (or the folder `CHESS_HWLOC_DATA` names, for a
/// held-out set laid out the same way), one test case per XML file found there: a new file is
/// tested without a code change.
enum HwlocData {
    static let folder: URL = {
        if let custom = ProcessInfo.processInfo.environment["CHESS_HWLOC_DATA"] { return URL(fileURLWithPath: custom) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/hwloc")
    }()

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".xml") }.sorted()

    /// EXPECTED.tsv's rows by file name: the columns after the name.
    static let expected: [String: [String]] = {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("EXPECTED.tsv"), encoding: .utf8) else { return [:] }
        var rows: [String: [String]] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.count > 1 { rows[fields[0]] = Array(fields.dropFirst()) }
        }
        return rows
    }()

    static func load(_ file: String) throws -> HostTopology {
        try HwlocProbe.load(xml: folder.appendingPathComponent(file).path)
    }
}

@Suite("Real hwloc topologies")
struct RealTopologyTests {
    @Test func theDataIsThere() throws {
        try #require(!HwlocData.files.isEmpty, "no hwloc XML in \(HwlocData.folder.path)")
        #expect(HwlocData.expected.count == HwlocData.files.count, "EXPECTED.tsv rows against XML files")
    }

    /// Every column of EXPECTED.tsv (hwloc-calc and hwloc-info's answers): packages, cores,
    /// hardware threads, NUMA nodes with their cores and memory, compute GPUs with their NUMA
    /// locality, OpenFabrics devices.
    @Test(arguments: HwlocData.files)
    func agreesWithHwlocsOwnTools(file: String) throws {
        let expected = try #require(HwlocData.expected[file], "\(file) has no row in EXPECTED.tsv")
        let summary = HwlocSummary(try HwlocData.load(file))
        #expect(HwlocSummary.columns.count == expected.count)
        for (column, (got, want)) in zip(HwlocSummary.columns, zip(summary.fields, expected)) {
            #expect(got == want, "\(file) \(column)")
        }
    }

    /// The scheduling model: each core in exactly one NUMA domain (so the domains' cores add up to
    /// the machine's), every CPU hwloc allows in exactly one core, all NUMA memory in some domain,
    /// GPUs in domains that exist.
    @Test(arguments: HwlocData.files)
    func everyCoreIsInExactlyOneDomain(file: String) throws {
        let t = try HwlocData.load(file)
        let reading = try #require(t.reading)
        let domainCores = t.wire.numa.flatMap(\.cores)
        #expect(domainCores.sorted() == Array(0..<t.coreCount), "\(file): cores over the domains")
        #expect(t.coreCPUs.flatMap { $0 }.sorted() == reading.cpus.sorted(), "\(file): CPUs over the cores")
        #expect(t.wire.cpus == reading.cpus.count, "\(file): hardware threads")
        if reading.cores.isEmpty {
            #expect(t.coreCount == reading.cpus.count, "\(file): without Core objects each CPU is a core")
        } else {
            #expect(t.coreCount == reading.cores.count, "\(file)")
        }
        let numaMemory = reading.numaNodes.reduce(0) { $0 + $1.memoryMB }
        #expect(t.wire.numa.reduce(0) { $0 + $1.memoryMB } == (reading.numaNodes.isEmpty ? reading.totalMemoryMB : numaMemory),
                "\(file): memory over the domains")
        let osNodes = t.memoryNodes.values.flatMap { $0 }.sorted()
        #expect(osNodes == reading.numaNodes.map(\.osIndex).sorted() || reading.numaNodes.isEmpty, "\(file): every NUMA node bound somewhere")
        for g in t.wire.gpus {
            if let d = g.numa { #expect(t.wire.numa.indices.contains(d), "\(file): GPU \(g.index)") }
        }
        #expect(t.wire.numa.allSatisfy { !$0.cores.isEmpty } || t.coreCount == 0, "\(file): a domain without cores")
    }

    /// KNL in SNC-4 hybrid mode: each quadrant's MCDRAM is memory of that quadrant's DRAM domain,
    /// not a fifth-to-eighth domain with the same cores again.
    @Test func knlMCDRAMIsMemoryOfItsQuadrant() throws {
        let t = try HwlocData.load("64intel64-fakeKNL-SNC4-hybrid.v1tov2.xml")
        #expect(t.wire.numa.map(\.cores.count) == [4, 4, 4, 4])
        #expect(t.wire.numa.map(\.memoryMB) == [3072, 3072, 3072, 3072])
        #expect(t.wire.numa[0].memoryNodes?.map(\.kind) == ["DRAM", "MCDRAM"])
        #expect(t.memoryNodes[0] == [0, 7])
        #expect(t.wire.threadsPerCore == 4 && t.wire.cpus == 64)
    }

    /// Memory tiers (DRAM, HBM, NVM sharing CPUs): one domain per CPU-having node; the others
    /// are its memory.
    @Test func memoryTiersJoinTheDomainTheyShareCPUsWith() throws {
        let t = try HwlocData.load("linux-fakeheteromemtiers.xml")
        #expect(t.wire.numa.map(\.cores) == [[0, 1], [2, 3], [4, 5]])
        #expect(t.memoryNodes[1] == [1, 4, 6])
        #expect(t.wire.numa[1].memoryNodes?.map(\.kind) == ["DRAM", "HBM", "NVM"])
    }

    /// Offline hardware threads are not counted: 6 cores, 7 threads (five cores lost one).
    @Test func offlineThreadsAreLeftOut() throws {
        let t = try HwlocData.load("16em64t-4s2c2t-offlines.xml")
        #expect(t.coreCount == 6)
        #expect(t.wire.cpus == 7)
        #expect(t.coreCPUs.map(\.count).sorted() == [1, 1, 1, 1, 1, 2])
    }

    /// GPUs: NVIDIA's 3D controllers in bus order with their domains; the server's ATI ES1000 BMC
    /// chip is not one. The HCA is reported with its domain.
    @Test func gpusAreComputeDevicesInBusOrder() throws {
        let t = try HwlocData.load("24em64t-2n6c2t-pci.xml")
        #expect(t.wire.gpus.map(\.index) == [0, 1, 2])
        #expect(t.wire.gpus.map(\.numa) == [0, 1, 1])
        #expect(t.wire.gpus.compactMap(\.pciBusID) == t.wire.gpus.compactMap(\.pciBusID).sorted())
        #expect(t.wire.hcas.count == 1 && t.wire.hcas[0].hasPrefix("mlx4_0 numa=0"))

        // An AMD card with an OpenCL device under it counts; the Matrox BMC chip does not.
        let amd = try HwlocData.load("32em64t-2n8c2t-pci-normalio.xml")
        #expect(amd.wire.gpus.count == 4)
        #expect(amd.wire.gpus.contains { $0.type == "amdgpu" || $0.pciBusID == "00000000:84:00.1" })
    }
}

/// The model's decisions on readings made by hand: the cases a live machine adds.
@Suite("Topology model")
struct TopologyModelTests {
    func node(_ os: Int, _ kind: String?, _ mb: Int, _ cpus: [Int], hasCPUs: Bool? = nil) -> TopologyReading.NUMANode {
        .init(osIndex: os, kind: kind, memoryMB: mb, cpus: cpus, locality: cpus, kernelHasCPUs: hasCPUs)
    }

    /// On a live machine the kernel says which node has the CPUs, whatever hwloc calls it.
    @Test func theKernelsWordDecidesWhichNodeOwnsTheCores() {
        let r = TopologyReading(packages: 1, cpus: [0, 1, 2, 3], cores: [.init(cpus: [0, 1]), .init(cpus: [2, 3])],
                                numaNodes: [node(2, "CXL-DRAM", 4096, [0, 1, 2, 3], hasCPUs: false),
                                            node(0, "HBM", 1024, [0, 1, 2, 3], hasCPUs: true)],
                                totalMemoryMB: 0, pciDevices: [], fabrics: [])
        let t = HostTopology(reading: r)
        #expect(t.wire.numa.count == 1)
        #expect(t.numaOSIndex[0] == 0)
        #expect(t.memoryNodes[0] == [0, 2])
        #expect(t.wire.numa[0].memoryMB == 5120)
    }

    /// A hybrid CPU: performance cores with two threads, efficiency cores with one.
    @Test func hybridCoresCountTheirOwnThreads() {
        let r = TopologyReading(packages: 1, cpus: Array(0..<6),
                                cores: [.init(cpus: [0, 1]), .init(cpus: [2, 3]), .init(cpus: [4]), .init(cpus: [5])],
                                numaNodes: [node(0, nil, 8192, Array(0..<6))], totalMemoryMB: 8192, pciDevices: [], fabrics: [])
        let t = HostTopology(reading: r)
        #expect(t.coreCount == 4)
        #expect(t.wire.cpus == 6)
        #expect(t.wire.threadsPerCore == 2)
        #expect(t.coreCPUs == [[0, 1], [2, 3], [4], [5]])
    }

    /// No NUMA information at all: one domain, the machine's memory.
    @Test func noNUMANodesMakeOneDomain() {
        let r = TopologyReading(packages: 0, cpus: [0, 1], cores: [], numaNodes: [], totalMemoryMB: 2048,
                                pciDevices: [], fabrics: [])
        let t = HostTopology(reading: r)
        #expect(t.wire.sockets == 1)
        #expect(t.wire.numa == [.init(id: 0, cores: [0, 1], memoryMB: 2048)])
        #expect(t.memoryNodes[0] == [0])
    }

    @Test func gpuClassification() {
        func pci(_ cls: Int, _ vendor: Int, _ os: [TopologyReading.OSDevice] = []) -> TopologyReading.PCIDevice {
            .init(busID: "00000000:01:00.0", classID: cls, vendorID: vendor, deviceID: 1, name: nil, osDevices: os, locality: [])
        }
        #expect(HostTopology.isComputeGPU(pci(0x0302, 0x10de)))
        #expect(HostTopology.isComputeGPU(pci(0x0300, 0x10de)))
        #expect(HostTopology.isComputeGPU(pci(0x0300, 0x1002, [.init(name: "rsmi0", subtype: "RSMI", type: 1)])))
        #expect(HostTopology.isComputeGPU(pci(0x0380, 0x8086, [.init(name: "ze0", subtype: "LevelZero", type: 5)])))
        #expect(!HostTopology.isComputeGPU(pci(0x0300, 0x1a03, [.init(name: "card0", subtype: nil, type: 1)])))  // ASPEED BMC
        #expect(!HostTopology.isComputeGPU(pci(0x0300, 0x102b)))  // Matrox
        #expect(!HostTopology.isComputeGPU(pci(0x0300, 0x1002)))  // ATI ES1000
        #expect(!HostTopology.isComputeGPU(pci(0x0b40, 0x1bcf, [.init(name: "ve0", subtype: "VectorEngine", type: 5)])))
    }
}

/// The recorded `nvidia-smi -q -x` outputs in `../shared/data/nvidia-smi` (or `CHESS_NVIDIA_SMI_DATA`),
/// one test case per file, against its EXPECTED.tsv: MIG enabled, `N/A` values, the Windows driver.
enum NvidiaSMIData {
    static let folder: URL = {
        if let custom = ProcessInfo.processInfo.environment["CHESS_NVIDIA_SMI_DATA"] { return URL(fileURLWithPath: custom) }
        return HwlocData.folder.deletingLastPathComponent().appendingPathComponent("nvidia-smi")
    }()

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".xml") }.sorted()

    /// EXPECTED.tsv: one row per GPU, keyed by file.
    static let expected: [String: [[String]]] = {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("EXPECTED.tsv"), encoding: .utf8) else { return [:] }
        var rows: [String: [[String]]] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.count > 1 { rows[fields[0], default: []].append(Array(fields.dropFirst())) }
        }
        return rows
    }()
}

@Suite("Recorded nvidia-smi outputs")
struct RecordedNvidiaSMITests {
    @Test func theDataIsThere() {
        #expect(!NvidiaSMIData.files.isEmpty, "no nvidia-smi XML in \(NvidiaSMIData.folder.path)")
    }

    /// bus id, product, uuid, minor number, memory total and used (MiB), utilisation (%),
    /// temperature (°C), power draw (W), MIG mode; `-` where nvidia-smi says N/A.
    @Test(arguments: NvidiaSMIData.files)
    func readsAsExpected(file: String) throws {
        let gpus = try NvidiaSMIParser.parse(Data(contentsOf: NvidiaSMIData.folder.appendingPathComponent(file)))
        let expected = try #require(NvidiaSMIData.expected[file], "\(file) has no row in EXPECTED.tsv")
        #expect(gpus.count == expected.count)
        func dash(_ v: Int?) -> String { v.map(String.init) ?? "-" }
        for (g, want) in zip(gpus, expected) {
            let watts = g.powerMilliwatts.map { mw in
                let centi = (mw + 5) / 10
                return "\(centi / 100).\(centi % 100 < 10 ? "0" : "")\(centi % 100)"
            } ?? "-"
            let mig = g.migEnabled.map { $0 ? "Enabled" : "Disabled" } ?? "-"
            let got = [g.pciBusID, g.name, g.uuid, dash(g.minorNumber), "\(g.memoryTotalMB)", "\(g.memoryUsedMB)",
                       dash(g.utilizationPercent), dash(g.temperatureC), watts, mig]
            let columns = ["bus_id", "product", "uuid", "minor", "memory_total_mib", "memory_used_mib", "gpu_util_pct",
                           "temperature_c", "power_draw_w", "mig_mode"]
            for (column, (a, b)) in zip(columns, zip(got, want)) { #expect(a == b, "\(file) \(column)") }
        }
    }

    @Test func powerIsReadInIntegers() {
        #expect(NvidiaSMIParser.milliwatts("66.92 W") == 66920)
        #expect(NvidiaSMIParser.milliwatts("8.70 W") == 8700)
        #expect(NvidiaSMIParser.milliwatts("300 W") == 300_000)
        #expect(NvidiaSMIParser.milliwatts("N/A") == nil)
        #expect(NvidiaSMIParser.milliwatts("99999999999999999999 W") == nil)
    }

    /// A node's GPU figures go under the node's index for the GPU, matched by bus id; GPUs the
    /// driver knows and hwloc did not see join the topology.
    @Test func figuresFollowTheNodesGPUIndexes() throws {
        let gpus = try NvidiaSMIParser.parse(Data(contentsOf: NvidiaSMIData.folder.appendingPathComponent("rtx-3060.xml")))
        var topology = AgentTopology(sockets: 1, threadsPerCore: 1, numa: [])
        GPUProbe.merge(gpus, into: &topology)
        #expect(topology.gpus.map(\.index) == [0])
        #expect(topology.gpus[0].pciBusID == "00000000:01:00.0")
        #expect(topology.gpus[0].numa == nil)
        let metrics = GPUProbe.metrics(gpus, for: topology)
        #expect(metrics.map(\.index) == [0])
        #expect(metrics[0].temperatureC == 45 && metrics[0].powerMilliwatts == 8700 && metrics[0].migEnabled == nil)
    }
}
