import Foundation
import GRDB

/// Fair-share usage per account (millionths of CPU-seconds, as of a time): what the
/// priorities of the next jobs depend on, so it outlives a restart.
enum UsageTable {
    /// Each account's usage as it was stored, and when.
    static func load(in db: Database) throws -> [String: (micro: Int128, asOf: Int)] {
        var accounts: [String: (micro: Int128, asOf: Int)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT account, value, as_of FROM usage") {
            accounts[row["account"]] = (Int128(row["value"] as Int64), row["as_of"])
        }
        return accounts
    }

    /// Stores the usage of the accounts charged since their last save, as of `asOf`; the
    /// others keep their rows, each with its own time.
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
