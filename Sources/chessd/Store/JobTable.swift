import ChessAPI
import ControllerCore
import Foundation
import GRDB
import SchedulerCore

/// Reading and writing job rows. A row holds the record as JSON plus the columns that
/// recovery and accounting queries filter on.
enum JobTable {
    static func save(_ record: JobRecord, in db: Database) throws {
        let json = String(decoding: try StreamingJSONEncoder().encode(record), as: UTF8.self)
        let j = record.job
        // Cached statements for what every job's life writes: parsing the SQL again for each
        // write cost as much as executing it.
        try db.cachedStatement(sql: """
            INSERT INTO jobs (id, user, account, partition, state, finished, submit_time, start_time, end_time, exit_code, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account = excluded.account, partition = excluded.partition,
                state = excluded.state, finished = excluded.finished,
                start_time = excluded.start_time, end_time = excluded.end_time, exit_code = excluded.exit_code,
                record = excluded.record
            """).execute(arguments: [j.id, j.user, j.account, j.partition, j.state.rawValue, isFinished(record) ? 1 : 0,
                             j.submitTime, j.startTime, j.endTime, record.exitCode, json])
    }

    /// An array record whose tasks have all started stays in the store as the array's own row
    /// until its last task ends.
    static func isFinished(_ record: JobRecord) -> Bool { record.job.state.isFinished }

    static func saveScript(_ script: String, environment: [String: String]?, job: JobID, in db: Database) throws {
        // Written directly: the generic encoder was a tenth of a submit's write.
        let env = environment.map { String(decoding: JSONWriter.object($0), as: UTF8.self) }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO job_scripts (job_id, script, environment) VALUES (?, ?, ?)")
            .execute(arguments: [job, script, env])
    }

    static func event(_ job: JobID, time: Int, state: JobState, reason: String?, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO job_events (job_id, time, state, reason) VALUES (?, ?, ?, ?)")
            .execute(arguments: [job, time, state.rawValue, reason])
    }

    /// A job's state changes with their reasons, oldest first.
    static func events(of job: JobID, in db: Database) throws -> [JobEventList.Event] {
        try Row.fetchAll(db, sql: "SELECT time, state, reason FROM job_events WHERE job_id = ? ORDER BY seq", arguments: [job]).map {
            JobEventList.Event(time: $0["time"], state: $0["state"], reason: $0["reason"])
        }
    }

    /// Every job that existed at some point in `[start, end]`: submitted by `end`, not ended before `start`.
    static func existing(from start: Int, to end: Int, in db: Database) throws -> [JobRecord] {
        try String.fetchAll(db, sql: "SELECT record FROM jobs WHERE submit_time <= ? AND (end_time IS NULL OR end_time >= ?) ORDER BY id",
                            arguments: [end, start]).map(decode)
    }

    static func decode(_ json: String) throws -> JobRecord {
        try JSONDecoder().decode(JobRecord.self, from: Data(json.utf8))
    }

    static func live(in db: Database) throws -> [JobRecord] {
        try String.fetchAll(db, sql: "SELECT record FROM jobs WHERE finished = 0 ORDER BY id").map(decode)
    }

    static func finishedOutcomes(in db: Database) throws -> [JobID: FinishedJob] {
        var out: [JobID: FinishedJob] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT id, state, exit_code FROM jobs WHERE finished = 1")
        while let row = try rows.next() {
            let state = JobState(rawValue: row["state"]) ?? .failed
            out[row["id"]] = FinishedJob(state: state, exitCode: row["exit_code"] ?? 0)
        }
        return out
    }

    /// What the ended tasks of each array came to: whether all completed with 0, and the range
    /// of their exit codes (for the array's own outcome and its summary mail once its last task
    /// ends, which may be after a restart). One scan of the jobs after `firstArray` (tasks come
    /// after their array), reading the JSON only of rows that name an array.
    static func endedTasksByArray(after firstArray: JobID, in db: Database) throws -> [JobID: (allCompleted: Bool, minExit: Int, maxExit: Int)] {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT json_extract(record, '$.job.arrayJobID') AS array, MIN(IFNULL(exit_code, 0)) AS lo,
                   MAX(IFNULL(exit_code, 0)) AS hi,
                   SUM(CASE WHEN state = 'COMPLETED' AND IFNULL(exit_code, 0) = 0 THEN 0 ELSE 1 END) AS bad
            FROM jobs WHERE finished = 1 AND id > ? AND instr(record, '"arrayJobID"') > 0 GROUP BY array
            """, arguments: [firstArray])
        var out: [JobID: (allCompleted: Bool, minExit: Int, maxExit: Int)] = [:]
        while let row = try rows.next() {
            guard let array: Int = row["array"] else { continue }
            out[array] = ((row["bad"] as Int? ?? 0) == 0, row["lo"] ?? 0, row["hi"] ?? 0)
        }
        return out
    }

    static func maxID(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT MAX(id) FROM jobs") ?? 0
    }

    static func record(_ id: JobID, in db: Database) throws -> JobRecord? {
        try String.fetchOne(db, sql: "SELECT record FROM jobs WHERE id = ?", arguments: [id]).map(decode)
    }

    static func task(of arrayJob: JobID, index: Int, in db: Database) throws -> JobRecord? {
        // Tasks are few per array; the JSON holds the index.
        try String.fetchAll(db, sql: "SELECT record FROM jobs WHERE id > ? AND record LIKE ?",
                            arguments: [arrayJob, "%\"arrayJobID\":\(arrayJob)%"])
            .map(decode).first { $0.job.arrayTaskIndex == index }
    }

    /// The script and environment a job was submitted with (array tasks share their array's).
    static func script(_ id: JobID, in db: Database) throws -> (script: String, environment: [String: String])? {
        guard let row = try Row.fetchOne(db, sql: "SELECT script, environment FROM job_scripts WHERE job_id = ?", arguments: [id]) else {
            return nil
        }
        let env: String? = row["environment"]
        let environment = try env.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return (row["script"], environment)
    }
}
