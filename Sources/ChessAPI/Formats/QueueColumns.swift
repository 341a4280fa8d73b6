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
        case .time: return SlurmTime.duration(job.runSeconds(now: now))
        case .timeLimit: return SlurmTime.duration(job.timeLimit)
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
            return SlurmTime.duration(max(limit - job.runSeconds(now: now), 0))
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
            case .time: SlurmTime.appendDuration(job.runSeconds(now: now), to: &out)
            case .timeLimit: SlurmTime.appendDuration(job.timeLimit, to: &out)
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

/// Times as Slurm prints them.
public enum SlurmTime {
    /// `[D-]HH:MM:SS`; nil is `UNLIMITED`.
    public static func duration(_ seconds: Int?) -> String {
        var out: [UInt8] = []
        appendDuration(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `duration`, written into a byte buffer.
    public static func appendDuration(_ seconds: Int?, to out: inout [UInt8]) {
        guard let seconds else { return out.append(contentsOf: "UNLIMITED".utf8) }
        let s = max(seconds, 0)
        let d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60
        func two(_ x: Int) {
            out.append(UInt8(ascii: "0") + UInt8(x / 10 % 10))
            out.append(UInt8(ascii: "0") + UInt8(x % 10))
        }
        if d > 0 {
            appendDecimal(d, to: &out)
            out.append(UInt8(ascii: "-"))
        }
        two(h)
        out.append(UInt8(ascii: ":"))
        two(m)
        out.append(UInt8(ascii: ":"))
        two(sec)
    }

    /// A whole number's decimal digits (and sign), written into a byte buffer.
    public static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var m = n.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[19 - count] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                count += 1
            } while m > 0
            out.append(contentsOf: buf[(20 - count)...])
        }
    }

    /// Local time as `sacct` prints it (`2026-11-25T20:13:12`), through libc: a DateFormatter
    /// per call costs more than the request.
    public static func timestamp(_ t: Int?) -> String {
        guard let t else { return "Unknown" }
        return format(t, utc: false)
    }

    /// UTC in ISO 8601 (`2026-11-25T20:13:12Z`), as `ISO8601DateFormatter` writes it, for logs:
    /// creating that formatter (ICU) cost a job's supervisor a tenth of its CPU per log line.
    public static func utcTimestamp(_ t: Int) -> String { format(t, utc: true) + "Z" }

    private static func format(_ t: Int, utc: Bool) -> String {
        var time = time_t(t)
        var parts = tm()
        if utc { gmtime_r(&time, &parts) } else { localtime_r(&time, &parts) }
        func two(_ x: Int32) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
