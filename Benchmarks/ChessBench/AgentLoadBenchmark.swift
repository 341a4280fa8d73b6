import ChessAPI
import Foundation
import Glibc
import Spawning

/// `chess-bench --agents N` (issue 15): N node agents played from this one process against a
/// real chessd over real TCP, each with its own key (derived from the cluster key, as
/// `chessd --agent-key` makes it) and signed requests, each verifying chessd's signed answers.
/// Every agent registers its node, then heartbeats at the interval chessd gives it (30 s here:
/// `heartbeat_timeout = 90`), spread evenly over the interval, on a connection of its own as a
/// real agent keeps one. Figures over two intervals: heartbeat round-trip p50/p99, chessd's
/// threads and RSS, chessd's CPU per heartbeat, and `chessctl queue` over 10,000 held jobs
/// while they heartbeat. Then jobs end to end (`runJobs`): 64 of the agents hold long polls as
/// real agents do, take launches and report completions, while all N stay connected.
struct AgentLoadBenchmark {
    let agents: Int
    let binaries: URL
    let directory: URL
    /// Threads playing the agents (each heartbeat is a blocking request on its agent's connection).
    let players = 8
    let interval = 30
    /// Jobs held in the queue while the agents heartbeat (`chessctl queue` is timed over them).
    let pending = 10_000
    /// Agents that run jobs in the job phase (partition `busy`), each holding a long poll.
    let busyAgents = 64
    /// Trivial jobs run through them, end to end.
    let jobs = 2_000

    init(agents: Int) {
        self.agents = agents
        binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("chess-agent-load-\(getpid())")
    }

