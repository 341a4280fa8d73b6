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
