import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl queue`: squeue.
struct Queue: ParsableCommand {
    // `-h` is squeue's --noheader (scripts use it): help is --help alone here.
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "List pending and running jobs (squeue).",
                                                    helpNames: [.long])

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

    @Option(name: [.customShort("o"), .long], help: "Columns: id,partition,name,user,state,time,time_limit,nodes,cpus,gpus,reason,nodelist,priority,qos,account,submit,start; or squeue's %-fields (\"%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R\").")
    var format: String?

    @Flag(name: [.customShort("h"), .customLong("noheader")], help: "No header line.")
    var noHeader = false

    @Flag(help: "Pending jobs with the start time the scheduler plans for them (squeue --start); N/A for a job it holds no place for yet (EASY plans the first blocked job of each partition, conservative every one).")
    var start = false

    @Flag(help: "Print the jobs as JSON.")
    var json = false

    static let defaultColumns = ["id", "partition", "name", "user", "state", "time", "time_limit", "nodes", "reason_nodelist"]
    static let startColumns = ["id", "partition", "name", "user", "state", "start", "nodes", "reason_nodelist"]

    func run() throws {
        var query: [String] = []
        var users = user
        if mine { users = Process.userName }
        if let users { query.append("user=\(users)") }
        if let state = state ?? (start ? "PENDING" : nil) { query.append("state=\(state)") }
        if let partition { query.append("partition=\(partition)") }
        if let jobs { query.append("id=\(jobs)") }
        if let format, format.contains("%") {
            // squeue's %-fields: rendered here from the jobs' JSON.
            let spec: SqueueFormat
            do { spec = try SqueueFormat(format) } catch { throw CLIError(error.description) }
            if json { _ = try connection.read("/v1/jobs", query, json: true); return }
            let list = try JobList(scanning: Array(try connection.read("/v1/jobs", query, json: false)!))
            let now = Int(Date().timeIntervalSince1970)
            if !noHeader { print(spec.header()) }
            for job in list.jobs { print(spec.row(job, now: now)) }
            return
        }
        let columns = try ColumnList.parse(format, known: QueueColumns.headers, fallback: start ? Queue.startColumns : Queue.defaultColumns)
        // The table comes as rows already rendered by chessd (tab-separated): no JSON either side.
        if !json { query.append("columns=\(columns.joined(separator: ","))") }
        guard let data = try connection.read("/v1/jobs", query, json: json) else { return }
        Table.print(columns.map { QueueColumns.headers[$0]! }, tabSeparated: data, header: !noHeader)
    }

}
