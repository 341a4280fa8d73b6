import ControllerCore
import ChessAPI
import MarketBridge
import Foundation
import SchedulerCore

/// The controller's side of the agent protocol: registration, heartbeats, completions, and the
/// commands that carry out decisions (launch, terminate).
extension Controller {
    /// Registers an agent's nodes: their probed topology becomes the controller's view of them,
    /// unless it falls short of the configuration, which drains the node with the reason.
    func register(_ registration: AgentRegistration) -> AgentRegistrationResponse {
        let now = clock.now()
        var changed: [JobRecord] = []
        var events: [(JobID, JobState, String)] = []
        var results: [NodeRegistrationResult] = []
        var nodeWrites: [(String, NodeStatus)] = []
        lock.lock()
        var cluster = index.cluster
        for report in registration.nodes {
            guard let i = index.nodeByName[report.name] else {
                results.append(NodeRegistrationResult(name: report.name, state: "unknown",
                                                      reason: "not in the controller's configuration; add it under [[nodes]]"))
                continue
            }
            // An agent speaks for the nodes the configuration assigns it, and no other.
            let assigned = configuration.agent(of: report.name)
            guard assigned == registration.agent else {
                results.append(NodeRegistrationResult(name: report.name, state: "refused",
                                                      reason: "node \(report.name) is served by agent \(assigned), not \(registration.agent) (agent in its [[nodes]])"))
                logger.warning("registration refused", metadata: ["agent": "\(registration.agent)", "node": "\(report.name)",
                                                                  "assigned": "\(assigned)"])
                continue
            }
            var status = nodes[report.name]!
            status.registered = true
            status.lastHeartbeat = now
            status.agent = registration.agent
            status.hcas = report.topology.hcas
            reportedTopology[report.name] = report.topology
            checkTopologyLocked(report.topology, node: i, in: &cluster, status: &status)
            nodes[report.name] = status
            nodeWrites.append((report.name, status))
            results.append(NodeRegistrationResult(name: report.name, state: status.adminState.rawValue, reason: status.reason))
        }
        if cluster != index.cluster { index = ClusterIndex(cluster) }
        nodesOfAgent[registration.agent] = registration.nodes.map(\.name).filter { nodes[$0]?.agent == registration.agent }

        let acknowledged = applyCompletionsLocked(registration.completions, from: registration.agent, now: now, changed: &changed,
                                                  events: &events, nodeWrites: &nodeWrites)
        // Jobs this agent should be running but does not know: their launch was lost.
        let known = Set(registration.running).union(registration.completions.map(\.job))
        let active = records.values.filter { $0.job.state.isActive && !known.contains($0.id) }
        for r in active {
            let id = r.id
            guard let first = r.job.allocation?.nodes.first?.node, nodes[first]?.agent == registration.agent else { continue }
            giveUpLocked(id, reason: "launch lost: the agent on \(first) does not run it", now: now, changed: &changed, events: &events)
        }
        // What the agent runs that should not run, and COMPLETING jobs again (the first
        // terminate may have been lost with a controller restart).
        let terminate = registration.running.filter { id in
            !(records[id]?.job.state.isActive ?? false) || records[id]?.job.state == .completing
        }
        // The time limits of the jobs it runs, as they are now: a `chessctl update` sent while
        // the agent was away would be lost, and its supervisor would end the job at the old one.
        for id in registration.running {
            guard let (state, limit, node, run) = records.read(id, { ($0.job.state, $0.job.request.timeLimit,
                                                                       $0.job.allocation?.nodes.first?.node, $0.requeueCount) }),
                  state == .running || state == .suspended, let limit, let node else { continue }
            pendingTimeLimits.append((id, node, limit, run))
        }
        lock.unlock()
        persist(changed: changed, events: events, nodes: nodeWrites, now: now)
        dispatchCommands()
        logger.info("agent registered", metadata: ["agent": "\(registration.agent)",
                                                   "nodes": "\(HostList.compress(registration.nodes.map(\.name)))"])
        requestPass()
        return AgentRegistrationResponse(heartbeatInterval: max(configuration.heartbeatTimeout / 3, 1), nodes: results,
                                         acknowledged: acknowledged, terminate: terminate, healthCheck: configuration.healthCheck)
    }

