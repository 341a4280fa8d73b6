import ChessAPI
import NodeSupervisor
import Foundation
import Glibc
import Logging

/// The agent's connection to chessd: registration, then two loops on two connections. The
/// poller holds a heartbeat open (long poll) and runs the commands that come back; the reporter
/// sends completions as soon as supervisors write them. Either reconnects with backoff and
/// registers again when the controller has forgotten the agent (a restart). While the
/// controller is away, jobs go on and their completions wait in the spool.
final class ControllerLink: @unchecked Sendable {
    let agent: Agent
    let address: HostPort
    let key: [UInt8]
    /// TLS towards chessd (`--tls-ca`); nil: cleartext.
    let security: ConnectionSecurityFactory?
    let version: String
    let logger: Logger
    let health: HealthChecker

    private let lock = NSLock()
    private var registered = false
    private var heartbeatInterval = 20
    private var stopping = false

    init(agent: Agent, address: HostPort, key: [UInt8], security: ConnectionSecurityFactory?, version: String, logger: Logger) {
        self.agent = agent
        self.address = address
        self.key = key
        self.security = security
        self.version = version
        self.logger = logger
        health = HealthChecker(logger: logger)
    }

    /// How long an answer that is not a long poll's may take: past it the controller is taken
    /// for gone (its host vanished without closing the connection) and the link reconnects.
    static let answerTimeout = 30.0

    /// The wait before reconnecting after the `failures`-th failure in a row: doubling from
    /// half a second up to 30 s, each a random point in its upper half, so that thousands of
    /// agents that lost a restarting controller together do not come back together.
    static func backoff(after failures: Int) -> Double {
        let ceiling = min(0.5 * Double(1 << min(max(failures - 1, 0), 6)), 30)
        return Double.random(in: (ceiling / 2)...ceiling)
    }

    func makeClient() -> ControllerClient {
        let id = agent.id
        let key = key
        // Requests signed with this agent's key; answers acted on only when chessd signed them.
        let client = ControllerClient(tcp: address, signer: { method, target, body in
            RequestSigning.headers(agent: id, key: key, method: method, target: target, body: body)
        }, verifier: { request, status, signature, body in
            RequestSigning.verifyResponse(key: key, request: request, status: status, signature: signature, body: body)
        }, security: security)
        client.answerTimeout = Self.answerTimeout
        return client
    }

    var isRegistered: Bool {
        lock.lock()
        defer { lock.unlock() }
        return registered
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        agent.bell?.ring()
    }

    var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    func start() {
        health.start()
        Thread.detachNewThread { [self] in pollLoop() }
        Thread.detachNewThread { [self] in reportLoop() }
    }

    private func register(_ client: ControllerClient) throws {
        let reports = agent.pendingReports()
        let response = try client.post("/v1/agent/register", agent.registration(version: version, completions: reports.map(\.completion)),
                                       as: AgentRegistrationResponse.self)
        agent.acknowledge(response.acknowledged, reported: reports.map(\.spool))
        for job in response.terminate {
            agent.terminate(job, run: nil, reason: "the controller no longer runs this job", grace: agent.killWait)
        }
        for n in response.nodes where n.state != "up" {
            logger.warning("node not up after registration", metadata: ["node": "\(n.name)", "state": "\(n.state)",
                                                                         "reason": "\(n.reason ?? "")"])
        }
        lock.lock()
        registered = true
        heartbeatInterval = max(response.heartbeatInterval, 1)
        lock.unlock()
        health.update(response.healthCheck)
        logger.info("registered", metadata: ["controller": "\(address)", "nodes": "\(response.nodes.map(\.name).joined(separator: ","))"])
    }

    private func markUnregistered() {
        lock.lock()
        registered = false
        lock.unlock()
    }

    private func pollLoop() {
        let client = makeClient()
        var failures = 0
        while !isStopping {
            do {
                client.answerTimeout = Self.answerTimeout
                if !isRegistered { try register(client) }
                let wait = lock.withLock { heartbeatInterval }
                let beat = AgentHeartbeat(agent: agent.id, wait: wait, metrics: HostMetrics.sample(gpus: agent.hostTopology), usage: agent.liveUsage(interval: wait),
                                          health: health.report)
                // The long poll: chessd holds it up to `wait` seconds.
                client.answerTimeout = Double(wait) + Self.answerTimeout
                let response = try client.post("/v1/agent/heartbeat", beat, as: HeartbeatResponse.self)
                health.update(response.healthCheck)
                agent.handle(response.commands)
                failures = 0
            } catch let e as ControllerClient.Failure {
                client.disconnect()
                if e.code == "not_registered" || e.status == nil { markUnregistered() }
                failures += 1
                let pause = Self.backoff(after: failures)
                logger.warning("controller link", metadata: ["error": "\(e.description)", "retry_in": "\(String(format: "%.1f", pause))s"])
                Thread.sleep(forTimeInterval: pause)
            } catch {
                client.disconnect()
                failures += 1
                Thread.sleep(forTimeInterval: Self.backoff(after: failures))
            }
        }
    }

    /// Reports ended runs as soon as their supervisors ring the spool's bell. Asleep while
    /// nothing runs (an idle agent costs no CPU here); while something runs or waits to be
    /// reported, it also looks once a second for supervisors that vanished without a result
    /// (killed, out of memory), reaps exited ones and retries a report the controller did not take.
    private func reportLoop() {
        let client = makeClient()
        var lastLostCheck = 0.0
        var failures = 0
        while !isStopping {
            agent.reapChildren()
            let now = ProcessInfo.processInfo.systemUptime
            let checkLost = now - lastLostCheck >= 1
            if checkLost { lastLostCheck = now }
            let reports = agent.pendingReports(checkLost: checkLost)
            if !reports.isEmpty && isRegistered {
                do {
                    let response = try client.post("/v1/agent/heartbeat",
                                                   AgentHeartbeat(agent: agent.id, completions: reports.map(\.completion)),
                                                   as: HeartbeatResponse.self)
                    agent.acknowledge(response.acknowledged, reported: reports.map(\.spool))
                    health.update(response.healthCheck)
                    agent.handle(response.commands)
                    logger.info("reported", metadata: ["jobs": "\(response.acknowledged)"])
                    failures = 0
                    // Acknowledged: look again at once (more may have ended meanwhile); what the
                    // controller did not take is tried again in a second.
                    if !response.acknowledged.isEmpty { continue }
                } catch {
                    client.disconnect()
                    if let e = error as? ControllerClient.Failure, e.code == "not_registered" { markUnregistered() }
                    failures += 1
                    Thread.sleep(forTimeInterval: Self.backoff(after: failures))
                }
            }
            if isStopping { break }
            agent.waitForEnds(milliseconds: reports.isEmpty && !agent.hasRunningWork ? -1 : 1000)
        }
    }
}
