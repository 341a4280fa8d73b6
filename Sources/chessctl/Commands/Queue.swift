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

    @Flag(name: [.customShort("s"), .long], help: "Running job steps (srun's) instead of jobs (squeue -s).")
    var steps = false

    @Flag(help: "Print the jobs as JSON.")
    var json = false

    static let defaultColumns = ["id", "partition", "name", "user", "state", "time", "time_limit", "nodes", "reason_nodelist"]
    static let startColumns = ["id", "partition", "name", "user", "state", "start", "nodes", "reason_nodelist"]

    /// What was asked, as a plain value (`QueueOptions`): the same whether ArgumentParser or
    /// `QueueOptions.parseFast` read the command line.
    var options: QueueOptions {
        QueueOptions(socket: connection.socket, user: user, mine: mine, state: state, partition: partition, jobs: jobs, format: format,
                     noHeader: noHeader, start: start, steps: steps, json: json)
    }

    func run() throws { try options.run() }
}

/// `queue`'s options as values, and what `queue` does with them.
struct QueueOptions: Equatable {
    var socket: String?
    var user: String?
    var mine = false
    var state: String?
    var partition: String?
    var jobs: String?
    var format: String?
    var noHeader = false
    var start = false
    var steps = false
    var json = false

    func read(_ path: String, _ parameters: [String] = [], json: Bool) throws -> [UInt8]? {
        try ConnectionOptions.readBytes(socket: socket, path, parameters, json: json)
    }

    func run() throws {
        if steps { return try listSteps() }
        var query: [String] = []
        var users = user
        if mine { users = CallingProcess.userName }
        if let users { query.append("user=\(users)") }
        if let state = state ?? (start ? "PENDING" : nil) { query.append("state=\(state)") }
        if let partition { query.append("partition=\(partition)") }
        if let jobs { query.append("id=\(jobs)") }
        if let format, format.contains("%") {
            // squeue's %-fields: rendered here from the jobs' JSON.
            let spec: SqueueFormat
            do { spec = try SqueueFormat(format) } catch { throw CLIError(error.description) }
            if json { _ = try read("/v1/jobs", query, json: true); return }
            let list = try JobList(scanning: try read("/v1/jobs", query, json: false)!)
            let now = Int(Date().timeIntervalSince1970)
            if !noHeader { print(spec.header()) }
            for job in list.jobs { print(TerminalText.neutralized(spec.row(job, now: now))) }
            return
        }
        let columns = try ColumnList.parse(format, known: QueueColumns.headers, fallback: start ? Queue.startColumns : Queue.defaultColumns)
        // The table comes as rows already rendered by chessd (tab-separated): no JSON either side.
        if !json { query.append("columns=\(columns.joined(separator: ","))") }
        guard let data = try read("/v1/jobs", query, json: json) else { return }
        Table.print(columns.map { QueueColumns.headers[$0]! }, tabSeparated: data, header: !noHeader)
    }

    /// squeue -s: the running steps, with the user, partition and job filters applied.
    func listSteps() throws {
        guard let data = try read("/v1/steps", json: false) else { return }
        var list = try WireJSON.decode(StepList.self, from: Data(data))
        let users = (mine ? CallingProcess.userName : user).map { Set($0.split(separator: ",").map(String.init)) }
        let partitions = partition.map { Set($0.split(separator: ",").map(String.init)) }
        let ids = jobs.map { Set($0.split(separator: ",").map(String.init)) }
        list.steps = list.steps.filter { s in
            (users?.contains(s.user) ?? true) && (partitions?.contains(s.partition) ?? true)
                && (ids.map { $0.contains("\(s.job)") || $0.contains(String(s.stepID.split(separator: ".")[0])) } ?? true)
        }
        if json { return print(try JSONOutput.string(list)) }
        let now = Int(Date().timeIntervalSince1970)
        Table.print(["STEPID", "NAME", "PARTITION", "USER", "TIME", "NODELIST"],
                    list.steps.map { [$0.stepID, $0.name, $0.partition, $0.user, Time.squeueDuration(max(now - $0.startTime, 0)), $0.nodeList] },
                    header: !noHeader)
    }

}

extension QueueOptions {
    /// `queue`'s plain command lines (`PlainCommandLine`); nil: ArgumentParser reads it.
    static func parseFast(_ arguments: [String]) -> QueueOptions? {
        guard let line = PlainCommandLine(arguments, names: names) else { return nil }
        return QueueOptions(socket: line.values["socket"], user: line.values["user"], mine: line.flags.contains("me"),
                            state: line.values["state"], partition: line.values["partition"], jobs: line.values["jobs"],
                            format: line.values["format"], noHeader: line.flags.contains("noheader"), start: line.flags.contains("start"),
                            steps: line.flags.contains("steps"), json: line.flags.contains("json"))
    }

    /// Every spelling of `Queue`'s options (kept beside them: `QueueFastPathTests` asks each in
    /// both readings).
    static let names: [String: (key: String, kind: PlainCommandLine.Kind)] = PlainCommandLine.socket.merging([
        "-u": ("user", .value), "--user": ("user", .value), "--me": ("me", .flag), "-t": ("state", .value), "--state": ("state", .value),
        "-p": ("partition", .value), "--partition": ("partition", .value), "-j": ("jobs", .value), "--jobs": ("jobs", .value),
        "-o": ("format", .value), "--format": ("format", .value), "-h": ("noheader", .flag), "--noheader": ("noheader", .flag),
        "--start": ("start", .flag), "-s": ("steps", .flag), "--steps": ("steps", .flag), "--json": ("json", .flag),
    ]) { a, _ in a }
}
