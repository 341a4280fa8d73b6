import XCTest
import SchedulerCore
@testable import ChessAPI
@testable import ChessConfig

final class ConfigurationFileTests: XCTestCase {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testExampleConfigurationLoads() throws {
        let path = Self.repositoryRoot.appendingPathComponent("etc/chess.toml").path
        let c = try ConfigurationFile.load(path: path)
        XCTAssertEqual(c.clusterName, "demo")
        XCTAssertEqual(c.cluster.nodes.count, 6)
        XCTAssertEqual(c.cluster.partition(named: "gpu")?.nodes, ["gpu01", "gpu02"])
        XCTAssertEqual(c.cluster.partition(named: "batch")?.maxTime, 2 * 86400)
        XCTAssertEqual(c.cluster.qos(named: "spot")?.usageFactorPermille, 400)
        XCTAssertEqual(c.cluster.qos(named: "spot")?.preemptMode, .requeue)
        XCTAssertEqual(c.cluster.qos(named: "urgent")?.limits.maxWall, 12 * 3600)
        XCTAssertEqual(c.planner.policy, .easy)
        XCTAssertEqual(c.planner.weights.maxAge, 7 * 86400)
        XCTAssertEqual(c.listen, "127.0.0.1:6817")
        // Relative paths are resolved against the file's folder.
        XCTAssertEqual(c.keyFile, Self.repositoryRoot.appendingPathComponent("etc/cluster.key").standardizedFileURL.path)
        XCTAssertEqual(c.cluster.nodes.first { $0.name == "gpu01" }?.topology.gpus.count, 4)
        // Prices are exact micro-USDC; the [market] example is commented out.
        XCTAssertEqual(c.prices.prices(for: "gpu")?.gpuHour(type: "h100").units, 3_500_000)
        XCTAssertEqual(c.prices.prices(for: "batch")?.memoryGiBHour.units, 4_000)
        XCTAssertEqual(c.billing.platformFee.value, 300)
        XCTAssertNil(c.market)
    }

    let minimal = """
        cluster_name = "t"
        state_dir = "state"
        socket = "s.sock"
        [[nodes]]
        names = "n[1-2]"
        cores_per_socket = 4
        memory_mb = 1000
        [[partitions]]
        name = "p"
        nodes = "n[1-2]"
        """

    func testMinimalConfigurationGetsDefaults() throws {
        let c = try ConfigurationFile.parse(minimal, directory: "/etc/chess")
        XCTAssertEqual(c.stateDirectory, "/etc/chess/state")
        XCTAssertEqual(c.defaultPartition, "p")
        XCTAssertEqual(c.cluster.qos.map(\.name), ["normal"])
        XCTAssertNil(c.listen)
        XCTAssertEqual(c.schedulerInterval, 5)
        XCTAssertNil(c.healthCheck)
        XCTAssertEqual(c.privateData, [])
        // Slurm's comma-separated string, or a list; any case.
        XCTAssertEqual(try ConfigurationFile.parse("private_data = \"Jobs, usage\"\n" + minimal).privateData, [.jobs, .usage])
        XCTAssertEqual(try ConfigurationFile.parse("private_data = [\"nodes\"]\n" + minimal).privateData, [.nodes])
        let checked = try ConfigurationFile.parse(minimal + "\n[health_check]\nprogram = \"/usr/sbin/nhc\"\ntimeout = 30", directory: "/etc/chess")
        XCTAssertEqual(checked.healthCheck, HealthCheckSettings(program: "/usr/sbin/nhc", interval: 300, timeout: 30))
    }

    func testBadFilesNameTheKeyTheLineAndTheReason() {
        let cases: [(String, String)] = [
            (minimal + "\n[scheduler]\npolicy = \"lottery\"", "line 12: scheduler.policy: 'lottery' is not one of fifo, easy, conservative"),
            (minimal + "\nmax_tim = 3", "line 11: partitions[0].max_tim: unknown key"),
            (minimal.replacingOccurrences(of: "nodes = \"n[1-2]\"", with: "nodes = \"n[1-3]\""),
             "line 10: partitions[0].nodes: node 'n3' is not defined"),
            (minimal + "\n[[qos]]\nname = \"a\"\npreempt = [\"b\"]", "qos: QoS 'a' may preempt 'b', which is not defined"),
            (minimal + "\nmax_time = \"1:xx\"", "line 11: partitions[0].max_time: --time"),
            (minimal.replacingOccurrences(of: "cores_per_socket = 4", with: "cores_per_socket = 0"),
             "line 6: nodes[0].cores_per_socket: must be at least 1"),
            (minimal.replacingOccurrences(of: "socket = \"s.sock\"\n", with: ""), "socket: missing (required)"),
            ("cluster_name = \"t\"\nstate_dir = 3 3", "line 2, column 15: expected the end of the line"),
            (minimal.replacingOccurrences(of: "state_dir = \"state\"", with: "state_dir = \"state\"\nlisten = \"nowhere\""),
             "line 3: listen: expected HOST:PORT"),
            (minimal + "\nprices = { core_hour = 0.05 }", "partitions[0].prices.core_hour: write amounts as strings"),
            (minimal + "\nprices = { core_hour = \"0.0000001\" }", "is not an amount of USDC"),
            (minimal + "\n[billing]\nplatform_fee = \"6\"", "billing.platform_fee: 6% is outside the allowed 2%–5%"),
            (minimal + "\n[billing]\ndiscount_tiers = [\"5\"]", "billing.discount_tiers: the tiers must include 0"),
            (minimal + "\n[market]\nchain_id = 1\nescrow_contract = \"0x12\"\nprovider_key_file = \"k\"\noracle_sources = [\"a\"]",
             "market.escrow_contract: expected the contract's address"),
            (minimal + "\n[market]\nchain_id = 1\nescrow_contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nprovider_key_file = \"k\"",
             "market.oracle_sources: missing (required)"),
            (minimal + "\n[health_check]\nprogram = \"nhc\"", "health_check.program: give the program's absolute path"),
            (minimal + "\n[health_check]\nprogram = \"/usr/sbin/nhc\"\nevery = 5", "health_check.every: unknown key"),
            (minimal + "\n[[accounts]]\nname = \"a\"\nusers = \"alice\"", "accounts[0].users"),
            ("private_data = \"jobs,secrets\"\n" + minimal, "line 1: private_data: 'secrets' is not one of accounts, cloud"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try ConfigurationFile.parse(text, path: "chess.toml")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("chess.toml: "), message)
                XCTAssertTrue(message.contains(expected), "expected '\(expected)' in: \(message)")
            }
        }
    }

    func testHostPort() {
        XCTAssertEqual(HostPort("127.0.0.1:6817")?.port, 6817)
        XCTAssertEqual(HostPort("[::1]:80")?.host, "::1")
        XCTAssertNil(HostPort("host"))
        XCTAssertNil(HostPort("host:99999"))
    }
}
