import ChessAPI
import ChessConfig
@testable import chessd
import ControllerCore
import Foundation
import Logging
import SchedulerCore
import Synchronization

/// A clock the test moves: the controller's rules see hours pass in a few calls.
final class ManualClock: ControllerClock {
    private let seconds: Mutex<Int>

    init(_ start: Int = 1_790_000_000) { seconds = Mutex(start) }

    func now() -> Int { seconds.withLock { $0 } }

    func advance(_ delta: Int) { seconds.withLock { $0 += delta } }
}

/// A controller in this process, on a real store in a temporary directory and a `ManualClock`,
/// driven through the calls chessd's router makes: submits, actions, scheduling passes, and the
/// agent protocol played by hand (registration, heartbeats with completions, the commands they
/// collect). No daemon, no socket, no sleep: time moves when the test says.
final class ControllerHarness {
    /// Where the state goes, and the 90 s heartbeat timeout every case counts with.
    static let header = """
        cluster_name = "virtual"
        state_dir = "state"
        socket = "chessd.sock"
        heartbeat_timeout = 90

        """

    static let config = header + """
        [scheduler]
        policy = "easy"
        [[nodes]]
        names = "n[1-2]"
        sockets = 2
        cores_per_socket = 4
        memory_mb = 16000
        agent = "host1"
        [[nodes]]
        names = "n3"
        sockets = 2
        cores_per_socket = 4
        memory_mb = 16000
        agent = "host2"
        [[partitions]]
        name = "batch"
        nodes = "n[1-3]"
        default_time = "1:00:00"
        [[qos]]
        name = "normal"
        """

    let directory: String
    let clock: ManualClock
    let configuration: ControllerConfiguration
    private(set) var store: Store
    private(set) var controller: Controller
    private let logger: Logger
    /// The test process's own user: the submitter of every job here.
    let user = Identity.local(uid: getuid(), gid: getgid(), operators: [])

    /// `files` are written into the harness's directory (mode 0600) before the configuration
    /// is read: key files it names.
    init(config: String = ControllerHarness.config, clock: ManualClock = ManualClock(), files: [String: String] = [:]) throws {
        directory = NSTemporaryDirectory() + "chess-vc-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            let path = directory + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        configuration = try ConfigurationFile.parse(config, directory: directory)
        self.clock = clock
        store = try Store(directory: configuration.stateDirectory)
        var logger = Logger(label: "chessd-test")
        logger.logLevel = .critical
        self.logger = logger
        controller = try Controller(configuration: configuration, store: store, logger: logger, clock: clock)
    }

    /// chessd killed and started again at the clock's time: what it knows now is what the store
    /// held (agents register again).
    func restart() throws {
        controller.agentLinks.releaseAll()
        store.close()
        store = try Store(directory: configuration.stateDirectory)
        controller = try Controller(configuration: configuration, store: store, logger: logger, clock: clock)
    }

    deinit {
        controller.agentLinks.releaseAll()
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits for an answer the controller gives through a completion (after its commit).
    private func answer<T: Sendable>(_ body: (@escaping @Sendable (T) -> Void) -> Void) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        body { value in
            result.withLock { $0 = value }
            done.signal()
        }
        // Bounded: a controller that never answers fails the test instead of hanging it.
        guard done.wait(timeout: .now() + 30) == .success else { fatalError("the controller did not answer in 30 s") }
        return result.withLock { $0! }
    }

    /// A one-line job in the harness's directory.
    func submission(_ configure: (inout JobSubmission) -> Void) -> JobSubmission {
        var submission = JobSubmission()
        submission.script = "#!/bin/sh\ntrue\n"
        submission.workdir = directory
        configure(&submission)
        return submission
    }

    /// Submits a one-line job; its id.
    func submit(_ configure: (inout JobSubmission) -> Void = { _ in }) throws -> Int {
        let s = submission(configure)
        return try answer { respond in controller.submit(s, identity: user, completion: respond) }.get()
    }

    /// Submits `count` one-line jobs at once (their writes share group commits); their ids.
    func submitMany(_ count: Int, _ configure: @escaping @Sendable (Int, inout JobSubmission) -> Void = { _, _ in }) throws -> [Int] {
        let group = DispatchGroup()
        let ids = Mutex([Result<Int, APIError>?](repeating: nil, count: count))
        for i in 0..<count {
            let submission = submission { configure(i, &$0) }
            group.enter()
            controller.submit(submission, identity: user) { result in
                ids.withLock { $0[i] = result }
                group.leave()
            }
        }
        guard group.wait(timeout: .now() + 120) == .success else { fatalError("the controller did not answer in 120 s") }
        return try ids.withLock { try $0.map { try $0!.get() } }
    }

    func perform(_ action: Controller.Action, _ id: Int, as identity: Identity? = nil) throws -> JobActionResponse {
        let who = identity ?? user
        return try answer { respond in controller.perform(action, on: JobReference(id: id, task: nil), identity: who, completion: respond) }.get()
    }

    func job(_ id: Int) throws -> JobInfo { try controller.job(JobReference(id: id, task: nil)) }

    func state(_ id: Int) throws -> String { try job(id).state }

    func events(_ id: Int) throws -> [String] {
        try controller.events(of: JobReference(id: id, task: nil)).events.map { "\($0.state): \($0.reason ?? "")" }
    }

    /// One scheduling pass at the clock's time (time limits, heartbeats, grace times, starts).
    func pass() { controller.runPass() }

    func advance(_ seconds: Int) { clock.advance(seconds) }

    /// Node reports that match the configuration (2 sockets × 4 cores, 16,000 MB).
    static func nodes(_ names: [String]) -> [AgentNodeReport] {
        names.map { name in
            AgentNodeReport(name: name, topology: AgentTopology(sockets: 2, threadsPerCore: 1, numa: (0..<2).map {
                .init(id: $0, cores: Array($0 * 4..<($0 + 1) * 4), memoryMB: 8_000)
            }))
        }
    }

    @discardableResult
    func register(_ agent: String, _ names: [String], running: [Int] = [], completions: [JobCompletion] = []) -> AgentRegistrationResponse {
        controller.register(AgentRegistration(agent: agent, version: "test", nodes: Self.nodes(names), running: running,
                                              completions: completions))
    }

    /// A heartbeat that does not wait: what the controller answers now.
    func heartbeat(_ agent: String, completions: [JobCompletion] = []) throws -> HeartbeatResponse {
        try answer { respond in controller.heartbeat(AgentHeartbeat(agent: agent, completions: completions, wait: 0), respond: respond) }.get()
    }

    /// What a job's end looks like from its agent.
    func completion(_ id: Int, state: String = "COMPLETED", exitCode: Int = 0, run: Int = 0) -> JobCompletion {
        var c = JobCompletion(job: id, state: state, exitCode: exitCode, startTime: clock.now() - 1, endTime: clock.now(),
                              cpuSeconds: 1, maxRSSMB: 10, gpuSeconds: 0)
        c.run = run
        return c
    }
}
