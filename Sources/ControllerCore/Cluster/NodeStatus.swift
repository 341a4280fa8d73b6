import ChessAPI
import SchedulerCore

/// A node's runtime state beyond its configuration.
extension NodeStatus {
    /// A configured node before its agent registers: down (not responding), or as the file set it.
    package init(unregistered node: Node) {
        self.init(adminState: node.adminState == .up ? .down : node.adminState,
                  reason: node.adminState == .up ? Self.notRegistered : node.reason, registered: false)
    }
}

package struct NodeStatus: Codable, Sendable {
    package static let notRegistered = "Not responding: no agent has registered this node"
    package static let silentPrefix = "Not responding: no heartbeat"

    package var adminState: NodeAdminState
    package var reason: String?
    package var registered: Bool
    package var lastHeartbeat: Int?
    /// Set by an admin (drain/down): kept across restarts and registrations.
    package var adminSet = false
    /// The agent that registered the node (launches for it go there).
    package var agent: String?
    package var hcas: [String] = []
    /// Drained because its probed hardware falls short of the configuration.
    package var drainedByRegistration = false
    /// Drained by a failed health check, which a passing one undoes (nil: no).
    package var drainedByHealthCheck: Bool?
    package static let healthCheckPrefix = "health check: "
    package var metrics: NodeMetrics?

    package init(adminState: NodeAdminState, reason: String?, registered: Bool, lastHeartbeat: Int? = nil) {
        self.adminState = adminState
        self.reason = reason
        self.registered = registered
        self.lastHeartbeat = lastHeartbeat
    }

    /// Out of service, for the provider's uptime: its agent went silent, or an admin set it down
    /// (a failed node). A drained node still runs its jobs, and one whose agent has not
    /// registered since chessd started is not known to be out.
    package var isOut: Bool {
        (!registered && reason?.hasPrefix(Self.silentPrefix) == true) || (adminSet && adminState == .down)
    }
}