    func run() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // One descriptor per agent here and in chessd (which inherits the limit).
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        guard rlim_t(agents + 256) <= limit.rlim_cur else {
            throw BenchError("\(agents) agents need \(agents + 256) descriptors; the limit is \(limit.rlim_cur) (ulimit -n)")
        }
        let port = ClusterBenchmark().freePort()
        let clusterKey = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("cluster.key").path, contents: Data(clusterKey),
                                           attributes: [.posixPermissions: 0o600])
        let width = max(String(agents).count, 5)
        @Sendable func name(_ i: Int) -> String { "sim" + String(repeating: "0", count: width - String(i).count) + String(i) }
        let nodes = "sim[\(name(1).dropFirst(3))-\(name(agents).dropFirst(3))]"
        let busy = min(busyAgents, agents)
        let busyNodes = "sim[\(name(1).dropFirst(3))-\(name(busy).dropFirst(3))]"
        try """
            cluster_name = "load"
            state_dir = "state"
            socket = "chessd.sock"
            listen = "127.0.0.1:\(port)"
            key_file = "cluster.key"
            heartbeat_timeout = \(interval * 3)
            [server]
            max_connections = \(agents + 1000)
            max_connections_per_peer = \(agents + 100)
            [[nodes]]
            names = "\(nodes)"
            sockets = 2
            cores_per_socket = 16
            memory_mb = 128000
            [[partitions]]
            name = "batch"
            nodes = "\(nodes)"
            default_time = "10:00"
            [[partitions]]
            name = "busy"
            nodes = "\(busyNodes)"
            default_time = "10:00"
            """.write(to: directory.appendingPathComponent("chess.toml"), atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(binaries.appendingPathComponent("chessd").path,
                                      ["--config", directory.appendingPathComponent("chess.toml").path],
                                      environment: ProcessInfo.processInfo.environment.merging(["CHESS_LOG_LEVEL": "error"]) { _, n in n },
                                      stdout: .null, stderr: .null)
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let admin = ControllerClient(socketPath: directory.appendingPathComponent("chessd.sock").path)
        let deadline = Date().addingTimeInterval(60)
        while (try? admin.request("GET", "/v1/ping")) == nil {
            guard Date() < deadline else { throw BenchError("chessd did not start") }
            usleep(20_000)
        }
        let threadsIdle = threads(daemon.processIdentifier)
        let rssIdle = ControllerBenchmark().rssKiB(daemon.processIdentifier)

        let topology = AgentTopology(sockets: 2, threadsPerCore: 1, numa: (0..<2).map {
            .init(id: $0, cores: Array($0 * 16..<($0 + 1) * 16), memoryMB: 64000)
        })
        let address = HostPort("127.0.0.1:\(port)")!
        @Sendable func client(_ agent: String) -> ControllerClient {
            let key = RequestSigning.agentKey(clusterKey: clusterKey, agent: agent)
            let c = ControllerClient(tcp: address, signer: { method, target, body in
                RequestSigning.headers(agent: agent, key: key, method: method, target: target, body: body)
            }, verifier: { request, status, signature, body in
                RequestSigning.verifyResponse(key: key, request: request, status: status, signature: signature, body: body)
            })
            c.answerTimeout = 60
            return c
        }

        print("Agents (chessd + \(agents) agents played from one process over TCP, signed, heartbeats every \(interval) s)")
        // Registration: every agent once, by `players` threads.
        let registered = Date()
        let clients = Locked([Int: ControllerClient]())
        let failures = Locked([String]())
        DispatchQueue.concurrentPerform(iterations: players) { p in
            for i in stride(from: p + 1, through: agents, by: players) {
                let c = client(name(i))
                do {
                    let r = try c.post("/v1/agent/register", AgentRegistration(agent: name(i), version: "load",
                                                                               nodes: [AgentNodeReport(name: name(i), topology: topology)]),
                                       as: AgentRegistrationResponse.self)
                    if r.heartbeatInterval != interval { failures.withLock { $0.append("\(name(i)): heartbeat interval \(r.heartbeatInterval)") } }
                    clients.withLock { $0[i] = c }
                } catch {
                    failures.withLock { $0.append("\(name(i)): \(error)") }
                }
            }
        }
        let registrationSeconds = Date().timeIntervalSince(registered)
        if let first = failures.withLock({ $0.first }) {
            throw BenchError("\(failures.withLock { $0.count }) agents failed to register; first: \(first)")
        }
        row("\(agents) registrations, \(players) at a time", String(format: "%.0f /s", Double(agents) / registrationSeconds),
            String(format: "%.1f s in all", registrationSeconds))

        // 10,000 jobs held in the queue: `chessctl queue` is timed while the agents heartbeat.
        let socket = directory.appendingPathComponent("chessd.sock").path
        _ = try ControllerBenchmark().pipelinedSubmits(pending, socket: socket, hold: true)
        let queueTime = Locked(Double.nan)
        let timed = DispatchSemaphore(value: 0)
        let timing = Thread {
            usleep(10_000_000)
            queueTime.withLock { $0 = (try? ControllerBenchmark().timeCtl(["queue"], runs: 10, socket: socket)) ?? .nan }
            timed.signal()
        }
        timing.start()

        // Heartbeats: agent i beats at offset i/N of the interval, then every interval, for two intervals.
        let window = Double(2 * interval)
        let start = ProcessInfo.processInfo.systemUptime + 1
        let cpu0 = ClusterBenchmark().cpuTicks(daemon.processIdentifier)
        let latencies = Locked([Double]())
        let peakThreads = Locked(0)
        let all = clients.withLock { $0 }
        DispatchQueue.concurrentPerform(iterations: players) { p in
            var mine: [Double] = []
            var round = 0
            while true {
                for i in stride(from: p + 1, through: agents, by: players) {
                    let due = start + Double(round * interval) + Double(interval) * Double(i - 1) / Double(agents)
                    guard due < start + window else { continue }
                    let now = ProcessInfo.processInfo.systemUptime
                    if due > now { usleep(useconds_t((due - now) * 1_000_000)) }
                    let t = ProcessInfo.processInfo.systemUptime
                    do {
                        _ = try all[i]!.post("/v1/agent/heartbeat", AgentHeartbeat(agent: name(i), wait: 0), as: HeartbeatResponse.self)
                        mine.append(ProcessInfo.processInfo.systemUptime - t)
                    } catch {
                        failures.withLock { $0.append("\(name(i)) heartbeat: \(error)") }
                    }
                    if p == 0, i % (players * 50) == 1 {
                        let n = threads(daemon.processIdentifier)
                        peakThreads.withLock { $0 = max($0, n) }
                    }
                }
                round += 1
                if start + Double(round * interval) >= start + window { break }
            }
            latencies.withLock { $0 += mine }
        }
        let cpu = ClusterBenchmark().cpuTicks(daemon.processIdentifier) - cpu0
        let beats = latencies.withLock { $0.sorted() }
        guard !beats.isEmpty else { throw BenchError("no heartbeat was answered") }
        let failed = failures.withLock { $0.count }
        func percentile(_ p: Double) -> Double { beats[min(beats.count - 1, Int(Double(beats.count) * p))] }
        row("heartbeat round trip p50 / p99", String(format: "%.1f / %.1f ms", percentile(0.5) * 1000, percentile(0.99) * 1000),
            "target p99 < 100 ms; \(beats.count) heartbeats in \(Int(window)) s, \(failed) failed")
        let rss = ControllerBenchmark().rssKiB(daemon.processIdentifier)
        row("chessd threads", "\(peakThreads.withLock { $0 })",
            "target: independent of N; \(threadsIdle) before the agents connected")
        row("chessd RSS", "\(rss / 1024) MiB", "target < 1 GiB; \(rssIdle / 1024) MiB before the agents connected")
        timed.wait()
        let queued = queueTime.withLock { $0 }
        row("chessctl queue, \(pending.formatted()) pending", queued.isNaN ? "failed" : String(format: "%.1f ms", queued * 1000),
            "target < 20 ms, timed while the agents heartbeat")
        let perBeat = Double(cpu) * 1_000_000 / Double(sysconf(Int32(_SC_CLK_TCK))) / Double(beats.count)
        row("chessd CPU per heartbeat", String(format: "%.0f µs", perBeat),
            String(format: "%.1f %% of a core at this rate", 100 * Double(cpu) / Double(sysconf(Int32(_SC_CLK_TCK))) / window))
        try runJobs(all: all, busy: busy, name: name, socket: socket)
        print()
    }

    /// Jobs end to end with all N agents connected: `jobs` trivial jobs submitted at once to
    /// partition `busy`, whose `busy` agents each hold a long poll (as a real agent does), take
    /// each launch and report it COMPLETED at their next heartbeat, until chessd acknowledges
    /// it. The figure is submission to the last job's end: scheduling, launch, completion and
    /// accounting through chessd, with the agents' side reduced to nothing.
    func runJobs(all: [Int: ControllerClient], busy: Int, name: @escaping @Sendable (Int) -> String, socket: String) throws {
        let stop = Locked(false)
        let completed = Locked(0)
        let failures = Locked([String]())
        let players = (1...busy).map { i in
            Thread {
                let client = all[i]!
                var unacknowledged: [JobCompletion] = []
                while !stop.withLock({ $0 }) {
                    do {
                        let answer = try client.post("/v1/agent/heartbeat",
                                                     AgentHeartbeat(agent: name(i), completions: unacknowledged, wait: 2),
                                                     as: HeartbeatResponse.self)
                        let acknowledged = Set(answer.acknowledged)
                        let before = unacknowledged.count
                        unacknowledged.removeAll { acknowledged.contains($0.job) }
                        completed.withLock { $0 += before - unacknowledged.count }
                        let now = Int(Date().timeIntervalSince1970)
                        for command in answer.commands where command.kind == "launch" {
                            unacknowledged.append(JobCompletion(job: command.job, state: "COMPLETED", exitCode: 0, startTime: now,
                                                                endTime: now, run: command.launch?.run))
                        }
                    } catch {
                        failures.withLock { $0.append("\(name(i)): \(error)") }
                        usleep(100_000)
                    }
                }
            }
        }
        for p in players { p.start() }
        defer { stop.withLock { $0 = true } }
        let started = Date()
        var submission = JobSubmission()
        submission.script = "#!/bin/sh\ntrue\n"
        submission.name = "load"
        submission.partition = "busy"
        _ = try ControllerBenchmark().pipelinedSubmits(jobs, socket: socket, submission: submission)
        let deadline = started.addingTimeInterval(300)
        while completed.withLock({ $0 }) < jobs && Date() < deadline { usleep(20_000) }
        let seconds = Date().timeIntervalSince(started)
        let done = completed.withLock { $0 }
        row("\(jobs.formatted()) trivial jobs end to end on \(busy) of them", String(format: "%.0f jobs/s", Double(done) / seconds),
            "\(done) completed in \(String(format: "%.1f", seconds)) s, \(failures.withLock { $0.count }) heartbeat failures; "
                + "the others stay connected")
    }

    /// The threads of a process now (`/proc/PID/status`).
    func threads(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }) else { return 0 }
        return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
    }

    func row(_ what: String, _ figure: String, _ note: String) { ClusterBenchmark().row(what, figure, note) }
}

/// A value shared by the player threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
