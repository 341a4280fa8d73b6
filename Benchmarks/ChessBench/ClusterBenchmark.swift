import ChessAPI
import Foundation
import Glibc

/// The whole cluster (issue 4): chessd and one chess-nodeagent presenting a 64-CPU node
/// (an hwloc synthetic topology: 2 packages, 4 NUMA domains, 32 cores × 2 threads), running
/// real trivial jobs. Figures: end-to-end throughput of 1,000 jobs, and submit-to-start latency
/// on an idle cluster.
struct ClusterBenchmark {
    let binaries: URL
    let directory: URL
    let topology: String

    init() {
        binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("chess-cluster-bench-\(getpid())")
        topology = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/NodeAgentTests/Fixtures/synthetic-2pack-4numa-32core.xml").path
    }

    var socket: String { directory.appendingPathComponent("chessd.sock").path }

    func start(_ name: String, _ args: [String], env: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = binaries.appendingPathComponent(name)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, n in n }
        let log = FileHandle(forWritingAtPath: "/dev/null")
        p.standardOutput = log
        p.standardError = log
        try p.run()
        return p
    }

    func run() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = freePort()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("cluster.key").path, contents: Data(key))
        try """
            cluster_name = "bench"
            state_dir = "state"
            socket = "chessd.sock"
            listen = "127.0.0.1:\(port)"
            key_file = "cluster.key"
            [scheduler]
            policy = "easy"
            [[nodes]]
            names = "big"
            sockets = 2
            cores_per_socket = 16
            memory_mb = 200000
            [[partitions]]
            name = "batch"
            nodes = "big"
            default_time = "10:00"
            """.write(to: directory.appendingPathComponent("chess.toml"), atomically: true, encoding: .utf8)
        let daemon = try start("chessd", ["--config", directory.appendingPathComponent("chess.toml").path],
                               env: ["CHESS_LOG_LEVEL": "warning"])
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let client = ControllerClient(socketPath: socket)
        let deadline = Date().addingTimeInterval(20)
        while (try? client.request("GET", "/v1/ping")) == nil {
            guard Date() < deadline else { throw BenchError("chessd did not start") }
            usleep(20_000)
        }
        let agent = try start("chess-nodeagent", ["--controller", "127.0.0.1:\(port)", "--key",
                                                   directory.appendingPathComponent("cluster.key").path,
                                                   "--emulate", "big=\(topology)", "--spool",
                                                   directory.appendingPathComponent("spool").path],
                              env: ["CHESS_LOG_LEVEL": "warning"])
        defer { agent.terminate(); agent.waitUntilExit() }
        while (try? client.get("/v1/nodes/big", as: NodeInfo.self))?.state != "idle" {
            guard Date() < deadline else { throw BenchError("the agent did not register") }
            usleep(20_000)
        }

        print("Cluster (chessd + one agent presenting a 64-CPU node, real processes)")
        // Submit-to-start latency, idle cluster: the job writes the time it started.
        var latencies: [Double] = []
        for i in 0..<10 {
            let mark = directory.appendingPathComponent("start-\(i)").path
            var s = JobSubmission()
            s.script = "#!/bin/sh\ndate +%s.%N > \(mark)\n"
            s.workdir = directory.path
            s.output = "/dev/null"
            let submitted = Date().timeIntervalSince1970
            _ = try client.request("POST", "/v1/jobs", body: Data(s.jsonBytes))
            let wait = Date().addingTimeInterval(10)
            while !FileManager.default.fileExists(atPath: mark) && Date() < wait { usleep(1000) }
            usleep(20_000)
            if let text = try? String(contentsOfFile: mark, encoding: .utf8), let started = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                latencies.append(started - submitted)
            }
            try waitForEmptyQueue(client, within: 10)
        }
        latencies.sort()
        if !latencies.isEmpty {
            row("submit-to-start latency, idle (median of \(latencies.count))",
                String(format: "%.0f ms", latencies[latencies.count / 2] * 1000), "target < 50 ms (Slurm ~475 ms here)")
        }

        // Throughput: 1,000 trivial jobs submitted at once, until the last one is accounted.
        let count = 1000
        var s = JobSubmission()
        s.script = "#!/bin/sh\ntrue\n"
        s.workdir = directory.path
        s.output = "/dev/null"
        let body = Data(s.jsonBytes)
        let t0 = Date()
        for _ in 0..<count { _ = try client.request("POST", "/v1/jobs", body: body) }
        try waitForEmptyQueue(client, within: 600)
        let rate = Double(count) / Date().timeIntervalSince(t0)
        row("1,000 trivial jobs end to end", String(format: "%.0f jobs/s", rate),
            "target ≥ 110 jobs/s (5 × Slurm's ~22 measured by the issue author; 55 with batch_sched_delay=0)")
        print()
    }

    func waitForEmptyQueue(_ client: ControllerClient, within seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try client.get("/v1/jobs", as: JobList.self).jobs.isEmpty { return }
            usleep(20_000)
        }
        throw BenchError("jobs still in the queue after \(Int(seconds)) s")
    }

    func row(_ what: String, _ figure: String, _ note: String) {
        print("  " + what.padding(toLength: 52, withPad: " ", startingAt: 0) + figure.padding(toLength: 16, withPad: " ", startingAt: 0) + note)
    }

    func freePort() -> UInt16 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int32 in
                _ = bind(fd, sa, len)
                return getsockname(fd, sa, &len)
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}
