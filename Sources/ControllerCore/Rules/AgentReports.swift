import ChessAPI
import SchedulerCore

/// What agents tell the controller: registrations (their nodes' probed hardware, what they
/// run), heartbeats (alive, usage, metrics, health) and the completions both carry.
extension ControllerState {
    /// The agent that serves `node`: the one its configuration names, else the node itself.
    package func agent(of node: String) -> String { nodeAgents[node] ?? node }

    /// What a registration answers besides the heartbeat interval.
    package struct RegistrationOutcome {
        package var nodes: [NodeRegistrationResult] = []
        /// Completions recorded: the agent may drop them from its spool.
        package var acknowledged: [Int] = []
        /// Jobs the agent runs that should not run (or COMPLETING ones, whose first terminate
        /// may have been lost with a controller restart).
        package var terminate: [Int] = []

        package init() {}
    }

    /// Registers an agent's nodes: their probed topology becomes the controller's view of them,
    /// unless it falls short of the configuration, which drains the node with the reason. An
    /// agent speaks only for the nodes the configuration assigns it. Jobs it should run and does
    /// not know lost their launch (requeued); jobs it runs get their current time limit again.
    package mutating func register(_ registration: AgentRegistration, now: Int, changes: inout StateChanges) -> RegistrationOutcome {
        var outcome = RegistrationOutcome()
        var cluster = index.cluster
        for report in registration.nodes {
            guard let i = index.nodeByName[report.name] else {
                outcome.nodes.append(NodeRegistrationResult(name: report.name, state: "unknown",
                                                            reason: "not in the controller's configuration; add it under [[nodes]]"))
                continue
            }
            let assigned = agent(of: report.name)
            guard assigned == registration.agent else {
                outcome.nodes.append(NodeRegistrationResult(name: report.name, state: "refused",
                                                            reason: "node \(report.name) is served by agent \(assigned), not \(registration.agent) (agent in its [[nodes]])"))
                changes.notices.append(.warning("registration refused", ["agent": registration.agent, "node": report.name, "assigned": assigned]))
                continue
            }
            var status = nodes[report.name]!
            status.registered = true
            status.lastHeartbeat = now
            status.agent = registration.agent
            status.hcas = report.topology.hcas
            reportedTopology[report.name] = report.topology
            checkTopology(report.topology, node: i, in: &cluster, status: &status)
            nodes[report.name] = status
            changes.nodes.append((report.name, status))
            outcome.nodes.append(NodeRegistrationResult(name: report.name, state: status.adminState.rawValue, reason: status.reason))
        }
        if cluster != index.cluster { index = ClusterIndex(cluster) }
        nodesOfAgent[registration.agent] = registration.nodes.map(\.name).filter { nodes[$0]?.agent == registration.agent }

        outcome.acknowledged = applyCompletions(registration.completions, from: registration.agent, now: now, changes: &changes)
        // Jobs this agent should be running but does not know: their launch was lost.
        let known = Set(registration.running).union(registration.completions.map(\.job))
        let active = records.values.filter { $0.job.state.isActive && !known.contains($0.id) }
        for r in active {
            guard let first = r.job.allocation?.nodes.first?.node, nodes[first]?.agent == registration.agent else { continue }
            giveUp(r.id, reason: "launch lost: the agent on \(first) does not run it", now: now, changes: &changes)
        }
        outcome.terminate = registration.running.filter { id in
            !(records[id]?.job.state.isActive ?? false) || records[id]?.job.state == .completing
        }
        // The time limits of the jobs it runs, as they are now: a `chessctl update` sent while
        // the agent was away would be lost, and its supervisor would end the job at the old one.
        for id in registration.running {
            guard let (state, limit, node, run) = records.read(id, { ($0.job.state, $0.supervisorTimeLimit,
                                                                       $0.job.allocation?.nodes.first?.node, $0.requeueCount) }),
                  state == .running || state == .suspended, let limit, let node else { continue }
            pendingTimeLimits.append((id, node, limit, run))
        }
        return outcome
    }

