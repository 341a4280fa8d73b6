import ChessAPI
import ControllerCore
import Foundation

extension Controller {
    /// A job step over nodes of several agents (srun on the batch node, whose agent asks): its
    /// tasks on each other agent's nodes go to that agent as a `step` command, which starts a
    /// member supervisor there that reports to the step's hub (`ControllerState.remoteStepParts`
    /// says who may ask and what each agent gets). Returns the agents.
    func startRemoteStep(_ plan: StepPlan, from agent: String) throws(APIError) -> [String] {
        lock.lock()
        let parts: [String: StepPlan]
        do { parts = try state.remoteStepParts(plan, from: agent) } catch {
            lock.unlock()
            throw error
        }
        lock.unlock()
        for (owner, part) in parts {
            agentLinks.send(AgentCommand(kind: "step", job: plan.job, run: plan.run, step: part), to: owner)
        }
        logger.info("step over agents", metadata: ["job": "\(plan.job)", "step": "\(plan.step)",
                                                   "agents": "\(parts.keys.sorted().joined(separator: ","))"])
        return parts.keys.sorted()
    }

    /// Steps the batch node's agent reports (`ControllerState.applyStepReports`).
    func stepReports(_ reports: [StepReport], from agent: String) {
        lock.lock()
        defer { lock.unlock() }
        state.applyStepReports(reports, from: agent)
    }

    /// The running steps of running jobs (squeue -s), by job id, then step.
    func runningSteps() -> [StepInfo] {
        lock.lock()
        defer { lock.unlock() }
        return state.runningSteps()
    }
}
