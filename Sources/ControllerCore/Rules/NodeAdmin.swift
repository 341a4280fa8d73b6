import ChessAPI
import SchedulerCore

/// An administrator's word on a node (`scontrol update nodename=… state=drain|down|resume`).
extension ControllerState {
    /// Drains (with a reason), downs or resumes a node, as root or an operator. A resumed node
    /// is up if its agent is registered, else down until it registers. The administrator's word
    /// replaces the health check's (a failing check drains it again). Returns the node's state.
    package mutating func changeNode(_ name: String, _ change: NodeStateChange, identity: Identity) throws(APIError) -> NodeStatus {
        guard identity.admin else { throw .forbidden("only root or an operator may change node states") }
        guard var status = nodes[name] else { throw .notFound("node \(name) is not configured") }
        switch change.action {
        case "drain":
            guard let reason = change.reason, !reason.isEmpty else {
                throw .badRequest("draining a node needs a reason (--reason \"...\")")
            }
            status.adminState = .drain
            status.reason = reason
            status.adminSet = true
        case "down":
            status.adminState = .down
            status.reason = change.reason ?? "set down by \(identity.user)"
            status.adminSet = true
        case "resume":
            status.adminSet = false
            if status.registered {
                status.adminState = .up
                status.reason = nil
            } else {
                status.adminState = .down
                status.reason = NodeStatus.notRegistered
            }
        default:
            throw .badRequest("unknown node action '\(change.action)'; use drain, resume or down")
        }
        status.drainedByHealthCheck = nil
        nodes[name] = status
        return status
    }
}
