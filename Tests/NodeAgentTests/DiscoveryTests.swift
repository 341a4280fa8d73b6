import ChessAPI
import XCTest
@testable import NodeAgent

final class DiscoveryTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// An hwloc synthetic topology exported to XML (2 packages, 2 NUMA domains of 64 GiB each,
    /// 8 cores of 2 threads per domain): NUMA domains with their cores, memory and threads.
    func testXMLTopologyGivesDomainsCoresAndThreads() throws {
        let t = try HwlocProbe.load(xml: Self.fixtures.appendingPathComponent("synthetic-2pack-4numa-32core.xml").path)
        XCTAssertEqual(t.wire.sockets, 2)
        XCTAssertEqual(t.wire.threadsPerCore, 2)
        XCTAssertEqual(t.coreCount, 32)
        XCTAssertEqual(t.wire.numa.count, 4)
        XCTAssertEqual(t.wire.numa.map(\.cores.count), [8, 8, 8, 8])
        XCTAssertEqual(t.wire.numa[1].cores, Array(8..<16))
        XCTAssertEqual(t.wire.numa[0].memoryMB, 65536)
        XCTAssertEqual(t.coreCPUs[0], [0, 1])
        XCTAssertEqual(t.coreCPUs[31], [62, 63])
        XCTAssertTrue(t.wire.gpus.isEmpty)
    }

    /// The live machine (whatever runs the tests) and its own XML export agree.
    func testLiveMachineMatchesItsExport() throws {
        let live = try HwlocProbe.load()
        XCTAssertGreaterThan(live.coreCount, 0)
        XCTAssertEqual(live.wire.numa.reduce(0) { $0 + $1.cores.count }, live.coreCount)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hwloc-\(UUID().uuidString).xml")
        try HwlocProbe.exportXML().write(to: dir, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: dir) }
        let exported = try HwlocProbe.load(xml: dir.path)
        XCTAssertEqual(exported.wire.numa.map(\.cores), live.wire.numa.map(\.cores))
        XCTAssertEqual(exported.coreCPUs, live.coreCPUs)
    }

    func testTheRecordedCIMachineLoads() throws {
        let t = try HwlocProbe.load(xml: Self.fixtures.appendingPathComponent("this-ci-machine.xml").path)
        XCTAssertEqual(t.coreCount, 2)
        XCTAssertEqual(t.wire.numa.count, 1)
    }

    func testBadXMLIsAClearError() {
        XCTAssertThrowsError(try HwlocProbe.load(xml: "/nonexistent.xml")) { XCTAssertTrue("\($0)".contains("no such file")) }
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("junk-\(UUID().uuidString).xml")
        try? "not xml".write(to: junk, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: junk) }
        XCTAssertThrowsError(try HwlocProbe.load(xml: junk.path))
    }

    func testGPUTypeNames() {
        XCTAssertEqual(GPUNaming.type(fromName: "NVIDIA A100-SXM4-40GB"), "a100")
        XCTAssertEqual(GPUNaming.type(fromName: "GA100 [A100 PCIe 40GB]"), "a100")
        XCTAssertEqual(GPUNaming.type(fromName: "Tesla V100-SXM2-16GB"), "v100")
        XCTAssertEqual(GPUNaming.type(fromName: "NVIDIA H100 80GB HBM3"), "h100")
        XCTAssertEqual(GPUNaming.type(fromName: "NVIDIA L40S"), "l40s")
        XCTAssertEqual(GPUNaming.type(fromName: "AMD Instinct MI250X", vendor: 0x1002), "mi250x")
        XCTAssertEqual(GPUNaming.type(fromName: "Some Graphics Card"), "gpu")
        XCTAssertEqual(GPUNaming.type(fromName: nil, vendor: 0x1002), "amdgpu")
    }
}

final class InfiniBandTests: XCTestCase {
    /// libibverbs answers on any machine; without RDMA hardware the answer is no ports.
    func testTheLibraryAnswers() {
        let ports = InfiniBandProbe.ports()
        for p in ports { XCTAssertFalse(p.device.isEmpty) }
        if !FileManager.default.fileExists(atPath: "/sys/class/infiniband") { XCTAssertTrue(ports.isEmpty) }
    }

    func testRates() {
        XCTAssertEqual(InfiniBandProbe.rate(width: 2, speed: 32), 100)   // 4x EDR
        XCTAssertEqual(InfiniBandProbe.rate(width: 2, speed: 64), 200)   // 4x HDR
        XCTAssertEqual(InfiniBandProbe.rate(width: 1, speed: 1), 2)      // 1x SDR
    }
}

