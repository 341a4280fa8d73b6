import Foundation
import Glibc
import SchedulerCore

/// The columns of `queue` (squeue's), rendered the same way by chessctl from JSON and by chessd
/// when chessctl asks for rows (`GET /v1/jobs?columns=…`, tab-separated), which spares both
/// sides the JSON of tens of thousands of jobs.
public enum QueueColumns {
    public static let headers: [String: String] = [
        "id": "JOBID", "partition": "PARTITION", "name": "NAME", "user": "USER", "state": "ST", "time": "TIME",
        "time_limit": "TIME_LIMIT", "nodes": "NODES", "cpus": "CPUS", "gpus": "GPUS", "reason": "REASON",
        "nodelist": "NODELIST", "reason_nodelist": "NODELIST(REASON)", "priority": "PRIORITY", "qos": "QOS",
        "account": "ACCOUNT", "submit": "SUBMIT_TIME", "start": "START_TIME", "statelong": "STATE",
        "time_left": "TIME_LEFT", "end": "END_TIME", "nice": "NICE", "workdir": "WORK_DIR", "licenses": "LICENSES",
    ]

    /// squeue's `%t` by the long name (`PENDING`: `PD`), for rows rendered from JSON.
    public static let shortStates: [String: String] = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, shortState($0)) })

    /// squeue's `%t` of a state, by the state itself (no hashing of its name per row); the long
    /// name for the states squeue has no short one for.
    public static func shortState(_ state: JobState) -> String {
        switch state {
        case .pending: "PD"
        case .running: "R"
        case .suspended: "S"
        case .completing: "CG"
        case .completed: "CD"
        case .cancelled: "CA"
        case .failed: "F"
        case .timeout: "TO"
        case .nodeFail: "NF"
        case .preempted: "PR"
        case .outOfMemory: "OOM"
        case .requeued: "RQ"
        case .configuring: "CF"
        default: state.rawValue
        }
    }

    /// A column by its name (`id`, `reason_nodelist`, …), resolved once per request.
    public enum Column: String, Sendable, CaseIterable {
        case id, partition, name, user, state, statelong, time, nodes, cpus, gpus, reason, nodelist, priority, qos, account, submit, start
        case end, nice, workdir, licenses
        case timeLimit = "time_limit"
        case reasonNodelist = "reason_nodelist"
        case timeLeft = "time_left"
    }

    public static func cell(_ column: String, _ job: JobInfo, now: Int) -> String {
        Column(rawValue: column).map { cell($0, job, now: now) } ?? ""
    }

    public static func cell(_ column: Column, _ job: JobInfo, now: Int) -> String {
        switch column {
        case .id: return job.displayID
        case .partition: return job.partition
        case .name: return job.name
        case .user: return job.user
        case .state: return shortStates[job.state] ?? job.state
        case .statelong: return job.state
        case .time: return SlurmTime.squeueDuration(job.runSeconds(now: now))
        case .timeLimit: return SlurmTime.squeueDuration(job.timeLimit)
        case .nodes: return "\(job.nodes)"
        case .cpus: return "\(job.cpus)"
        case .gpus: return "\(job.gpus)"
        case .reason: return job.reason ?? ""
        case .nodelist: return job.nodeList ?? ""
        case .reasonNodelist: return job.nodeList ?? "(\(job.reasonText ?? "None"))"
        case .priority: return job.priority.map(String.init) ?? ""
        case .qos: return job.qos
        case .account: return job.account
        case .submit: return SlurmTime.timestamp(job.submitTime)
        case .start: return job.startTime.map { SlurmTime.timestamp($0) } ?? (job.plannedStart.map { SlurmTime.timestamp($0) } ?? "N/A")
        // squeue's %L: what is left of the time limit (the whole limit while pending).
        case .timeLeft:
            guard let limit = job.timeLimit else { return "UNLIMITED" }
            return SlurmTime.squeueDuration(max(limit - job.runSeconds(now: now), 0))
        // squeue's %e: when the job ended, or will at its limit.
        case .end:
            if let end = job.endTime { return SlurmTime.timestamp(end) }
            guard let limit = job.timeLimit, let start = job.startTime ?? job.plannedStart else { return "N/A" }
            return SlurmTime.timestamp(start + limit + job.suspendedUpTo(now: now))
        case .nice: return "\(job.nice ?? 0)"
        case .workdir: return job.workdir ?? ""
        case .licenses: return job.licenses ?? "(null)"
        }
    }

    /// Appends one tab-separated row and its line break (tabs and line breaks inside a cell
    /// become spaces).
    /// Times and counts are written as digits straight into `out` (ten thousand rows would
    /// otherwise make some fifty thousand short-lived strings).
    public static func appendRow(_ columns: [Column], _ job: JobInfo, now: Int, to out: inout [UInt8]) {
        for (i, c) in columns.enumerated() {
            if i > 0 { out.append(0x09) }
            switch c {
            case .time: SlurmTime.appendSqueueDuration(job.runSeconds(now: now), to: &out)
            case .timeLimit: SlurmTime.appendSqueueDuration(job.timeLimit, to: &out)
            case .nodes: SlurmTime.appendDecimal(job.nodes, to: &out)
            case .cpus: SlurmTime.appendDecimal(job.cpus, to: &out)
            case .gpus: SlurmTime.appendDecimal(job.gpus, to: &out)
            default: appendCell(cell(c, job, now: now), to: &out)
            }
        }
        out.append(0x0A)
    }

    /// A cell of a tab-separated row: its tabs and line breaks become spaces.
    public static func appendCell(_ text: String, to out: inout [UInt8]) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            // Most cells hold neither: copied whole.
            guard bytes.contains(where: { $0 == 0x09 || $0 == 0x0A }) else { return out.append(contentsOf: bytes) }
            for b in bytes { out.append(b == 0x09 || b == 0x0A ? 0x20 : b) }
        }
        if copied == nil { for b in text.utf8 { out.append(b == 0x09 || b == 0x0A ? 0x20 : b) } }
    }
}
