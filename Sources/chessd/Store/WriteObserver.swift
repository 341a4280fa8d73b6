import ControllerCore
import GRDB

/// What else a controller's write puts in the same transaction, known to neither the store nor
/// the controller's rules: the marketplace's settlement of a job that ended (written with the
/// job's final state, never apart from it) and its record of node outages (the uptime its SLA
/// pays for). The store knows no market; the market observes.
protocol WriteObserver: Sendable {
    /// `record` was just written in `db`'s transaction, with a final state.
    func jobEnded(_ record: JobRecord, in db: Database) throws
    /// Node `name`'s `status` was just written, at `time`.
    func nodeStored(_ name: String, _ status: NodeStatus, at time: Int, in db: Database) throws
}