/// `nvidia-smi -q -x` parsing on a sample written after nvidia-smi's XML schema
/// (`nvsmi_device_v12.dtd`, driver 535): two GPUs, ECC counts and the newer `gpu_power_readings`
/// element. The recorded outputs in `../shared/data/nvidia-smi` are read in `RecordedNvidiaSMITests`.
final class NvidiaSMIParserTests: XCTestCase {
    let sample = """
        <?xml version="1.0" ?>
        <!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
        <nvidia_smi_log>
            <driver_version>535.104.05</driver_version>
            <attached_gpus>2</attached_gpus>
            <gpu id="00000000:17:00.0">
                <product_name>NVIDIA A100-SXM4-40GB</product_name>
                <uuid>GPU-5a4e0c7b-1111-2222-3333-444455556666</uuid>
                <mig_mode><current_mig>Disabled</current_mig><pending_mig>Disabled</pending_mig></mig_mode>
                <fb_memory_usage><total>40960 MiB</total><reserved>571 MiB</reserved><used>4 MiB</used><free>40384 MiB</free></fb_memory_usage>
                <utilization><gpu_util>37 %</gpu_util><memory_util>1 %</memory_util></utilization>
                <ecc_errors><volatile><sram_correctable>0</sram_correctable><sram_uncorrectable>0</sram_uncorrectable><dram_correctable>0</dram_correctable><dram_uncorrectable>2</dram_uncorrectable></volatile></ecc_errors>
                <temperature><gpu_temp>34 C</gpu_temp></temperature>
                <gpu_power_readings><power_draw>54.10 W</power_draw></gpu_power_readings>
            </gpu>
            <gpu id="00000000:CA:00.0">
                <product_name>NVIDIA A100-SXM4-40GB</product_name>
                <uuid>GPU-aaaa</uuid>
                <mig_mode><current_mig>Enabled</current_mig></mig_mode>
                <fb_memory_usage><total>40960 MiB</total><used>0 MiB</used></fb_memory_usage>
                <utilization><gpu_util>N/A</gpu_util></utilization>
                <temperature><gpu_temp>31 C</gpu_temp></temperature>
                <power_readings><power_draw>60.00 W</power_draw></power_readings>
            </gpu>
        </nvidia_smi_log>
        """

    func testGPUsAndTheirMetrics() throws {
        let gpus = try NvidiaSMIParser.parse(Data(sample.utf8))
        XCTAssertEqual(gpus.count, 2)
        XCTAssertEqual(gpus[0].name, "NVIDIA A100-SXM4-40GB")
        XCTAssertEqual(gpus[0].pciBusID, "00000000:17:00.0")
        XCTAssertEqual(gpus[0].memoryTotalMB, 40960)
        XCTAssertEqual(gpus[0].utilizationPercent, 37)
        XCTAssertEqual(gpus[0].temperatureC, 34)
        XCTAssertEqual(gpus[0].powerMilliwatts, 54100)
        XCTAssertEqual(gpus[0].eccUncorrected, 2)
        XCTAssertEqual(gpus[0].migEnabled, false)
        XCTAssertNil(gpus[1].utilizationPercent)
        XCTAssertEqual(gpus[1].powerMilliwatts, 60000)
        XCTAssertEqual(gpus[1].migEnabled, true)
        XCTAssertThrowsError(try NvidiaSMIParser.parse(Data("<nvidia_smi_log><gpu".utf8)))
    }

    /// NVML names land on hwloc's GPUs by bus id, whatever the case and domain width.
    func testNamesMergeIntoHwlocGPUsByBusID() throws {
        var topology = AgentTopology(sockets: 2, threadsPerCore: 1, numa: [],
                                     gpus: [.init(index: 0, type: "gpu", numa: 1, pciBusID: "0000:ca:00.0"),
                                            .init(index: 1, type: "gpu", numa: 0, pciBusID: "00000000:17:00.0")])
        GPUProbe.merge(try NvidiaSMIParser.parse(Data(sample.utf8)), into: &topology)
        XCTAssertEqual(topology.gpus.map(\.type), ["a100", "a100"])
        XCTAssertEqual(topology.gpus[0].uuid, "GPU-aaaa")
        XCTAssertEqual(topology.gpus[0].numa, 1)
    }

    /// Without a driver, NVML is not there and discovery finds no GPU (not an error).
    func testNoDriverMeansNoGPU() {
        if dlopen("libnvidia-ml.so.1", RTLD_NOW) == nil && !FileManager.default.fileExists(atPath: "/usr/bin/nvidia-smi") {
            XCTAssertNil(NVML.devices())
            XCTAssertEqual(GPUProbe.discover(), [])
        }
    }
}

final class NUMADistanceTests: XCTestCase {
    /// libnuma answers for the live host: local distance 10 on the diagonal, symmetric.
    func testLiveHostDistances() throws {
        let host = try HwlocProbe.load()
        guard let d = NUMADistances.read(osIndexes: host.wire.numa.map { host.numaOSIndex[$0.id] ?? $0.id }) else {
            return  // No NUMA support in this kernel: nothing to check.
        }
        XCTAssertEqual(d.count, host.wire.numa.count)
        for i in d.indices {
            XCTAssertEqual(d[i][i], 10)
            for j in d.indices { XCTAssertEqual(d[i][j], d[j][i]) }
        }
    }
}
