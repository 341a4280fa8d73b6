import Foundation
import Glibc
import Spawning

/// The built binaries next to this test bundle.
func builtBinary(_ name: String) -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent(name).path), dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent(name)
}

/// Runs a built binary to completion with extra environment; killed after `timeout` seconds.
/// `user`: run it as that user through runuser (the tests run as root), in /tmp.
func runBinary(_ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60,
               user: String? = nil) throws -> Run {
    let environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let ran = if let user {
        try ChildProcess.run("/usr/sbin/runuser", ["-u", user, "--", builtBinary(name).path] + arguments, environment: environment,
                             directory: "/tmp", timeout: timeout)
    } else {
        try ChildProcess.run(builtBinary(name).path, arguments, environment: environment, timeout: timeout)
    }
    return Run(status: ran.status, stdout: ran.stdoutText, stderr: ran.stderrText)
}

/// A real chessd on a Unix socket in a temporary directory, stopped by PID when done.
final class TestCluster: @unchecked Sendable {
    let directory: URL
    let configPath: String
    var socket: String { directory.appendingPathComponent("chessd.sock").path }
    var stateDirectory: String { directory.appendingPathComponent("state").path }
    private(set) var process: ChildProcess?

    static let defaultConfig = """
        cluster_name = "test"
        state_dir = "state"
        socket = "chessd.sock"
        [scheduler]
        policy = "easy"
        interval = 1
        [[nodes]]
        names = "n[01-04]"
        sockets = 2
        cores_per_socket = 4
        memory_mb = 16000
        agent = "host1"
        [[nodes]]
        names = "g01"
        sockets = 2
        cores_per_socket = 8
        memory_mb = 64000
        gpus = 2
        gpu_type = "a100"
        agent = "host1"
        [[partitions]]
        name = "batch"
        nodes = "n[01-04]"
        max_time = "1-00:00:00"
        default_time = "1:00:00"
        [[partitions]]
        name = "gpu"
        nodes = "g01"
        [[qos]]
        name = "normal"
        [[qos]]
        name = "tiny"
        max_submit_jobs_per_user = 2
        """

    /// TCP address for agents when the configuration has a `listen`, on a free port.
    private(set) var listen: String?

    init(config: String = TestCluster.defaultConfig, withAgents: Bool = false) throws {
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent("chess-it-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("chess.toml").path
        var text = config
        if withAgents {
            listen = "127.0.0.1:\(TestCluster.freePort())"
            let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("cluster.key").path, contents: Data(key),
                                               attributes: [.posixPermissions: 0o600])
            text = "key_file = \"cluster.key\"\nheartbeat_timeout = 3\n" + text
        }
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var key: [UInt8] { Array(FileManager.default.contents(atPath: directory.appendingPathComponent("cluster.key").path) ?? Data()) }

    /// A port nobody listens on right now.
    static func freePort() -> UInt16 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int32 in
                _ = bind(fd, sa, len)
                return getsockname(fd, sa, &len)
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Starts chessd and waits (at most 20 s) until it answers `ping`.
    func start() throws {
        var env = ProcessInfo.processInfo.environment
        env["CHESS_LISTEN"] = listen ?? "none"
        env["CHESS_STATE_DIR"] = nil
        env["CHESS_SOCKET"] = nil
        let logPath = directory.appendingPathComponent("chessd.log").path
        let p = try ChildProcess(builtBinary("chessd").path, ["--config", configPath], environment: env,
                                 stdout: .append(logPath), stderr: .append(logPath))
        process = p
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !p.isRunning { throw Failure("chessd exited: \(self.log)") }
            if let r = try? ctl(["ping"]), r.status == 0 { return }
            usleep(50_000)
        }
        throw Failure("chessd did not answer within 20 s: \(self.log)")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    var log: String {
        (try? String(contentsOfFile: directory.appendingPathComponent("chessd.log").path, encoding: .utf8)) ?? ""
    }

    func ctl(_ arguments: [String]) throws -> Run {
        try runBinary("chessctl", arguments, environment: ["CHESS_SOCKET": socket])
    }

    /// kill -9: no chance to flush or clean up.
    func crash() {
        guard let p = process else { return }
        p.signal(SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM and wait (at most 20 s).
    func stop() {
        guard let p = process else { return }
        p.terminate()
        let deadline = Date().addingTimeInterval(20)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        p.signal(SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
