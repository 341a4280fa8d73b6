@testable import chessd
import Foundation
import GRDB
import Testing

/// What acknowledging a change promises: it is on disk. SQLite syncs a WAL commit only with
/// `synchronous = FULL` on the connection that commits — the pool's writer.
@Suite("Store durability") struct StoreDurabilityTests {
    @Test func theWriterCommitsWithFullSynchronousAlsoAfterAReopen() throws {
        let directory = NSTemporaryDirectory() + "chess-store-durability-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for _ in 0..<2 {
            let store = try Store(directory: directory)
            // GRDB's pool turns NORMAL on with WAL; a FULL set before that did not hold.
            #expect(try store.writerSynchronous() == 2)
            try store.writeAndWait { db in
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('k', 'v') ON CONFLICT(key) DO UPDATE SET value = 'v'")
            }
            #expect(try store.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = 'k'") } == "v")
            #expect(try store.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
            store.close()
        }
    }
}