    /// A heartbeat: the agent's nodes are alive, its jobs' usage and its nodes' metrics are
    /// kept, a health report drains or resumes a node, completions are recorded. Returns the
    /// completions the agent may forget; refused for an agent with no registered node.
    package mutating func heartbeat(_ beat: AgentHeartbeat, now: Int, healthCheckConfigured: Bool,
                                    changes: inout StateChanges) throws(APIError) -> [Int] {
        func serves(_ name: String) -> Bool { nodes[name].map { $0.agent == beat.agent && $0.registered } ?? false }
        var owned = (nodesOfAgent[beat.agent] ?? []).filter(serves)
        if owned.isEmpty {
            // Registered before this process knew it (its state came from the store): a walk, once.
            owned = nodes.filter { $0.value.agent == beat.agent && $0.value.registered }.map(\.key)
            if !owned.isEmpty { nodesOfAgent[beat.agent] = owned }
        }
        guard !owned.isEmpty else {
            throw APIError(status: 409, code: "not_registered", message: "agent \(beat.agent) has no registered nodes: register first")
        }
        for u in beat.usage ?? [] where records.read(u.job, { $0.job.state.isActive && $0.requeueCount == u.run
                                                               && runsBatch($0, on: beat.agent) }) == true {
            liveUsage[u.job] = u
        }
        for name in owned {
            nodes[name]!.lastHeartbeat = now
            if let m = beat.metrics { nodes[name]!.metrics = m }
            // Most heartbeats carry no health report and the node was not drained by one: no copy.
            if beat.health != nil || nodes[name]!.drainedByHealthCheck == true, var s = nodes[name],
               Self.applyHealth(beat.health, configured: healthCheckConfigured, to: &s) {
                nodes[name] = s
                changes.nodes.append((name, s))
                changes.notices.append(.warning("node health", ["node": name, "state": s.adminState.rawValue, "reason": s.reason ?? ""]))
            }
        }
        return applyCompletions(beat.completions, from: beat.agent, now: now, changes: &changes)
    }

    /// A failed health check drains a node (with the program's first line as the reason) unless
    /// an administrator or the hardware check set its state; a passing one, or a health check
    /// no longer configured, resumes a node only it drained. True when the state changed.
    package static func applyHealth(_ report: HealthReport?, configured: Bool, to s: inout NodeStatus) -> Bool {
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
    package func runsBatch(_ r: JobRecord, on agent: String) -> Bool {
        guard let first = r.job.allocation?.nodes.first?.node else { return false }
        return self.agent(of: first) == agent
    }

    /// Records completions of live jobs run by `agent`; returns the ids the agent may forget
    /// (all of them: a completion for a job that already ended, or that another agent runs, is
    /// acknowledged and ignored).
    package mutating func applyCompletions(_ completions: [JobCompletion], from agent: String, now: Int,
                                           changes: inout StateChanges) -> [Int] {
        for c in completions {
            // A completion of an earlier run (the job was requeued since) is acknowledged and dropped.
            guard let r = records[c.job], r.job.state.isActive, (c.run ?? r.requeueCount) == r.requeueCount else { continue }
            guard runsBatch(r, on: agent) else {
                changes.notices.append(.warning("completion refused: the job runs on another agent's node", ["agent": agent, "job": "\(c.job)"]))
                continue
            }
            // A failed prolog or epilog: the node takes no more jobs until an administrator resumes it.
            if let reason = c.drainReason, let node = r.job.allocation?.nodes.first?.node, var s = nodes[node],
               !(s.adminSet && s.adminState == .down) {
                (s.adminState, s.reason, s.adminSet, s.drainedByHealthCheck) = (.drain, reason, true, nil)
                nodes[node] = s
                changes.nodes.append((node, s))
                changes.notices.append(.warning("node drained", ["node": node, "job": "\(c.job)", "reason": reason]))
            }
            let state = JobState(rawValue: c.state) ?? (c.exitCode == 0 ? .completed : .failed)
            records[c.job]!.usage = JobUsage(cpuSeconds: c.cpuSeconds, maxRSSMB: c.maxRSSMB, gpuSeconds: c.gpuSeconds)
            if let steps = c.steps { records[c.job]!.steps = steps }
            if r.job.state == .completing {
                complete(c.job, changes: &changes)
                continue
            }
            if state == .nodeFail {
                requeue(c.job, reason: c.reason ?? "launch failed", now: now, changes: &changes)
                continue
            }
            let reason = c.reason ?? (state == .completed ? "exited with 0" : "exit code \(c.exitCode)" + (c.signal.map { ", signal \($0)" } ?? ""))
            // The agent's clock, not ours: a job cannot end before it started or after now (a
            // far-future end would make its run seconds, and the fair-share charge of cores ×
            // seconds, overflow).
            let end = min(max(c.endTime, r.job.startTime ?? now), now)
            finish(c.job, state: state, exitCode: c.exitCode, reason: reason, now: end, changes: &changes, notifyAgent: false)
        }
        return completions.map(\.job)
    }

    /// A node's probed topology against its configured one: drained with the reason when it falls
    /// short, else scheduled as the probe's layout with the configured amounts, and up unless an
    /// administrator set its state. At registration, and for registered nodes at `reconfigure`.
    package func checkTopology(_ reported: AgentTopology, node i: Int, in cluster: inout Cluster, status: inout NodeStatus) {
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
}
