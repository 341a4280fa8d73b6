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

    func read(_ path: String, _ parameters: [String] = [], json: Bool) throws -> Data? {
        try ConnectionOptions.read(socket: socket, path, parameters, json: json)
    }

    func run() throws {
        if steps { return try listSteps() }
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
            if json { _ = try read("/v1/jobs", query, json: true); return }
            let list = try JobList(scanning: Array(try read("/v1/jobs", query, json: false)!))
            let now = Int(Date().timeIntervalSince1970)
            if !noHeader { print(spec.header()) }
            for job in list.jobs { print(spec.row(job, now: now)) }
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
        var list = try WireJSON.decode(StepList.self, from: data)
        let users = (mine ? Process.userName : user).map { Set($0.split(separator: ",").map(String.init)) }
        let partitions = partition.map { Set($0.split(separator: ",").map(String.init)) }
        let ids = jobs.map { Set($0.split(separator: ",").map(String.init)) }
        list.steps = list.steps.filter { s in
            (users?.contains(s.user) ?? true) && (partitions?.contains(s.partition) ?? true)
                && (ids.map { $0.contains("\(s.job)") || $0.contains(String(s.stepID.split(separator: ".")[0])) } ?? true)
        }
        if json { return print(try JSONOutput.string(list)) }
        let now = Int(Date().timeIntervalSince1970)
        Table.print(["STEPID", "NAME", "PARTITION", "USER", "TIME", "NODELIST"],
                    list.steps.map { [$0.stepID, $0.name, $0.partition, $0.user, Time.duration(max(now - $0.startTime, 0)), $0.nodeList] },
                    header: !noHeader)
    }

}

extension QueueOptions {
    /// `queue`'s command line read without ArgumentParser: building its parser (reflection and
    /// protocol-conformance lookups across the binary) was two thirds of a `chessctl queue`'s
    /// CPU over an empty queue, and scripts call squeue in loops. Only the plain forms are taken
    /// here — each option once, its value as the next word (`-u alice`, `--state PD`), flags
    /// alone; anything else (`--user=alice`, `-ualice`, `-hs`, a repeated or unknown option,
    /// `--help`, a value that looks like an option) returns nil, and ArgumentParser reads the
    /// line and answers as it always did.
    static func parseFast(_ arguments: [String]) -> QueueOptions? {
        var o = QueueOptions()
        var seen = Set<String>()
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            func value() -> String? {
                i += 1
                guard i < arguments.count, !arguments[i].hasPrefix("-") else { return nil }
                return arguments[i]
            }
            let option: String
            switch word {
            case "--socket": option = "socket"; guard let v = value() else { return nil }; o.socket = v
            case "-u", "--user": option = "user"; guard let v = value() else { return nil }; o.user = v
            case "--me": option = "me"; o.mine = true
            case "-t", "--state": option = "state"; guard let v = value() else { return nil }; o.state = v
            case "-p", "--partition": option = "partition"; guard let v = value() else { return nil }; o.partition = v
            case "-j", "--jobs": option = "jobs"; guard let v = value() else { return nil }; o.jobs = v
            case "-o", "--format": option = "format"; guard let v = value() else { return nil }; o.format = v
            case "-h", "--noheader": option = "noheader"; o.noHeader = true
            case "--start": option = "start"; o.start = true
            case "-s", "--steps": option = "steps"; o.steps = true
            case "--json": option = "json"; o.json = true
            default: return nil
            }
            guard seen.insert(option).inserted else { return nil }
            i += 1
        }
        return o
    }
}