    /// A heartbeat: the agent's nodes are alive; completions are recorded, then acknowledged.
    func heartbeat(_ beat: AgentHeartbeat, respond: @escaping @Sendable (Result<HeartbeatResponse, APIError>) -> Void) {
        let now = clock.now()
        var changed: [JobRecord] = []
        var events: [(JobID, JobState, String)] = []
        lock.lock()
        func serves(_ name: String) -> Bool { nodes[name].map { $0.agent == beat.agent && $0.registered } ?? false }
        var owned = (nodesOfAgent[beat.agent] ?? []).filter(serves)
        if owned.isEmpty {
            // Registered before this process knew it (its state came from the store): a walk, once.
            owned = nodes.filter { $0.value.agent == beat.agent && $0.value.registered }.map(\.key)
            if !owned.isEmpty { nodesOfAgent[beat.agent] = owned }
        }
        guard !owned.isEmpty else {
            lock.unlock()
            return respond(.failure(APIError(status: 409, code: "not_registered",
                                             message: "agent \(beat.agent) has no registered nodes: register first")))
        }
        for u in beat.usage ?? [] where records.read(u.job, { $0.job.state.isActive && $0.requeueCount == u.run
                                                               && runsBatch($0, on: beat.agent) }) == true {
            liveUsage[u.job] = u
        }
        let healthCheck = configuration.healthCheck
        var nodeWrites: [(String, NodeStatus)] = []
        for name in owned {
            nodes[name]!.lastHeartbeat = now
            if let m = beat.metrics { nodes[name]!.metrics = m }
            // Most heartbeats carry no health report and the node was not drained by one: no copy.
            if beat.health != nil || nodes[name]!.drainedByHealthCheck == true, var s = nodes[name],
               applyHealth(beat.health, configured: healthCheck != nil, to: &s) {
                nodes[name] = s
                nodeWrites.append((name, s))
                logger.warning("node health", metadata: ["node": "\(name)", "state": "\(s.adminState.rawValue)", "reason": "\(s.reason ?? "")"])
            }
        }
        let acknowledged = applyCompletionsLocked(beat.completions, from: beat.agent, now: now, changed: &changed, events: &events,
                                                  nodeWrites: &nodeWrites)
        lock.unlock()
        if !changed.isEmpty || !events.isEmpty || !nodeWrites.isEmpty {
            persist(changed: changed, events: events, nodes: nodeWrites, now: now)
            requestPass()
        }
        let wait = min(max(beat.wait ?? 0, 0), 60)
        agentLinks.collect(for: beat.agent, wait: beat.completions.isEmpty ? wait : 0) { commands in
            respond(.success(HeartbeatResponse(acknowledged: acknowledged, commands: commands, healthCheck: healthCheck)))
        }
    }

    /// A failed health check drains a node (with the program's first line as the reason) unless
    /// an administrator or the hardware check set its state; a passing one, or a health check
    /// no longer configured, resumes a node only it drained. True when the state changed.
    func applyHealth(_ report: HealthReport?, configured: Bool, to s: inout NodeStatus) -> Bool {
        let ours = s.drainedByHealthCheck == true
        if let report, configured, !report.ok {
            guard !s.adminSet, !s.drainedByRegistration, s.registered else { return false }
            let reason = "\(NodeStatus.healthCheckPrefix)\(report.message ?? "failed")"
            guard s.adminState != .drain || s.reason != reason else { return false }
            (s.adminState, s.reason, s.drainedByHealthCheck) = (.drain, reason, true)
            return true
        }
        guard ours, report?.ok == true || !configured else { return false }
        (s.adminState, s.reason, s.drainedByHealthCheck) = (.up, nil, nil)
        return true
    }

    /// Whether `agent` is the one that runs `r`'s batch script (the agent its configuration
    /// assigns the job's first node): the only one whose word on the job's end and usage counts.
    func runsBatch(_ r: JobRecord, on agent: String) -> Bool {
        guard let first = r.job.allocation?.nodes.first?.node else { return false }
        return configuration.agent(of: first) == agent
    }

