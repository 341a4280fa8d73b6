import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl acct`: sacct — accounting records in a time window.
struct Acct: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acct",
        abstract: "Show accounting records of jobs (sacct).",
        discussion: """
            By default: your own jobs since midnight. Times: YYYY-MM-DD[THH:MM[:SS]], HH:MM, now, \
            now-7days, or Unix seconds. Columns for --format: \(Acct.columns.keys.sorted().joined(separator: ",")).
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("S"), .long], help: "Start of the window (default: midnight today).") var starttime: String?
    @Option(name: [.customShort("E"), .long], help: "End of the window (default: now).") var endtime: String?
    @Option(name: [.short, .long], help: "Only these users (comma-separated).") var user: String?
    @Flag(name: [.customShort("a"), .customLong("allusers")], help: "All users' jobs.") var allUsers = false
    @Option(name: [.customShort("A"), .long], help: "Only these accounts.") var accounts: String?
    @Option(name: [.customShort("r"), .long], help: "Only these partitions.") var partition: String?
    @Option(name: [.short, .long], help: "Only these states (COMPLETED,FAILED or CD,F).") var state: String?
    @Option(name: [.short, .long], help: "Only these job ids (an array id includes its tasks).") var jobs: String?
    @Option(name: [.customShort("o"), .long], help: "Columns, comma-separated.") var format: String?
    @Flag(name: [.customShort("p"), .customLong("parsable")], help: "Fields separated by |, with a trailing |.") var parsable = false
    @Flag(name: [.customShort("P"), .customLong("parsable2")], help: "Fields separated by |, no trailing |.") var parsable2 = false
    @Flag(name: [.customShort("n"), .customLong("noheader")], help: "No header line.") var noHeader = false
    @Flag(name: [.customShort("X"), .customLong("allocations")], help: "Jobs only, not their steps (srun's, shown as JOBID.STEP).")
    var allocations = false
    @Flag(help: "Print the records as JSON.") var json = false

    static let columns: [String: String] = [
        "jobid": "JobID", "jobname": "JobName", "user": "User", "account": "Account", "partition": "Partition",
        "qos": "QOS", "state": "State", "exitcode": "ExitCode", "submit": "Submit", "eligible": "Eligible",
        "start": "Start", "end": "End", "elapsed": "Elapsed", "timelimit": "Timelimit", "alloccpus": "AllocCPUS",
        "allocnodes": "AllocNodes", "allocgpus": "AllocGPUS", "reqmem": "AllocMem", "nodelist": "NodeList",
        "totalcpu": "TotalCPU", "maxrss": "MaxRSS", "gpuseconds": "GPUSeconds", "reason": "Reason", "requeues": "Requeues",
        "jobidraw": "JobIDRaw", "elapsedraw": "ElapsedRaw", "cputime": "CPUTime", "cputimeraw": "CPUTimeRAW", "ncpus": "NCPUS",
        "nnodes": "NNodes", "alloctres": "AllocTRES",
    ]
    static let defaultColumns = ["jobid", "jobname", "partition", "account", "alloccpus", "state", "exitcode"]

    func run() throws {
        let now = Int(Date().timeIntervalSince1970)
        let midnight = Int(Calendar.current.startOfDay(for: Date()).timeIntervalSince1970)
        // Given job ids, the window opens wide, as sacct does.
        let start = try TimeOption.parse(starttime, option: "--starttime", now: now, default: jobs == nil ? midnight : 0)
        let end = try TimeOption.parse(endtime, option: "--endtime", now: now, default: now)
        guard end >= start else { throw CLIError("--endtime is before --starttime") }
        var query = ["start=\(start)", "end=\(end)"]
        if let user {
            query.append("user=\(user)")
        } else if !allUsers {
            query.append("user=\(CallingProcess.userName)")
        }
        if let accounts { query.append("account=\(accounts)") }
        if let partition { query.append("partition=\(partition)") }
        if let state { query.append("state=\(state)") }
        if let jobs { query.append("id=\(jobs.split(separator: ",").map { $0.split(separator: "_")[0] }.joined(separator: ","))") }
        guard let data = try connection.read("/v1/accounting", query, json: json) else { return }
        let list = try WireJSON.decode(AccountingList.self, from: data)
        let names = try ColumnList.parse(format, known: Acct.columns, fallback: Acct.defaultColumns)
        // Each job, then its steps (sacct's JOBID.STEP rows).
        let rows = list.records.flatMap { r in
            [names.map { Acct.cell($0, r) }]
                + (allocations ? [] : (r.steps ?? []).map { s in names.map { Acct.cell($0, Acct.stepRow(s, of: r), step: s) } })
        }
        if parsable || parsable2 {
            var out = ""
            let tail = parsable ? "|" : ""
            if !noHeader { out += names.map { Acct.columns[$0]! }.joined(separator: "|") + tail + "\n" }
            // One record a line, and no user's control characters on the terminal (`TerminalText`).
            for row in rows { out += row.map(TerminalText.neutralized).joined(separator: "|") + tail + "\n" }
            FileHandle.standardOutput.write(Data(out.utf8))
        } else {
            Table.print(names.map { Acct.columns[$0]! }, rows, header: !noHeader)
        }
    }

    /// A step's row: its own name, times, nodes, CPUs and state under the job's id, user and account.
    static func stepRow(_ s: StepRecord, of job: AccountingRecord) -> AccountingRecord {
        var r = AccountingRecord(id: job.id, jobID: "\(job.jobID).\(s.step)", name: s.name, user: job.user, account: job.account,
                                 partition: "", qos: "", state: s.state, submitTime: s.startTime,
                                 elapsed: max((s.endTime ?? s.startTime) - s.startTime, 0), allocCPUs: s.cpus, allocMemoryMB: 0,
                                 allocGPUs: 0, allocNodes: s.nodes, requeues: 0)
        (r.startTime, r.endTime, r.eligibleTime, r.exitCode, r.nodeList) = (s.startTime, s.endTime, s.startTime, s.exitCode, s.nodeList)
        (r.cpuSeconds, r.maxRSSMB) = (s.cpuSeconds, s.maxRSSMB)
        return r
    }

    static func cell(_ column: String, _ r: AccountingRecord, step: StepRecord? = nil) -> String {
        if let step {
            // sacct's code:signal, and what a step does not have of its own.
            switch column {
            case "exitcode": return "\(step.exitCode):\(step.signal ?? 0)"
            case "reqmem", "timelimit", "requeues", "allocgpus": return ""
            case "jobidraw": return "\(r.id).\(step.step)"
            default: break
            }
        }
        switch column {
        case "jobid": return r.jobID
        case "jobidraw": return "\(r.id)"
        case "elapsedraw": return "\(r.elapsed)"
        // What a job held over its run: elapsed time × allocated CPUs, as sacct bills it.
        case "cputime": return Time.duration(r.elapsed * r.allocCPUs)
        case "cputimeraw": return "\(r.elapsed * r.allocCPUs)"
        case "ncpus": return "\(r.allocCPUs)"
        case "nnodes": return "\(r.allocNodes)"
        case "alloctres":
            guard r.allocNodes > 0 else { return "" }
            var parts = ["cpu=\(r.allocCPUs)"]
            if r.allocMemoryMB > 0 { parts.append("mem=\(r.allocMemoryMB)M") }
            parts.append("node=\(r.allocNodes)")
            if r.allocGPUs > 0 { parts.append("gres/gpu=\(r.allocGPUs)") }
            return parts.joined(separator: ",")
        case "jobname": return r.name
        case "user": return r.user
        case "account": return r.account
        case "partition": return r.partition
        case "qos": return r.qos
        case "state": return r.state
        case "exitcode": return r.exitCode.map { "\($0):0" } ?? ""
        case "submit": return Time.timestamp(r.submitTime)
        case "eligible": return r.eligibleTime.map { Time.timestamp($0) } ?? "Unknown"
        case "start": return r.startTime.map { Time.timestamp($0) } ?? "Unknown"
        case "end": return r.endTime.map { Time.timestamp($0) } ?? "Unknown"
        case "elapsed": return Time.duration(r.elapsed)
        case "timelimit": return Time.duration(r.timeLimit)
        case "alloccpus": return "\(r.allocCPUs)"
        case "allocnodes": return "\(r.allocNodes)"
        case "allocgpus": return "\(r.allocGPUs)"
        case "reqmem": return "\(r.allocMemoryMB)M"
        case "nodelist": return r.nodeList ?? "None assigned"
        case "totalcpu": return r.cpuSeconds.map { Time.duration($0) } ?? ""
        case "maxrss": return r.maxRSSMB.map { "\($0)M" } ?? ""
        case "gpuseconds": return r.gpuSeconds.map(String.init) ?? ""
        case "reason": return r.reason ?? ""
        case "requeues": return "\(r.requeues)"
        default: return ""
        }
    }
}
