import Foundation
import GRDB
import Synchronization

/// The controller's durable state: SQLite in WAL mode through GRDB.
///
/// Every change is a transaction. Writes go through one writer thread that group-commits what
/// has queued up since its last commit, so a storm of submits costs one fsync per batch rather
/// than one per job, and each caller hears back only after its own change is on disk.
final class Store: Sendable {
    let pool: DatabasePool
    private let batcher: WriteBatcher

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // A state directory made before (or by hand) is closed to others too.
        chmod(directory, 0o700)
        var config = Configuration()
        config.prepareDatabase { db in
            // Each item of a group commit runs in a savepoint, and a savepoint keeps the pages it
            // changes in a sub-journal: a temporary file by default, made and unlinked in
            // /var/tmp for every commit (on an ext4 without a journal, creating an inode reads
            // every recently deleted one). It is a few pages: memory.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: (directory as NSString).appendingPathComponent("chess.sqlite"), configuration: config)
        // So is the database (its journals take its mode): every user's scripts and environments.
        for file in ["chess.sqlite", "chess.sqlite-wal", "chess.sqlite-shm"] {
            chmod((directory as NSString).appendingPathComponent(file), 0o600)
        }
        // FULL: a commit is on disk (the WAL fsynced) when it returns, which is what acknowledging
        // a submit, an end or a settlement promises. It is set here, on the pool's one writer
        // connection, and read back: GRDB's pool sets NORMAL when it turns WAL on, after
        // `prepareDatabase` has run, so a FULL set there never took effect (no commit was synced
        // before this was found: a power loss could lose acknowledged jobs).
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            guard try Store.synchronous(db) == Store.fullSynchronous else {
                throw DatabaseError(message: "SQLite refused synchronous = FULL: commits would not be durable")
            }
        }
        try Store.migrator.migrate(pool)
        batcher = WriteBatcher(pool: pool)
        batcher.start()
    }

    /// Queues `work` for the next group commit; `completion` runs after it is durable (nil) or
    /// failed (the error; the rest of the batch is not affected).
    func write(_ work: @escaping @Sendable (Database) throws -> Void,
               completion: @escaping @Sendable ((any Error)?) -> Void) {
        batcher.enqueue(WriteBatcher.Item(work: work, completion: completion))
    }

    /// Writes and waits until durable.
    func writeAndWait(_ work: @escaping @Sendable (Database) throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<(any Error)?>(nil)
        write(work) { error in
            result.withLock { $0 = error }
            done.signal()
        }
        done.wait()
        if let error = result.withLock({ $0 }) { throw error }
    }

    func read<T>(_ work: (Database) throws -> T) throws -> T {
        try pool.read(work)
    }

    /// `PRAGMA synchronous`'s value for FULL.
    static let fullSynchronous = 2

    static func synchronous(_ db: Database) throws -> Int? { try Int.fetchOne(db, sql: "PRAGMA synchronous") }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL), for the test that holds it.
    func writerSynchronous() throws -> Int? { try pool.writeWithoutTransaction(Store.synchronous) }

    /// Transactions committed since start, and the writes they carried (group commit).
    var commitCounts: (commits: Int, items: Int) { batcher.counts }

    /// Stops the writer after it has committed what was queued.
    func close() {
        batcher.stop()
    }

    // MARK: Schema

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL,
                    account TEXT NOT NULL,
                    partition TEXT NOT NULL,
                    state TEXT NOT NULL,
                    finished INTEGER NOT NULL DEFAULT 0,
                    submit_time INTEGER NOT NULL,
                    start_time INTEGER,
                    end_time INTEGER,
                    exit_code INTEGER,
                    record TEXT NOT NULL
                );
                CREATE INDEX jobs_live ON jobs(finished, id);
                CREATE INDEX jobs_end ON jobs(end_time);
                CREATE TABLE job_scripts (job_id INTEGER PRIMARY KEY NOT NULL, script TEXT NOT NULL);
                CREATE TABLE job_events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT
                );
                CREATE INDEX job_events_job ON job_events(job_id);
                CREATE TABLE nodes (name TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL);
                CREATE TABLE usage (account TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL, as_of INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v2: runtime configuration") { db in
            try db.execute(sql: """
                CREATE TABLE config_objects (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    fields TEXT
                );
                """)
        }
        m.registerMigration("v3: environments beside scripts") { db in
            // The submitter's environment can be kilobytes: it stays on disk, not in memory.
            try db.execute(sql: "ALTER TABLE job_scripts ADD COLUMN environment TEXT")
        }
        m.registerMigration("v4: marketplace") { db in
            // A settlement enters the feed (gets its feed_seq) when it is signed; the row is
            // written in the transaction that ends its job.
            try db.execute(sql: """
                CREATE TABLE settlements (
                    job_id INTEGER PRIMARY KEY NOT NULL,
                    id TEXT NOT NULL UNIQUE,
                    feed_seq INTEGER UNIQUE,
                    end_time INTEGER NOT NULL,
                    acknowledged_at INTEGER,
                    disputed_at INTEGER,
                    record TEXT NOT NULL
                );
                CREATE TABLE market_tokens (
                    name TEXT PRIMARY KEY NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    user TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                CREATE TABLE oracle_readings (source TEXT PRIMARY KEY NOT NULL, price_e8 INTEGER NOT NULL, time INTEGER NOT NULL);
                CREATE TABLE node_outages (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    node TEXT NOT NULL,
                    start INTEGER NOT NULL,
                    end INTEGER
                );
                """)
        }
        m.registerMigration("v5: escrows used") { db in
            // Every escrow that ever funded a job: one funds one job, also after its job ended
            // (a replayed submission must not be paid from a settled escrow). Filled from what
            // earlier versions stored: settlements, and the records of jobs not yet ended.
            try db.execute(sql: """
                CREATE TABLE market_escrows (escrow_id TEXT PRIMARY KEY NOT NULL, job_id INTEGER NOT NULL) WITHOUT ROWID;
                INSERT OR IGNORE INTO market_escrows SELECT json_extract(record, '$.escrowID'), job_id FROM settlements;
                INSERT OR IGNORE INTO market_escrows
                    SELECT IFNULL(json_extract(record, '$.market.funding.terms.escrow.escrowID'),
                                  json_extract(record, '$.market.terms.escrow.escrowID')), id
                    FROM jobs WHERE json_extract(record, '$.market') IS NOT NULL;
                """)
        }
        m.registerMigration("v6: settlements found through their job") { db in
            // Settlement ids now end with their job id, so a lookup by id goes through the job's
            // key: the unique index of every whole id (a random key: one more b-tree page
            // written with each job's end) is gone. Only ids made before keep an index, a
            // partial one that new rows never enter. SQLite drops a UNIQUE column constraint
            // only by copying the table.
            try db.execute(sql: """
                CREATE TABLE settlements_v6 (
                    job_id INTEGER PRIMARY KEY NOT NULL,
                    id TEXT NOT NULL,
                    feed_seq INTEGER UNIQUE,
                    end_time INTEGER NOT NULL,
                    acknowledged_at INTEGER,
                    disputed_at INTEGER,
                    record TEXT NOT NULL
                );
                INSERT INTO settlements_v6 (job_id, id, feed_seq, end_time, acknowledged_at, disputed_at, record)
                    SELECT job_id, id, feed_seq, end_time, acknowledged_at, disputed_at, record FROM settlements;
                DROP TABLE settlements;
                ALTER TABLE settlements_v6 RENAME TO settlements;
                CREATE UNIQUE INDEX settlements_earlier_ids ON settlements(id) WHERE \(MarketTable.earlierIDCondition);
                """)
        }
        m.registerMigration("v7: settlements belong to the token that funded their job") { db in
            // A marketplace token sees and settles its own jobs' settlements only.
            try db.execute(sql: """
                ALTER TABLE settlements ADD COLUMN token TEXT;
                UPDATE settlements SET token = (SELECT COALESCE(json_extract(record, '$.market.funding.token'),
                                                                json_extract(record, '$.market.token'))
                                                FROM jobs WHERE jobs.id = settlements.job_id);
                """)
        }
        return m
    }
}