    /// Records completions of live jobs run by `agent`; returns the ids the agent may forget
    /// (all of them: a completion for a job that already ended, or that another agent runs, is
    /// acknowledged and ignored).
    func applyCompletionsLocked(_ completions: [JobCompletion], from agent: String, now: Int, changed: inout [JobRecord],
                                events: inout [(JobID, JobState, String)], nodeWrites: inout [(String, NodeStatus)]) -> [Int] {
        for c in completions {
            // A completion of an earlier run (the job was requeued since) is acknowledged and dropped.
            guard let r = records[c.job], r.job.state.isActive, (c.run ?? r.requeueCount) == r.requeueCount else { continue }
            guard runsBatch(r, on: agent) else {
                logger.warning("completion refused: the job runs on another agent's node",
                               metadata: ["agent": "\(agent)", "job": "\(c.job)"])
                continue
            }
            // A failed prolog or epilog: the node takes no more jobs until an administrator resumes it.
            if let reason = c.drainReason, let node = r.job.allocation?.nodes.first?.node, var s = nodes[node],
               !(s.adminSet && s.adminState == .down) {
                (s.adminState, s.reason, s.adminSet, s.drainedByHealthCheck) = (.drain, reason, true, nil)
                nodes[node] = s
                nodeWrites.append((node, s))
                logger.warning("node drained", metadata: ["node": "\(node)", "job": "\(c.job)", "reason": "\(reason)"])
            }
            let state = JobState(rawValue: c.state) ?? (c.exitCode == 0 ? .completed : .failed)
            records[c.job]!.usage = JobUsage(cpuSeconds: c.cpuSeconds, maxRSSMB: c.maxRSSMB, gpuSeconds: c.gpuSeconds)
            if let steps = c.steps { records[c.job]!.steps = steps }
            if r.job.state == .completing {
                completeLocked(c.job, now: now, changed: &changed, events: &events)
                continue
            }
            if state == .nodeFail {
                requeueLocked(c.job, reason: c.reason ?? "launch failed", now: now, changed: &changed, events: &events)
                continue
            }
            let reason = c.reason ?? (state == .completed ? "exited with 0" : "exit code \(c.exitCode)" + (c.signal.map { ", signal \($0)" } ?? ""))
            finishLocked(c.job, state: state, exitCode: c.exitCode, reason: reason, now: c.endTime, changed: &changed,
                         events: &events, notifyAgent: false)
        }
        return completions.map(\.job)
    }

    /// See `ControllerState.complete`.
    func completeLocked(_ id: JobID, now: Int, changed: inout [JobRecord], events: inout [JobEvent]) {
        applyLocked(&changed, &events) { $0.complete(id, changes: &$1) }
    }

    /// See `ControllerState.giveUp`.
    func giveUpLocked(_ id: JobID, reason: String, now: Int, changed: inout [JobRecord], events: inout [JobEvent]) {
        applyLocked(&changed, &events) { $0.giveUp(id, reason: reason, now: now, changes: &$1) }
    }

    /// See `ControllerState.requeue`.
    func requeueLocked(_ id: JobID, reason: String, now: Int, changed: inout [JobRecord], events: inout [JobEvent]) {
        applyLocked(&changed, &events) { $0.requeue(id, reason: reason, now: now, changes: &$1) }
    }

    /// Nodes whose agent has been silent past the timeout go DOWN; their jobs are requeued
    /// (`ControllerState.checkHeartbeats`).
    func checkHeartbeatsLocked(now: Int, changed: inout [JobRecord], events: inout [JobEvent],
                               nodeWrites: inout [(String, NodeStatus)]) {
        let timeout = configuration.heartbeatTimeout
        let changes = applyLocked(&changed, &events) { $0.checkHeartbeats(now: now, timeout: timeout, changes: &$1) }
        for (name, status) in changes.nodes { nodeWrites.append((name, status)) }
        for name in changes.silentNodes { logger.warning("node not responding", metadata: ["node": "\(name)"]) }
    }

