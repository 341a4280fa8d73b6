import ChessAPI
import SchedulerCore

/// Job steps that span several agents' nodes (srun on the batch node, whose agent asks), and the
/// running steps the batch node's agent reports (squeue -s).
extension ControllerState {
    /// The parts of `plan` each other agent is to start (its tasks on that agent's nodes, as
    /// the job's recorded user), by agent. Only the agent of the job's batch node may ask, for its
    /// own job's current run and nodes of that job; who the tasks run as comes from the job's
    /// record, never from the asking agent.
    package func remoteStepParts(_ plan: StepPlan, from agent: String) throws(APIError) -> [String: StepPlan] {
        guard let r = records[plan.job], r.job.state == .running, let a = r.job.allocation else {
            throw .conflict("job \(plan.job) is not running")
        }
        guard r.requeueCount == plan.run else {
            throw .conflict("job \(plan.job) runs as run \(r.requeueCount), not \(plan.run)")
        }
        guard nodes[a.nodes[0].node]?.agent == agent else {
            throw .forbidden("agent \(agent) does not run job \(plan.job)'s batch script")
        }
        guard let uid = r.uid, let gid = r.gid else {
            throw .conflict("job \(plan.job) has no recorded user id: its steps cannot run on other nodes")
        }
        // The plan's lists are the agent's word, up to a 64 MiB body: no longer than the job's
        // node list, and looked up in a set (a list searched per node was quadratic in what the
        // agent sent, under the controller's lock).
        guard plan.nodes.count <= a.nodes.count, (plan.runsOn?.count ?? 0) <= a.nodes.count else {
            throw .badRequest("a step of job \(plan.job) names more nodes than the job's \(a.nodes.count)")
        }
        let held = Set(a.nodeNames)
        let local = Set(plan.runsOn ?? [])
        var byAgent: [String: [String]] = [:]
        for node in plan.nodes.map(\.name) where !local.contains(node) {
            guard held.contains(node) else { throw .badRequest("node \(node) is not one of job \(plan.job)'s") }
            guard let owner = nodes[node]?.agent, nodes[node]?.registered == true else {
                throw .conflict("node \(node) has no agent registered")
            }
            byAgent[owner, default: []].append(node)
        }
        var parts: [String: StepPlan] = [:]
        for (owner, names) in byAgent {
            var part = plan
            part.runsOn = names
            (part.uid, part.gid, part.user) = (uid, gid, r.job.user)
            parts[owner] = part
        }
        return parts
    }

    /// Steps the batch node's agent reports: running ones are kept (in memory: after a restart a
    /// step shows again when the agent next reports, and at the latest in the job's accounting),
    /// ended ones go. Reports of another agent's job or an earlier run are dropped.
    /// At most this many running steps are kept per job (Slurm's default MaxStepCount), each
    /// with a name and node list of at most `maxStepTextBytes`: what an agent reports is kept in
    /// memory until the step ends.
    package static let maxLiveStepsPerJob = 40_000
    package static let maxStepTextBytes = 4096

    package mutating func applyStepReports(_ reports: [StepReport], from agent: String) {
        for report in reports {
            // Read in place: a report list can be long, and a copy of the record per report is not free.
            guard records.read(report.job, { r in
                r.job.state.isActive && r.requeueCount == report.run
                    && r.job.allocation?.nodes.first.map { nodes[$0.node]?.agent == agent } == true
            }) == true else { continue }
            if liveSteps[report.job]?.run != report.run { liveSteps[report.job] = (report.run, [:]) }
            let step = report.record.step
            guard report.record.state == "RUNNING" else {
                liveSteps[report.job]!.steps[step] = nil
                continue
            }
            let count = liveSteps[report.job]!.steps.count
            guard report.record.name.utf8.count <= Self.maxStepTextBytes, report.record.nodeList.utf8.count <= Self.maxStepTextBytes,
                  count < Self.maxLiveStepsPerJob || liveSteps[report.job]!.steps[step] != nil else { continue }
            liveSteps[report.job]!.steps[step] = report.record
        }
    }

    /// The running steps of running jobs (squeue -s), by job id, then step.
    package func runningSteps() -> [StepInfo] {
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