/// The single writer: takes everything queued, runs each item in a savepoint of one
/// transaction, commits, then reports to every caller.
final class WriteBatcher: @unchecked Sendable {
    struct Item {
        let work: @Sendable (Database) throws -> Void
        let completion: @Sendable ((any Error)?) -> Void
    }

    private let pool: DatabasePool
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var stopping = false
    private var stoppedWriter = false
    /// Commits made and items written in them (under `condition`), for `diag` and `/metrics`.
    private var commits = 0
    private var items = 0

    var counts: (commits: Int, items: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (commits, items)
    }

    init(pool: DatabasePool) { self.pool = pool }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "store writer"
        thread.start()
    }

    func enqueue(_ item: Item) {
        condition.lock()
        if stoppedWriter {
            condition.unlock()
            item.completion(StoreClosed())
            return
        }
        queue.append(item)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stoppedWriter { condition.wait() }
        condition.unlock()
    }

    struct StoreClosed: Error, CustomStringConvertible {
        var description: String { "the store is closed (chessd is shutting down)" }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                stoppedWriter = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            commit(batch)
        }
    }

    private func commit(_ batch: [Item]) {
        var errors = [(any Error)?](repeating: nil, count: batch.count)
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    for (i, item) in batch.enumerated() {
                        do {
                            try db.inSavepoint {
                                try item.work(db)
                                return .commit
                            }
                        } catch {
                            errors[i] = error
                        }
                    }
                    return .commit
                }
            }
            condition.lock()
            commits += 1
            items += batch.count
            condition.unlock()
        } catch {
            // The commit itself failed (disk full, I/O error): nothing of the batch is durable.
            for i in errors.indices { errors[i] = error }
        }
        for (i, item) in batch.enumerated() { item.completion(errors[i]) }
    }
}