    /// A node's probed topology against its configured one: drained with the reason when it falls
    /// short, else scheduled as the probe's layout with the configured amounts, and up unless an
    /// administrator set its state. At registration, and for registered nodes at `reconfigure`.
    func checkTopologyLocked(_ reported: AgentTopology, node i: Int, in cluster: inout Cluster, status: inout NodeStatus) {
        let configured = configuredTopology[cluster.nodes[i].name] ?? cluster.nodes[i].topology
        if let mismatch = NodeTopologyCheck.mismatch(reported: reported, configured: configured) {
            status.adminState = .drain
            status.reason = mismatch
            status.adminSet = false
            status.drainedByRegistration = true
            status.drainedByHealthCheck = nil
        } else {
            cluster.nodes[i].topology = NodeTopologyCheck.merge(reported: reported, configured: configured)
            if !status.adminSet {
                status.adminState = .up
                status.reason = nil
                status.drainedByRegistration = false
                status.drainedByHealthCheck = nil
            }
        }
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

    /// Sends what committed decisions call for: launches of started jobs (with their scripts)
    /// and terminations of jobs ended by the controller.
    func dispatchCommands() {
        lock.lock()
        let launches = pendingLaunches
        let terminations = pendingTerminations
        let signals = pendingSignals
        let timeLimits = pendingTimeLimits
        pendingLaunches.removeAll()
        pendingTerminations.removeAll()
        pendingSignals.removeAll()
        pendingTimeLimits.removeAll()
        let mail = pendingMail
        pendingMail.removeAll()
        var commands: [(String, AgentCommand)] = []
        var needScripts: [(String, JobRecord)] = []
        for id in launches {
            guard let r = records[id], r.job.state.isActive, let a = r.job.allocation,
                  let agent = nodes[a.nodes[0].node]?.agent else { continue }
            needScripts.append((agent, r))
            // A task's array as submitted (its record keeps the expression until the array ends).
            if let parent = r.job.arrayJobID, arrayBounds[parent] == nil, let text = records[parent]?.arrayExpression,
               let all = (try? JobSpecSyntax.array(text))?.pending, let first = all.first, let last = all.last {
                arrayBounds[parent] = (all.count, first, last)
            }
        }
        let bounds = arrayBounds
        // A job's signals go to every agent of its nodes: the batch node's runs the script, the
        // others run the tasks of its steps there (srun).
        func agents(_ job: JobID, _ first: String) -> [String] {
            var out: [String] = []
            for name in records[job]?.job.allocation?.nodeNames ?? [first] {
                if let a = nodes[name]?.agent, !out.contains(a) { out.append(a) }
            }
            if out.isEmpty, let a = nodes[first]?.agent { out.append(a) }
            return out
        }
        for t in terminations {
            for agent in agents(t.job, t.node) {
                commands.append((agent, AgentCommand(kind: "terminate", job: t.job, signal: "TERM", grace: 30, reason: t.reason, run: t.run)))
            }
        }
        for s in signals {
            for agent in agents(s.job, s.node) {
                commands.append((agent, AgentCommand(kind: s.kind, job: s.job, signal: s.signal, run: s.run)))
            }
        }
        for t in timeLimits {
            guard let agent = nodes[t.node]?.agent else { continue }
            commands.append((agent, AgentCommand(kind: "time-limit", job: t.job, run: t.run, timeLimit: t.seconds)))
        }
        let cluster = index.cluster
        let config = configuration  // one copy (each read of `configuration` copies it under its lock)
        let (prolog, epilog, prologEpilogTimeout) = (config.prolog, config.epilog, config.prologEpilogTimeout)
        lock.unlock()
        sendMail(mail, program: config.mailProgram)
        for (agent, r) in needScripts {
            let stored = (try? store.read { db in try JobTable.script(r.job.arrayJobID ?? r.id, in: db) }) ?? nil
            guard let stored else {
                logger.error("no script stored for a started job", metadata: ["job": "\(r.id)"])
                continue
            }
            var launch = Controller.launch(for: r, script: stored.script, environment: stored.environment, cluster: cluster)
            (launch.prolog, launch.epilog) = (prolog, epilog)
            if let b = r.job.arrayJobID.flatMap({ bounds[$0] }) {
                (launch.arrayTaskCount, launch.arrayTaskMin, launch.arrayTaskMax) = (b.count, b.min, b.max)
            }
            if prolog != nil || epilog != nil { launch.prologEpilogTimeout = prologEpilogTimeout }
            commands.append((agent, AgentCommand(kind: "launch", job: r.id, launch: launch)))
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

    static func launch(for r: JobRecord, script: String, environment: [String: String], cluster: Cluster) -> JobLaunch {
        let a = r.job.allocation!
        let parts = a.nodes.map { JobLaunch.NodePart(node: $0.node, cores: $0.cores, memoryMB: $0.memoryMB, numa: $0.numaDomains, gpus: $0.gpus) }
        let tasksPerNode = max(a.nodes.first.map { $0.cores.count / max(r.job.request.cpusPerTask, 1) } ?? 1, 1)
        var launch = JobLaunch(job: r.id, arrayJobID: r.job.arrayJobID, arrayTaskID: r.job.arrayTaskIndex, name: r.job.name,
                               user: r.job.user, uid: r.uid, gid: r.gid, account: r.job.account, partition: r.job.partition,
                               script: script, workdir: r.workdir, output: r.output, error: r.error, environment: environment,
                               timeLimit: r.job.request.timeLimit, nodeList: HostList.compress(a.nodeNames), nodes: parts,
                               tasks: r.job.request.tasks ?? tasksPerNode * a.nodes.count, cpusPerTask: r.job.request.cpusPerTask,
                               run: r.requeueCount, cluster: cluster.name)
        launch.warningSignal = r.warningSignal
        launch.requestedTasks = r.job.request.tasks ?? r.job.request.tasksPerNode.map { $0 * a.nodes.count }
        launch.appendOutput = r.appendOutput ?? (r.requeueCount > 0)
        return launch
    }
}

/// Compares a probed topology with the configured one.
enum NodeTopologyCheck {
    /// Why the node falls short of its configuration, or nil when it does not.
    static func mismatch(reported: AgentTopology, configured: NodeTopology) -> String? {
        let cores = reported.numa.reduce(0) { $0 + $1.cores.count }
        let memory = reported.numa.reduce(0) { $0 + $1.memoryMB }
        if cores < configured.coreCount { return "Low core count (\(cores) < \(configured.coreCount) configured)" }
        if memory < configured.memoryMB { return "Low RealMemory (\(memory) < \(configured.memoryMB) MiB configured)" }
        if reported.gpus.count < configured.gpus.count {
            return "GPU count mismatch (\(reported.gpus.count) < \(configured.gpus.count) configured)"
        }
        let configuredTypes = configured.gpuTypes
        if !configuredTypes.isEmpty, let other = reported.gpus.first(where: { !configuredTypes.contains($0.type) }) {
            return "GPU type mismatch (\(other.type), configured \(configuredTypes.sorted().joined(separator: ",")))"
        }
        return nil
    }

    /// The probed layout (which cores and GPUs sit in which NUMA domain), with the configured
    /// amounts: extra cores, memory and GPUs beyond the configuration are not scheduled, as in
    /// Slurm, so that a site can keep some for the system.
    static func merge(reported: AgentTopology, configured: NodeTopology) -> NodeTopology {
        var remainingCores = configured.coreCount
        let totalMemory = max(reported.numa.reduce(0) { $0 + $1.memoryMB }, 1)
        var domains: [NUMADomain] = []
        var memoryLeft = configured.memoryMB
        for (i, d) in reported.numa.enumerated() {
            let cores = Array(d.cores.prefix(remainingCores))
            remainingCores -= cores.count
            let memory = i == reported.numa.count - 1 ? memoryLeft : configured.memoryMB * d.memoryMB / totalMemory
            memoryLeft -= memory
            domains.append(NUMADomain(id: d.id, cores: cores, memoryMB: memory))
        }
        let gpus = reported.gpus.prefix(configured.gpus.count).map { GPUDevice(index: $0.index, type: $0.type, numaDomain: $0.numa) }
        var topology = NodeTopology(sockets: reported.sockets, numaDomains: domains, gpus: Array(gpus),
                                    threadsPerCore: reported.threadsPerCore, leafSwitch: configured.leafSwitch)
        // The real thread count holds when every probed core is scheduled; otherwise cores × threads.
        let reportedCores = reported.numa.reduce(0) { $0 + $1.cores.count }
        if let cpus = reported.cpus, configured.coreCount >= reportedCores { topology.cpus = cpus }
        return topology
    }
}
