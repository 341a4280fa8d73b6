import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl queue`: squeue.
struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "List pending and running jobs (squeue).")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.short, .long], help: "Only these users (comma-separated).")
    var user: String?

    @Flag(name: .customLong("me"), help: "Only my jobs.")
    var mine = false

    @Option(name: [.customShort("t"), .long], help: "Only these states (PENDING,RUNNING or PD,R).")
    var state: String?

    @Option(name: [.short, .long], help: "Only these partitions.")
    var partition: String?

    @Option(name: [.short, .long], help: "Only these job ids.")
    var jobs: String?

    @Option(name: [.customShort("o"), .long], help: "Columns: id,partition,name,user,state,time,time_limit,nodes,cpus,gpus,reason,nodelist,priority,qos,account,submit,start.")
    var format: String?

    @Flag(name: .customLong("noheader"), help: "No header line.")
    var noHeader = false

    @Flag(help: "Print the jobs as JSON.")
    var json = false

    static let defaultColumns = ["id", "partition", "name", "user", "state", "time", "time_limit", "nodes", "reason_nodelist"]

    func run() throws {
        var query: [String] = []
        var users = user
        if mine { users = Process.userName }
        if let users { query.append("user=\(users)") }
        if let state { query.append("state=\(state)") }
        if let partition { query.append("partition=\(partition)") }
        if let jobs { query.append("id=\(jobs)") }
        let target = "/v1/jobs" + (query.isEmpty ? "" : "?" + query.joined(separator: "&").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)
        let client = connection.client()
        let data = try withController { try client.request("GET", target) }
        if json {
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        let list: JobList
        do { list = try JobList(scanning: Array(data)) } catch { throw CLIError("unexpected answer from chessd: \(error)") }
        let columns = try format.map { f in
            try f.split(separator: ",").map { c -> String in
                let name = String(c).lowercased()
                guard Queue.headers[name] != nil else {
                    throw CLIError("unknown column '\(c)'; columns: \(Queue.headers.keys.sorted().joined(separator: ", "))")
                }
                return name
            }
        } ?? Queue.defaultColumns
        let now = Int(Date().timeIntervalSince1970)
        let rows = list.jobs.map { job in columns.map { Queue.cell($0, job, now: now) } }
        if noHeader {
            Table.print(columns.map { Queue.headers[$0]! }, rows, header: false)
        } else {
            Table.print(columns.map { Queue.headers[$0]! }, rows)
        }
    }

    static let headers: [String: String] = [
        "id": "JOBID", "partition": "PARTITION", "name": "NAME", "user": "USER", "state": "ST", "time": "TIME",
        "time_limit": "TIME_LIMIT", "nodes": "NODES", "cpus": "CPUS", "gpus": "GPUS", "reason": "REASON",
        "nodelist": "NODELIST", "reason_nodelist": "NODELIST(REASON)", "priority": "PRIORITY", "qos": "QOS",
        "account": "ACCOUNT", "submit": "SUBMIT_TIME", "start": "START_TIME", "statelong": "STATE",
    ]

    static let shortStates: [String: String] = [
        "PENDING": "PD", "RUNNING": "R", "SUSPENDED": "S", "COMPLETING": "CG", "COMPLETED": "CD", "CANCELLED": "CA",
        "FAILED": "F", "TIMEOUT": "TO", "NODE_FAIL": "NF", "PREEMPTED": "PR", "OUT_OF_MEMORY": "OOM",
        "REQUEUED": "RQ", "CONFIGURING": "CF",
    ]

    static func cell(_ column: String, _ job: JobInfo, now: Int) -> String {
        switch column {
        case "id": return job.displayID
        case "partition": return job.partition
        case "name": return job.name
        case "user": return job.user
        case "state": return shortStates[job.state] ?? job.state
        case "statelong": return job.state
        case "time": return Time.duration(job.startTime.map { (job.endTime ?? now) - $0 } ?? 0)
        case "time_limit": return Time.duration(job.timeLimit)
        case "nodes": return "\(job.nodes)"
        case "cpus": return "\(job.cpus)"
        case "gpus": return "\(job.gpus)"
        case "reason": return job.reason ?? ""
        case "nodelist": return job.nodeList ?? ""
        case "reason_nodelist": return job.nodeList ?? "(\(job.reason ?? "None"))"
        case "priority": return job.priority.map(String.init) ?? ""
        case "qos": return job.qos
        case "account": return job.account
        case "submit": return Time.timestamp(job.submitTime)
        case "start": return job.startTime.map { Time.timestamp($0) } ?? (job.plannedStart.map { Time.timestamp($0) } ?? "N/A")
        default: return ""
        }
    }
}
