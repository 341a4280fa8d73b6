import Billing
import ChessAPI
import Foundation
import Glibc
import SchedulerCore
import Spawning

/// The whole cluster (issue 4): chessd and one chess-nodeagent presenting a 64-CPU node
/// (an hwloc synthetic topology: 2 packages, 4 NUMA domains, 32 cores × 2 threads), running
/// real trivial jobs. Figures: end-to-end throughput of 1,000 jobs, and submit-to-start latency
/// on an idle cluster; the same throughput with marketplace jobs, each priced, settled and
/// signed (EIP-712, secp256k1) in the transaction that ends it.
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

    func start(_ name: String, _ args: [String], env: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(binaries.appendingPathComponent(name).path, args,
                         environment: ProcessInfo.processInfo.environment.merging(env) { _, n in n }, stdout: .null, stderr: .null)
    }

    func run() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = freePort()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("cluster.key").path, contents: Data(key),
                                           attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("provider.key").path,
                                           contents: Data("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        try """
            cluster_name = "bench"
            state_dir = "state"
            socket = "chessd.sock"
            listen = "127.0.0.1:\(port)"
            key_file = "cluster.key"
            mail_program = "/bin/true"
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
            prices = { core_hour = "0.04", mem_gib_hour = "0.004" }
            [market]
            chain_id = 8453
            escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            provider_key_file = "provider.key"
            oracle_sources = ["bench"]
            rate_limit_per_minute = 1000000
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
        /// The agent, registered: its spool is where each job's files are made and removed.
        func startAgent(spool: String) throws -> ChildProcess {
            let agent = try start("chess-nodeagent", ["--controller", "127.0.0.1:\(port)", "--key",
                                                       directory.appendingPathComponent("cluster.key").path,
                                                       "--id", "big", "--emulate", "big=\(topology)", "--spool", spool],
                                  env: ["CHESS_LOG_LEVEL": "warning"])
            let deadline = Date().addingTimeInterval(20)
            while (try? client.get("/v1/nodes/big", as: NodeInfo.self))?.state != "idle" {
                guard Date() < deadline else { throw BenchError("the agent did not register") }
                usleep(20_000)
            }
            return agent
        }
        var agent = try startAgent(spool: directory.appendingPathComponent("spool").path)
        defer { agent.terminate(); agent.waitUntilExit() }

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

        // Throughput: 1,000 trivial jobs submitted one by one, until the last one is accounted.
        let count = 1000
        var s = JobSubmission()
        s.script = "#!/bin/sh\ntrue\n"
        s.workdir = directory.path
        s.output = "/dev/null"
        s.timeLimit = 600
        let body = Data(s.jsonBytes)
        let perJobMicroseconds = 1_000_000 / Double(sysconf(Int32(_SC_CLK_TCK))) / Double(count)
        let t0 = Date()
        let chessdBefore = cpuTicks(daemon.processIdentifier)
        for _ in 0..<count { _ = try client.request("POST", "/v1/jobs", body: body) }
        try waitForEmptyQueue(client, within: 600)
        let plainRate = Double(count) / Date().timeIntervalSince(t0)
        let plainCPU = Double(cpuTicks(daemon.processIdentifier) - chessdBefore) * perJobMicroseconds
        row("1,000 trivial jobs end to end, submitted one by one", String(format: "%.0f jobs/s", plainRate),
            "target ≥ 110 jobs/s (5 × Slurm's ~22 measured by the issue author; 55 with batch_sched_delay=0)")

        // The same with job mail at each end (--mail-type=END, mail_program /bin/true): mail is
        // sent after the end's commit on a thread of its own, so the rate should not move.
        var mailed = s
        mailed.mailType = "END"
        let mailedBody = Data(mailed.jsonBytes)
        let t1 = Date()
        let chessdBeforeMail = cpuTicks(daemon.processIdentifier)
        for _ in 0..<count { _ = try client.request("POST", "/v1/jobs", body: mailedBody) }
        try waitForEmptyQueue(client, within: 600)
        let mailRate = Double(count) / Date().timeIntervalSince(t1)
        // chessd's own CPU (its mail programs are children: not in it), which is what a job's end costs the controller.
        let mailCPU = Double(cpuTicks(daemon.processIdentifier) - chessdBeforeMail) * perJobMicroseconds
        row("  the same, each job mailing at its end", String(format: "%.0f jobs/s", mailRate),
            String(format: "%.2f × without mail; chessd CPU per job %.0f µs with mail, %.0f without (the rest is one mail program per job on these 2 cores)",
                   mailRate / plainRate, mailCPU, plainCPU))

        // Completion throughput with and without settlement: 1,000 jobs queued on a drained
        // node, then the node resumed and the clock run until the last one is accounted, so
        // the two kinds differ only in what their ends do (marketplace jobs are settled and
        // signed in the transaction of their final state). Rounds in the order plain, paid,
        // paid, plain, … so that a drift of the machine (or of the store's size) favours
        // neither kind.
        //
        // The agent's spool goes to memory (/dev/shm) for these rounds. On a disk whose ext4 has
        // no journal (this machine's), allocating an inode skips every recently deleted one by
        // reading it, so the files each job's spool makes and removes cost the agent from 0.5 to
        // 2 ms a job, differently in each round: noise larger than what is measured here, and
        // the same for both kinds of job.
        if FileManager.default.isWritableFile(atPath: "/dev/shm") {
            agent.terminate()
            agent.waitUntilExit()
            let spool = "/dev/shm/chess-bench-spool-\(getpid())"
            agent = try startAgent(spool: spool)
            print("  (from here the agent's spool is in /dev/shm)")
        }
        defer { try? FileManager.default.removeItem(atPath: "/dev/shm/chess-bench-spool-\(getpid())") }
        let market = try marketClient(client, port: port)
        // Beside the rate (which the jobs' own processes dominate, and which varies by 20 % from
        // round to round on this machine), chessd's CPU time per job while they complete: where
        // settlement's cost would show.
        struct Round { var rate: Double, chessdMicroseconds: Double, machineMicroseconds: Double, passes: Int }
        // Scheduling passes run (each walks the whole queue): how completions were batched.
        func passes() throws -> Int {
            let text = String(decoding: try client.request("GET", "/metrics"), as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix("chess_scheduler_passes_total ") }
                .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        func queuedThenReleased(_ submitOne: () throws -> Int) throws -> Round {
            _ = try client.request("POST", "/v1/nodes/big/state", body: WireJSON.encode(NodeStateChange(action: "drain", reason: "bench")))
            var last = 0
            for _ in 0..<count { last = try submitOne() }
            let start = Date()
            let (chessd0, machine0, passes0) = (cpuTicks(daemon.processIdentifier), machineTicks(), try passes())
            _ = try client.request("POST", "/v1/nodes/big/state", body: WireJSON.encode(NodeStateChange(action: "resume", reason: nil)))
            try waitForJob(last, client, within: 600)
            try waitForEmptyQueue(client, within: 60)
            let perJob = 1_000_000 / Double(sysconf(Int32(_SC_CLK_TCK))) / Double(count)
            return Round(rate: Double(count) / Date().timeIntervalSince(start),
                         chessdMicroseconds: Double(cpuTicks(daemon.processIdentifier) - chessd0) * perJob,
                         machineMicroseconds: Double(machineTicks() - machine0) * perJob, passes: try passes() - passes0)
        }
        func plainRound() throws -> Round {
            try queuedThenReleased { try client.post("/v1/jobs", s, as: SubmitResponse.self).id }
        }
        func paidRound() throws -> Round {
            try queuedThenReleased {
                // Random, as escrow ids made on a chain are: each one is a new key in the store's
                // index of escrows used.
                let escrowID = "0x" + (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined()
                let funding = EscrowFunding(escrowID: escrowID, payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                                            amount: MicroUSDC(units: 1_000_000), transaction: "0x" + String(repeating: "ab", count: 32))
                return try market.post("/v1/market/jobs", MarketSubmission(job: s, escrow: funding), as: MarketJobStatus.self).id
            }
        }
        func show(_ what: String, _ r: Round) {
            row(what, String(format: "%.0f jobs/s", r.rate),
                String(format: "CPU per job: chessd %.0f µs, whole machine %.0f µs; %d passes", r.chessdMicroseconds, r.machineMicroseconds, r.passes))
        }
        var plain: [Round] = [], paid: [Round] = []
        let pairs = 6
        for pair in 1...pairs {
            let paidFirst = pair % 2 == 0
            let first = paidFirst ? try paidRound() : try plainRound()
            let second = paidFirst ? try plainRound() : try paidRound()
            let (p, m) = paidFirst ? (second, first) : (first, second)
            show("1,000 queued jobs released at once (pair \(pair))", p)
            show("  … as marketplace jobs, settled and signed", m)
            plain.append(p)
            paid.append(m)
        }
        func median(_ xs: [Double]) -> Double {
            let sorted = xs.sorted()
            return (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
        }
        // What settlement costs to throughput: the mean of the pairs' rate ratios with its 95 %
        // confidence interval (Student's t over the pairs). "Measurable" means the interval
        // leaves out 1; the spread of the plain rounds among themselves is printed beside it.
        let ratios = zip(paid, plain).map { $0.rate / $1.rate }
        let mean = ratios.reduce(0, +) / Double(pairs)
        let sd = (ratios.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(pairs - 1)).squareRoot()
        let t975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][min(pairs - 2, 8)]
        let half = t975 * sd / Double(pairs).squareRoot()
        let plainRates = plain.map(\.rate)
        let chessdExtra = median(paid.map(\.chessdMicroseconds)) - median(plain.map(\.chessdMicroseconds))
        let machine = median(plain.map(\.machineMicroseconds))
        row("settlement's cost, rate (\(pairs) pairs)", String(format: "ratio %.3f", mean),
            String(format: "95 %% interval %.3f–%.3f: %@; plain rounds alone differ by %.0f %% (target: no measurable cost)",
                   mean - half, mean + half, (mean - half...mean + half).contains(1) ? "not measurable" : "measurable",
                   100 * (plainRates.max()! / plainRates.min()! - 1)))
        row("settlement's cost, chessd CPU (medians)", String(format: "%+.0f µs/job", chessdExtra),
            String(format: "= %.1f %% of the machine's %.0f µs per job", 100 * chessdExtra / machine, machine))
        let feed = try market.get("/v1/market/settlements?after=0&limit=1000", as: SettlementFeed.self)
        if feed.settlements.count != 1000 || feed.settlements.contains(where: { $0.signature == nil }) {
            throw BenchError("expected 1,000 signed settlements on the feed, got \(feed.settlements.count)")
        }
        // An idle agent (nothing running, heartbeats only): it sleeps on its spool's bell and
        // its long poll, so that a compute node's tightly coupled job never shares a core with it.
        let idleSeconds: UInt32 = 60
        let idleBefore = cpuTicks(agent.processIdentifier)
        sleep(idleSeconds)
        row("idle agent's CPU over \(idleSeconds) s", "\(cpuTicks(agent.processIdentifier) - idleBefore) ticks",
            "target 0 (\(sysconf(Int32(_SC_CLK_TCK))) ticks a second; 45 when it looked at its spool every 20 ms)")
        print()
    }

    /// A marketplace token (made over the socket, as root) and a client that uses it on TCP,
    /// with a CPT price from the one oracle source so that settlements are signed at once.
    func marketClient(_ admin: ControllerClient, port: UInt16) throws -> ControllerClient {
        // Marketplace jobs never run as root: as nobody when the benchmark runs as root.
        let user = getuid() == 0 ? "nobody" : String(cString: getpwuid(getuid())!.pointee.pw_name)
        let token = try admin.post("/v1/market/tokens", TokenRequest(name: "bench", scopes: ["read", "submit", "settle", "oracle"], user: user),
                                   as: TokenInfo.self).token!
        let market = ControllerClient(tcp: HostPort("127.0.0.1:\(port)")!, signer: { _, _, _ in [("Authorization", "Bearer \(token)")] })
        _ = try market.request("PUT", "/v1/market/oracle/bench",
                               body: WireJSON.encode(OraclePriceReport(price: "0.25", time: Int(Date().timeIntervalSince1970))))
        return market
    }

    /// User and system CPU time of the whole machine so far, all CPUs, in clock ticks (`/proc/stat`).
    func machineTicks() -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let cpu = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let f = cpu.split(separator: " ").dropFirst().compactMap { Int($0) }
        // user, nice, system, irq, softirq (idle and iowait left out).
        return f.count > 6 ? f[0] + f[1] + f[2] + f[5] + f[6] : 0
    }

    /// User and system CPU time of a process so far, in clock ticks (`/proc/PID/stat`).
    func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let afterName = stat.range(of: ") ")?.upperBound else { return 0 }
        let fields = stat[afterName...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)   // utime, stime (fields 14 and 15)
    }

    /// Until job `id` has ended: one job's state, which costs chessd the same whatever the queue holds.
    func waitForJob(_ id: Int, _ client: ControllerClient, within seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let info = try? client.get("/v1/jobs/\(id)", as: JobInfo.self),
               JobState(rawValue: info.state)?.isFinished == true { return }
            usleep(20_000)
        }
        throw BenchError("job \(id) has not ended after \(Int(seconds)) s")
    }

    func waitForEmptyQueue(_ client: ControllerClient, within seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            // The id column alone, every 50 ms: the polling must not be what the rounds measure.
            if try client.request("GET", "/v1/jobs?columns=id").isEmpty { return }
            usleep(50_000)
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
