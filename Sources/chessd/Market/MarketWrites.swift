import ControllerCore
import GRDB

/// The marketplace's share of the controller's writes: a marketplace job's settlement with its
/// final state, and each node's outages as its state is stored.
struct MarketWrites: WriteObserver {
    func jobEnded(_ record: JobRecord, in db: Database) throws {
        guard let market = record.market, let settlement = market.settlement else { return }
        try MarketTable.insert(settlement, token: market.funding.token, in: db)
    }

    func nodeStored(_ name: String, _ status: NodeStatus, at time: Int, in db: Database) throws {
        try MarketTable.recordAvailability(name, status, at: time, in: db)
    }
}
