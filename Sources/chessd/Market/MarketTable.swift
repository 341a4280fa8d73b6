import ChessAPI
import ControllerCore
import Foundation
import GRDB
import MarketBridge

/// Settlements, marketplace tokens, oracle readings and node outages.
enum MarketTable {
    // MARK: Settlements

    /// Stores a settlement once: a second insert of the same job (a retried write, a replayed
    /// completion) keeps the first, so the id, amounts and signature never change.
    /// `token`: the marketplace token that funded the job, the one that may see and settle it.
    static func insert(_ s: Settlement, token: String, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO settlements (job_id, id, feed_seq, end_time, record, token) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(job_id) DO NOTHING
            """).execute(arguments: [s.jobID, s.id, s.isSigned ? try nextFeedSequence(db) : nil, s.endTime, encode(s), token])
    }

    /// A settlement that waited for a price, now signed: it enters the feed.
    static func sign(_ s: Settlement, in db: Database) throws {
        try db.execute(sql: "UPDATE settlements SET record = ?, feed_seq = ? WHERE job_id = ? AND feed_seq IS NULL",
                       arguments: [encode(s), try nextFeedSequence(db), s.jobID])
    }

    private static func nextFeedSequence(_ db: Database) throws -> Int {
        (try Int.fetchOne(db.cachedStatement(sql: "SELECT IFNULL(MAX(feed_seq), 0) + 1 FROM settlements")) ?? 1)
    }

    struct Row {
        var settlement: Settlement
        var acknowledgedAt: Int?
        var disputedAt: Int?
        /// The marketplace token that funded the job.
        var token: String?
    }

    private static func rows(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [Row] {
        try GRDB.Row.fetchAll(db, sql: "SELECT feed_seq, acknowledged_at, disputed_at, record, token FROM settlements " + sql,
                              arguments: arguments).map { row in
            var s = try JSONDecoder().decode(Settlement.self, from: Data((row["record"] as String).utf8))
            s.sequence = row["feed_seq"] ?? 0
            return Row(settlement: s, acknowledgedAt: row["acknowledged_at"], disputedAt: row["disputed_at"], token: row["token"])
        }
    }

    /// Signed settlements after `sequence`, in feed order; of `token`'s jobs only, when given.
    static func feed(after sequence: Int, limit: Int, token: String? = nil, in db: Database) throws -> [Row] {
        if let token { return try rows(db, "WHERE feed_seq > ? AND token = ? ORDER BY feed_seq LIMIT ?", [sequence, token, limit]) }
        return try rows(db, "WHERE feed_seq > ? ORDER BY feed_seq LIMIT ?", [sequence, limit])
    }

    static func unsigned(in db: Database) throws -> [Settlement] {
        try rows(db, "WHERE feed_seq IS NULL ORDER BY job_id", []).map(\.settlement)
    }

    static func unsignedCount(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM settlements WHERE feed_seq IS NULL") ?? 0
    }

    /// Through the job the id names (`Settlement.settlementID`); ids made before jobs were part
    /// of them through the partial index of those.
    static func find(id: String, in db: Database) throws -> Row? {
        let id = id.lowercased()
        if let job = Settlement.jobID(inSettlementID: id), let row = try rows(db, "WHERE job_id = ? AND id = ?", [job, id]).first {
            return row
        }
        return try rows(db, "WHERE id = ? AND \(earlierIDCondition)", [id]).first
    }

    /// True of a row whose id does not end with its job id (made before v6): the condition of
    /// the partial index `settlements_earlier_ids`, which a query must repeat word for word for
    /// SQLite to use it.
    static let earlierIDCondition = "substr(id, 51) <> printf('%016x', job_id)"

    static func find(job: Int, in db: Database) throws -> Row? {
        try rows(db, "WHERE job_id = ?", [job]).first
    }

    /// Settlements of jobs that ended in `[start, end)`, by job.
    static func ended(from start: Int, to end: Int, in db: Database) throws -> [Row] {
        // Through the jobs' end-time index (a settlement ends when its job does): an index of
        // its own would be one more page written in every transaction that ends a job.
        try rows(db, "WHERE job_id IN (SELECT id FROM jobs WHERE end_time >= ? AND end_time < ?) ORDER BY job_id", [start, end])
    }

    static func acknowledge(job: Int, at now: Int, in db: Database) throws {
        try db.execute(sql: "UPDATE settlements SET acknowledged_at = ? WHERE job_id = ? AND acknowledged_at IS NULL",
                       arguments: [now, job])
    }

    static func dispute(_ s: Settlement, at now: Int, in db: Database) throws {
        try db.execute(sql: "UPDATE settlements SET disputed_at = ?, record = ? WHERE job_id = ? AND disputed_at IS NULL",
                       arguments: [now, encode(s), s.jobID])
    }

    /// The stored form: the settlement's `Codable` JSON with `sequence` 0 (the feed sequence is a
    /// column), written by hand — this runs in the transaction that ends every marketplace job,
    /// and the generic encoding cost more than the insert. A test holds the two together.
    static func encode(_ s: Settlement) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("id", s.id)
        w.field("sequence", 0)
        w.field("jobID", s.jobID)
        w.field("escrowID", s.escrowID)
        w.field("payer", s.payer.checksummed)
        w.field("provider", s.provider.checksummed)
        w.field("outcome", s.outcome.rawValue)
        w.field("billedSeconds", Int(s.billedSeconds))
        w.beginObjectField("split")
        w.field("escrow", s.split.escrow.description)
        w.field("charge", s.split.charge.description)
        w.field("discount", s.split.discount.description)
        w.field("cost", s.split.cost.description)
        w.field("platformFee", s.split.platformFee.description)
        w.field("providerPayout", s.split.providerPayout.description)
        w.field("userRefund", s.split.userRefund.description)
        w.endObjectField()
        w.field("userReward", s.userReward.map { String($0.baseUnits) })
        w.field("providerReward", s.providerReward.map { String($0.baseUnits) })
        w.field("cptPriceE8", s.cptPriceE8.map { Int(truncatingIfNeeded: $0) })
        w.field("endTime", s.endTime)
        w.field("reason", s.reason)
        w.field("runs", s.runs)
        w.field("digest", s.digest)
        w.field("signature", s.signature)
        w.field("acknowledgedAt", s.acknowledgedAt)
        if let d = s.dispute {
            w.beginObjectField("dispute")
            w.field("openedAt", d.openedAt)
            w.field("reason", d.reason)
            w.endObjectField()
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    // MARK: Escrows

    /// The escrow funded a job before (that job may have ended): it cannot fund another.
    struct EscrowUsed: Error {
        var escrowID: String
        var job: Int
    }

    /// Records that `escrowID` funds `job`, in the transaction that stores the job; refuses an
    /// escrow that funded any job before.
    static func claim(escrow escrowID: String, job: Int, in db: Database) throws {
        if let other = try Int.fetchOne(db.cachedStatement(sql: "SELECT job_id FROM market_escrows WHERE escrow_id = ?"),
                                        arguments: [escrowID]) {
            throw EscrowUsed(escrowID: escrowID, job: other)
        }
        try db.cachedStatement(sql: "INSERT INTO market_escrows (escrow_id, job_id) VALUES (?, ?)").execute(arguments: [escrowID, job])
    }

    // MARK: Tokens

    struct Token: Sendable {
        var name: String
        /// SHA-256 of the secret, hex.
        var hash: String
        var scopes: Set<String>
        var user: String
        var createdAt: Int
        var revokedAt: Int?
    }

    static func tokens(in db: Database) throws -> [Token] {
        try GRDB.Row.fetchAll(db, sql: "SELECT * FROM market_tokens ORDER BY name").map {
            Token(name: $0["name"], hash: $0["hash"], scopes: Set(($0["scopes"] as String).split(separator: ",").map(String.init)),
                  user: $0["user"], createdAt: $0["created_at"], revokedAt: $0["revoked_at"])
        }
    }

    static func save(_ t: Token, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO market_tokens (name, hash, scopes, user, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET revoked_at = excluded.revoked_at
            """, arguments: [t.name, t.hash, t.scopes.sorted().joined(separator: ","), t.user, t.createdAt, t.revokedAt])
    }

    // MARK: Oracle and outages

    static func readings(in db: Database) throws -> [OracleReading] {
        try GRDB.Row.fetchAll(db, sql: "SELECT * FROM oracle_readings").map {
            OracleReading(source: $0["source"], priceE8: UInt64($0["price_e8"] as Int64), time: $0["time"])
        }
    }

    static func save(_ r: OracleReading, in db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO oracle_readings (source, price_e8, time) VALUES (?, ?, ?)",
                       arguments: [r.source, Int64(r.priceE8), r.time])
    }

    /// Opens an outage when the node is out (`NodeStatus.isOut`), closes it when the node is
    /// registered and not out; a node in neither state keeps what it has.
    static func recordAvailability(_ node: String, _ s: NodeStatus, at time: Int, in db: Database) throws {
        if s.isOut {
            try outageStarted(node, at: time, in: db)
        } else if s.registered {
            try outageEnded(node, at: time, in: db)
        }
    }

    static func outageStarted(_ node: String, at time: Int, in db: Database) throws {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM node_outages WHERE node = ? AND end IS NULL", arguments: [node]) == 0 else { return }
        try db.execute(sql: "INSERT INTO node_outages (node, start) VALUES (?, ?)", arguments: [node, time])
    }

    static func outageEnded(_ node: String, at time: Int, in db: Database) throws {
        try db.execute(sql: "UPDATE node_outages SET end = ? WHERE node = ? AND end IS NULL", arguments: [time, node])
    }

    /// Seconds each node was out within `[start, end)`, by node (an outage still open counts up
    /// to `end`).
    static func outageSecondsByNode(from start: Int, to end: Int, in db: Database) throws -> [String: Int] {
        let rows = try GRDB.Row.fetchAll(db, sql: """
            SELECT node, SUM(MIN(IFNULL(end, ?), ?) - MAX(start, ?)) AS seconds FROM node_outages
            WHERE start < ? AND IFNULL(end, ?) > ? GROUP BY node
            """, arguments: [end, end, start, end, end, start])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["node"] as String, $0["seconds"] as Int) })
    }

    /// Seconds each node was out within `[start, end)` (an outage still open counts up to `end`).
    static func outageSeconds(from start: Int, to end: Int, in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT IFNULL(SUM(MIN(IFNULL(end, ?), ?) - MAX(start, ?)), 0) FROM node_outages
            WHERE start < ? AND IFNULL(end, ?) > ?
            """, arguments: [end, end, start, end, end, start]) ?? 0
    }
}
