import Foundation
import GRDB

/// Fair-share usage per account (millionths of CPU-seconds, as of a time): what the
/// priorities of the next jobs depend on, so it outlives a restart.
enum UsageTable {
    static func load(in db: Database) throws -> (micro: [String: Int128], asOf: Int)? {
        let rows = try Row.fetchAll(db, sql: "SELECT account, value, as_of FROM usage")
        guard let first = rows.first else { return nil }
        var micro: [String: Int128] = [:]
        for row in rows { micro[row["account"]] = Int128(row["value"] as Int64) }
        return (micro, first["as_of"])
    }

    /// Stores every account's usage as of `asOf` (the ledger never forgets an account, so every
    /// stored row is rewritten).
    static func save(_ micro: [String: Int128], asOf: Int, in db: Database) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO usage (account, value, as_of) VALUES (?, ?, ?)
            ON CONFLICT(account) DO UPDATE SET value = excluded.value, as_of = excluded.as_of
            """)
        for (account, value) in micro {
            try upsert.execute(arguments: [account, Int64(clamping: value), asOf])
        }
    }
}
