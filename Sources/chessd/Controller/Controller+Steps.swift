import ChessAPI
import ControllerCore
import Foundation

extension Controller {
    /// A job step over nodes of several agents (srun on the batch node, whose agent asks): its
    /// tasks on each other agent's nodes go to that agent as a `step` command, which starts a
    /// member supervisor there that reports to the step's hub. Only the agent of the job's batch
    /// node may ask, for its own job's current run and nodes of that job. Returns the agents.
    func startRemoteStep(_ plan: StepPlan, from agent: String) throws(APIError) -> [String] {
        lock.lock()
        guard let r = records[plan.job], r.job.state == .running, let a = r.job.allocation else {
            lock.unlock()
            throw .conflict("job \(plan.job) is not running")
        }
        guard r.requeueCount == plan.run else {
            lock.unlock()
            throw .conflict("job \(plan.job) runs as run \(r.requeueCount), not \(plan.run)")
        }
        guard nodes[a.nodes[0].node]?.agent == agent else {
            lock.unlock()
            throw .forbidden("agent \(agent) does not run job \(plan.job)'s batch script")
        }
        // Who the tasks run as comes from the job's record, never from the asking agent.
        guard let uid = r.uid, let gid = r.gid else {
            lock.unlock()
            throw .conflict("job \(plan.job) has no recorded user id: its steps cannot run on other nodes")
        }
        let held = Set(a.nodeNames)
        var byAgent: [String: [String]] = [:]
        for node in plan.nodes.map(\.name) where !(plan.runsOn ?? []).contains(node) {
            guard held.contains(node) else {
                lock.unlock()
                throw .badRequest("node \(node) is not one of job \(plan.job)'s")
            }
            guard let owner = nodes[node]?.agent, nodes[node]?.registered == true else {
                lock.unlock()
                throw .conflict("node \(node) has no agent registered")
            }
            byAgent[owner, default: []].append(node)
        }
        lock.unlock()
        let user = r.job.user
        for (owner, names) in byAgent {
            var part = plan
            part.runsOn = names
            (part.uid, part.gid, part.user) = (uid, gid, user)
            agentLinks.send(AgentCommand(kind: "step", job: plan.job, run: plan.run, step: part), to: owner)
        }
        logger.info("step over agents", metadata: ["job": "\(plan.job)", "step": "\(plan.step)",
                                                   "agents": "\(byAgent.keys.sorted().joined(separator: ","))"])
        return byAgent.keys.sorted()
    }
}

extension Controller {
    /// Steps the batch node's agent reports: running ones are kept (in memory: after a restart
    /// a step shows again when the agent next reports, and at the latest in the job's
    /// accounting), ended ones go. Reports of another agent's job or an earlier run are dropped.
    func stepReports(_ reports: [StepReport], from agent: String) {
        lock.lock()
        defer { lock.unlock() }
        for report in reports {
            guard let r = records[report.job], r.job.state.isActive, r.requeueCount == report.run, let a = r.job.allocation,
                  nodes[a.nodes[0].node]?.agent == agent else { continue }
            if liveSteps[report.job]?.run != report.run { liveSteps[report.job] = (report.run, [:]) }
            liveSteps[report.job]!.steps[report.record.step] = report.record.state == "RUNNING" ? report.record : nil
        }
    }

    /// The running steps of running jobs (squeue -s), by job id, then step.
    func runningSteps() -> [StepInfo] {
        lock.lock()
        defer { lock.unlock() }
        var out: [StepInfo] = []
        for (job, live) in liveSteps.sorted(by: { $0.key < $1.key }) {
            guard let r = records[job], r.job.state.isActive, r.requeueCount == live.run else { continue }
            for (_, s) in live.steps.sorted(by: { $0.key < $1.key }) {
                out.append(StepInfo(job: job, stepID: "\(r.displayID).\(s.step)", name: s.name, partition: r.job.partition,
                                    user: r.job.user, startTime: s.startTime, nodeList: s.nodeList, tasks: s.tasks, cpus: s.cpus))
            }
        }
        return out
    }
}
