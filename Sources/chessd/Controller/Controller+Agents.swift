import ChessAPI
import ControllerCore
import Foundation
import MarketBridge
import SchedulerCore

/// The controller's side of the agent protocol: registration, heartbeats, completions, and the
/// commands that carry out decisions (launch, terminate).
extension Controller {
    /// Registers an agent's nodes (`ControllerState.register`), writes what changed, and sends
    /// what the registration calls for (launches lost, time limits).
    func register(_ registration: AgentRegistration) -> AgentRegistrationResponse {
        let now = clock.now()
        var changed: [JobRecord] = []
        var events: [JobEvent] = []
        var outcome = ControllerState.RegistrationOutcome()
        lock.lock()
        let changes = applyLocked(&changed, &events) { outcome = $0.register(registration, now: now, changes: &$1) }
        lock.unlock()
        persist(changed: changed, events: events, nodes: changes.nodes, now: now)
        dispatchCommands()
        logger.info("agent registered", metadata: ["agent": "\(registration.agent)",
                                                   "nodes": "\(HostList.compress(registration.nodes.map(\.name)))"])
        requestPass()
        let configuration = self.configuration
        return AgentRegistrationResponse(heartbeatInterval: max(configuration.heartbeatTimeout / 3, 1), nodes: outcome.nodes,
                                         acknowledged: outcome.acknowledged, terminate: outcome.terminate, healthCheck: configuration.healthCheck)
    }

    /// A heartbeat (`ControllerState.heartbeat`): what changed is written, then the agent's
    /// commands are collected (a long poll when it has nothing to report).
    func heartbeat(_ beat: AgentHeartbeat, respond: @escaping @Sendable (Result<HeartbeatResponse, APIError>) -> Void) {
        let now = clock.now()
        let healthCheck = configuration.healthCheck
        var changed: [JobRecord] = []
        var events: [JobEvent] = []
        var answer: Result<[Int], APIError> = .success([])
        lock.lock()
        let changes = applyLocked(&changed, &events) { state, changes in
            do throws(APIError) {
                answer = .success(try state.heartbeat(beat, now: now, healthCheckConfigured: healthCheck != nil, changes: &changes))
            } catch {
                answer = .failure(error)
            }
        }
        lock.unlock()
        let acknowledged: [Int]
        switch answer {
        case .success(let ids): acknowledged = ids
        case .failure(let error): return respond(.failure(error))
        }
        if !changed.isEmpty || !events.isEmpty || !changes.nodes.isEmpty {
            persist(changed: changed, events: events, nodes: changes.nodes, now: now)
            requestPass()
        }
        let wait = min(max(beat.wait ?? 0, 0), 60)
        agentLinks.collect(for: beat.agent, wait: beat.completions.isEmpty ? wait : 0) { commands in
            respond(.success(HeartbeatResponse(acknowledged: acknowledged, commands: commands, healthCheck: healthCheck)))
        }
    }

    /// Nodes whose agent has been silent past the timeout go DOWN; their jobs are requeued
    /// (`ControllerState.checkHeartbeats`).
    func checkHeartbeatsLocked(now: Int, changed: inout [JobRecord], events: inout [JobEvent],
                               nodeWrites: inout [(String, NodeStatus)]) {
        let timeout = configuration.heartbeatTimeout
        let changes = applyLocked(&changed, &events) { $0.checkHeartbeats(now: now, timeout: timeout, changes: &$1) }
        for (name, status) in changes.nodes { nodeWrites.append((name, status)) }
    }

    /// See `ControllerState.checkTopology`.
    func checkTopologyLocked(_ reported: AgentTopology, node i: Int, in cluster: inout Cluster, status: inout NodeStatus) {
        state.checkTopology(reported, node: i, in: &cluster, status: &status)
    }

    /// Writes changed jobs, events and node states in one transaction and waits for it.
    /// Fair-share usage charged since it was last stored goes in the same transaction (usually
    /// that of the jobs whose ends charged it).
    func persist(changed: [JobRecord], events: [(JobID, JobState, String)], nodes nodeWrites: [(String, NodeStatus)], now: Int) {
        lock.lock()
        let charged = chargedAccounts
        let usage = charged.isEmpty ? nil : ledger.stored(charged)
        chargedAccounts.removeAll()
        lock.unlock()
        guard !changed.isEmpty || !events.isEmpty || !nodeWrites.isEmpty || usage != nil else { return }
        var changed = changed
        signSettlements(&changed)
        do {
            try store.writeAndWait { [changed] db in
                if let usage { try UsageTable.save(usage.micro, asOf: usage.asOf, in: db) }
                for r in changed { try self.saveJob(r, in: db) }
                for (id, state, reason) in events { try JobTable.event(id, time: now, state: state, reason: reason, in: db) }
                for (name, s) in nodeWrites {
                    try self.saveNode(name, s, at: now, in: db)
                }
            }
        } catch {
            if usage != nil {
                lock.lock()
                chargedAccounts.formUnion(charged)
                lock.unlock()
            }
            logger.error("state not stored", metadata: ["error": "\(error)"])
        }
    }

    /// Sends what committed decisions call for (`ControllerState.takeOutgoing`): launches of
    /// started jobs (with their scripts, read from the store here), terminations, signals and
    /// time limits, and mail.
    func dispatchCommands() {
        lock.lock()
        let out = state.takeOutgoing()
        let clusterName = index.cluster.name
        lock.unlock()
        guard !out.isEmpty else { return }
        let config = configuration  // one copy (each read of `configuration` copies it under its lock)
        sendMail(out.mail, program: config.mailProgram)
        var commands = out.commands
        for l in out.launches {
            let r = l.record
            let stored = (try? store.read { db in try JobTable.script(r.job.arrayJobID ?? r.id, in: db) }) ?? nil
            guard let stored, var launch = r.launch(script: stored.script, environment: stored.environment, clusterName: clusterName) else {
                logger.error("no script stored for a started job", metadata: ["job": "\(r.id)"])
                continue
            }
            (launch.prolog, launch.epilog) = (config.prolog, config.epilog)
            if let b = l.arrayBounds { (launch.arrayTaskCount, launch.arrayTaskMin, launch.arrayTaskMax) = (b.count, b.min, b.max) }
            if config.prolog != nil || config.epilog != nil { launch.prologEpilogTimeout = config.prologEpilogTimeout }
            commands.append((l.agent, AgentCommand(kind: "launch", job: r.id, launch: launch)))
        }
        for (agent, command) in commands { agentLinks.send(command, to: agent) }
    }

    /// Hands committed mail to the mailer (made, or made again, for the configured program).
    func sendMail(_ mail: [JobMail], program: String?) {
        guard !mail.isEmpty, let program else { return }
        let mailer = self.mailer.withLock { current -> JobMailer in
            if let m = current, m.program == program { return m }
            let m = JobMailer(program: program, logger: logger)
            current = m
            return m
        }
        mailer.send(mail)
    }
}
