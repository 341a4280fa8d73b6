import ChessAPI
import SchedulerCore

/// What committed changes owe agents and users: commands to send, jobs to launch, mail to hand
/// to the mailer. Rules queue them in the state (`pendingLaunches`, `pendingTerminations`, …);
/// the shell takes them after the commit, so nothing leaves before its change is durable.
package struct OutgoingCommands {
    /// A started job to launch on its batch node's agent; its script comes from the store.
    package struct Launch {
        package var agent: String
        package var record: JobRecord
        /// The job's array as submitted (task count, lowest and highest index), for a task.
        package var arrayBounds: (count: Int, min: Int, max: Int)?
    }

    package var commands: [(agent: String, command: AgentCommand)] = []
    package var launches: [Launch] = []
    package var mail: [JobMail] = []

    package var isEmpty: Bool { commands.isEmpty && launches.isEmpty && mail.isEmpty }
}

extension ControllerState {
    /// Everything queued for agents and mail since the last take, addressed: a launch to the
    /// batch node's agent (dropped for a job no longer active), a job's terminations and signals
    /// to every agent of its nodes (the batch node's runs the script, the others the tasks of
    /// its steps), a time limit to the node's agent.
    package mutating func takeOutgoing() -> OutgoingCommands {
        var out = OutgoingCommands()
        out.mail = pendingMail
        pendingMail.removeAll()
        for id in pendingLaunches {
            guard let r = records[id], r.job.state.isActive, let a = r.job.allocation,
                  let agent = nodes[a.nodes[0].node]?.agent else { continue }
            // A task's array as submitted (its record keeps the expression until the array ends).
            if let parent = r.job.arrayJobID, arrayBounds[parent] == nil, let text = records[parent]?.arrayExpression,
               let all = (try? JobSpecSyntax.array(text))?.pending, let first = all.first, let last = all.last {
                arrayBounds[parent] = (all.count, first, last)
            }
            out.launches.append(.init(agent: agent, record: r, arrayBounds: r.job.arrayJobID.flatMap { arrayBounds[$0] }))
        }
        pendingLaunches.removeAll()
        for t in pendingTerminations {
            for agent in agents(of: t.job, batchNode: t.node) {
                out.commands.append((agent, AgentCommand(kind: "terminate", job: t.job, signal: "TERM", grace: 30, reason: t.reason, run: t.run)))
            }
        }
        pendingTerminations.removeAll()
        for s in pendingSignals {
            for agent in agents(of: s.job, batchNode: s.node) {
                out.commands.append((agent, AgentCommand(kind: s.kind, job: s.job, signal: s.signal, run: s.run)))
            }
        }
        pendingSignals.removeAll()
        for t in pendingTimeLimits {
            guard let agent = nodes[t.node]?.agent else { continue }
            out.commands.append((agent, AgentCommand(kind: "time-limit", job: t.job, run: t.run, timeLimit: t.seconds)))
        }
        pendingTimeLimits.removeAll()
        return out
    }

    /// The agents of a job's nodes, its batch node's first (that one alone once the job's
    /// record is gone).
    private func agents(of job: JobID, batchNode first: String) -> [String] {
        var out: [String] = []
        for name in records[job]?.job.allocation?.nodeNames ?? [first] {
            if let a = nodes[name]?.agent, !out.contains(a) { out.append(a) }
        }
        if out.isEmpty, let a = nodes[first]?.agent { out.append(a) }
        return out
    }
}

extension JobRecord {
    /// What the batch node's agent needs to start this job: its script and environment (from
    /// the store), where each node's share lies, and who runs it.
    package func launch(script: String, environment: [String: String], clusterName: String) -> JobLaunch? {
        guard let a = job.allocation, !a.nodes.isEmpty else { return nil }
        let parts = a.nodes.map { JobLaunch.NodePart(node: $0.node, cores: $0.cores, memoryMB: $0.memoryMB, numa: $0.numaDomains, gpus: $0.gpus) }
        let tasksPerNode = max(a.nodes[0].cores.count / max(job.request.cpusPerTask, 1), 1)
        var launch = JobLaunch(job: id, arrayJobID: job.arrayJobID, arrayTaskID: job.arrayTaskIndex, name: job.name,
                               user: job.user, uid: uid, gid: gid, account: job.account, partition: job.partition,
                               script: script, workdir: workdir, output: output, error: error, environment: environment,
                               timeLimit: job.request.timeLimit, nodeList: HostList.compress(a.nodeNames), nodes: parts,
                               tasks: job.request.tasks ?? tasksPerNode * a.nodes.count, cpusPerTask: job.request.cpusPerTask,
                               run: requeueCount, cluster: clusterName)
        launch.warningSignal = warningSignal
        launch.requestedTasks = job.request.tasks ?? job.request.tasksPerNode.map { $0 * a.nodes.count }
        launch.appendOutput = appendOutput ?? (requeueCount > 0)
        return launch
    }
}
