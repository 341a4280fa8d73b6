import Billing
@testable import chessd
import Foundation
import GRDB
import MarketBridge
import Testing

/// Settlements in the real store: found by id through their job, also those stored with an id of
/// the earlier form (a whole keccak hash) by a store that v6 migrated.
@Suite("Settlement store") struct SettlementStoreTests {
    static func settlement(job: Int, id: String? = nil) throws -> Settlement {
        let escrow = EscrowRecord(escrowID: "0x" + String(format: "%064x", job), payer: EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")!,
                                  amount: MicroUSDC(units: 1_000_000), transaction: "0x" + String(repeating: "cd", count: 32))
        let calculator = SettlementCalculator(cluster: "c", provider: EthereumAddress("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")!,
                                              policy: BillingPolicy(), sla: SLAPolicy())
        var s = try calculator.settle(jobID: job, terms: .init(escrow: escrow, prices: PriceList(coreHour: MicroUSDC(units: 40_000)), usageFactorPermille: 1000),
                                      allocated: BillableResources(nodes: 1, cores: 2, memoryMB: 1024),
                                      runs: [JobRun(start: 100, end: 160, ended: .completed)], endTime: 160, reason: "exited with 0")
        if let id { s.id = id }
        return s
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "chess-settlement-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func settlementsOfEitherIDFormAreFoundAfterTheMigration() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A store as v5 left it, with a settlement whose id is a whole keccak hash.
        let earlierID = HexBytes.encode(Keccak256.hash(Array("chess-settlement|c|3|escrow".utf8)))
        do {
            let pool = try DatabasePool(path: directory + "/chess.sqlite")
            try Store.migrator.migrate(pool, upTo: "v5: escrows used")
            try pool.write { db in
                // As v5 wrote it (no token column yet).
                let s = try Self.settlement(job: 3, id: earlierID)
                try db.execute(sql: "INSERT INTO settlements (job_id, id, feed_seq, end_time, record) VALUES (?, ?, ?, ?, ?)",
                               arguments: [s.jobID, s.id, 1, s.endTime, try MarketTable.encode(s)])
                try db.execute(sql: "UPDATE settlements SET acknowledged_at = 500 WHERE job_id = 3")
            }
        }
        let store = try Store(directory: directory)
        defer { store.close() }
        let current = try Self.settlement(job: 4)
        #expect(Settlement.jobID(inSettlementID: current.id) == 4)
        try store.writeAndWait { try MarketTable.insert(current, token: "t", in: $0) }

        try store.read { db in
            let earlier = try #require(try MarketTable.find(id: earlierID.uppercased().replacingOccurrences(of: "0X", with: "0x"), in: db))
            #expect(earlier.settlement.jobID == 3 && earlier.acknowledgedAt == 500, "the copy kept the row whole")
            #expect(try MarketTable.find(id: current.id, in: db)?.settlement == current)
            // The id's job part names job 4, its hash part is another settlement's: not found.
            #expect(try MarketTable.find(id: "0x" + String(repeating: "0", count: 48) + String(current.id.suffix(16)), in: db) == nil)
            #expect(try MarketTable.find(id: "0x" + String(repeating: "ab", count: 32), in: db) == nil)
            // Only the earlier id is in the partial index, and the lookup of such ids uses it.
            #expect(try String.fetchAll(db, sql: "SELECT id FROM settlements INDEXED BY settlements_earlier_ids WHERE \(MarketTable.earlierIDCondition)") == [earlierID])
            let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT record FROM settlements WHERE id = ? AND \(MarketTable.earlierIDCondition)",
                                        arguments: [earlierID]).map { $0["detail"] as String }
            #expect(plan.contains { $0.contains("settlements_earlier_ids") }, "\(plan)")
        }
        // Acknowledging goes through the job too.
        try store.writeAndWait { try MarketTable.acknowledge(job: 4, at: 900, in: $0) }
        #expect(try store.read { try MarketTable.find(id: current.id, in: $0)?.acknowledgedAt } == 900)
    }
}
