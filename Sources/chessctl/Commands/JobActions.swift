import ArgumentParser
import ChessAPI
import Foundation

/// cancel, hold, release: one or more job ids (`1234`, `1234_7`).
protocol JobActionCommand: ParsableCommand {
    static var action: String { get }
    static var pastTense: String { get }
    var connection: ConnectionOptions { get }
    var ids: [String] { get }
    var quiet: Bool { get }
}

extension JobActionCommand {
    func run() throws { try act(on: ids) }

    /// The action on each id in turn; every failure is reported, after the others were tried.
    func act(on ids: [String], request: JobActionRequest = JobActionRequest(), done: String = Self.pastTense) throws {
        let client = connection.client()
        var failures: [String] = []
        for id in ids {
            guard !id.isEmpty, id.split(separator: "_").allSatisfy({ Int($0) != nil }) else {
                failures.append("'\(id)' is not a job id (1234 or 1234_7)")
                continue
            }
            do {
                _ = try client.post("/v1/jobs/\(id)/\(Self.action)", request, as: JobActionResponse.self)
                if !quiet { print("Job \(id) \(done)") }
            } catch let e as ControllerClient.Failure {
                // Most of chessd's answers name the job already ("job 999 does not exist …").
                failures.append(e.description.hasPrefix("job \(id) ") ? e.description : "job \(id): \(e.description)")
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

/// `chessctl cancel` (scancel): jobs by id, or every job the filters select (all of them when
/// ids are given too); `--signal` signals running jobs instead of ending them.
struct Cancel: JobActionCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel jobs (scancel); 1234 cancels every task of array 1234.",
        discussion: """
            With -u, --me, -t, -n or -p (and no ids) every live job they select is cancelled; with ids too, \
            those of them the filters select. -s SIGNAL sends the signal to running jobs and leaves them running.
            """)
    static let action = "cancel"
    static let pastTense = "cancelled"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Option(name: [.customShort("s"), .long], help: "Send this signal (USR1, SIGUSR1, 10) to the running jobs instead of cancelling them.")
    var signal: String?
    @Option(name: [.short, .long], help: "Only these users' jobs (comma-separated).") var user: String?
    @Flag(name: .customLong("me"), help: "Only my jobs.") var mine = false
    @Option(name: [.customShort("t"), .long], help: "Only jobs in these states (PENDING,RUNNING or PD,R).") var state: String?
    @Option(name: [.short, .customLong("name"), .customLong("jobname")], help: "Only jobs with these names (comma-separated).") var name: String?
    @Option(name: [.short, .long], help: "Only jobs in these partitions.") var partition: String?
    @Argument(help: "Job ids (1234 or 1234_7).") var ids: [String] = []

    var filtered: Bool { user != nil || mine || state != nil || name != nil || partition != nil }

    func run() throws {
        var request = JobActionRequest()
        if let signal {
            guard let s = SignalName(signal) else { throw CLIError("unknown signal '\(signal)'; signals: \(SignalName.names) (or their numbers)") }
            request.signal = s.name
        }
        let done = request.signal.map { "signalled (SIG\($0))" } ?? Self.pastTense
        guard filtered else {
            guard !ids.isEmpty else { throw CLIError("give job ids, or select jobs with -u, --me, -t, -n or -p") }
            return try act(on: ids, request: request, done: done)
        }
        try act(on: try selected(), request: request, done: done)
    }

    /// The ids the filters select, as chessd lists live jobs. An array whose started tasks are
    /// not all selected (`-t PENDING` of an array with tasks running) has its waiting tasks
    /// cancelled one by one, so that the running ones go on.
    func selected() throws -> [String] {
        var query: [String] = []
        if let users = mine ? CallingProcess.userName : user { query.append("user=\(users)") }
        if let state { query.append("state=\(state)") }
        if let partition { query.append("partition=\(partition)") }
        var jobs = try JobList(scanning: Array(connection.read("/v1/jobs", query, json: false)!)).jobs
        if let name {
            let names = Set(name.split(separator: ",").map(String.init))
            jobs = jobs.filter { names.contains($0.name) }
        }
        if !ids.isEmpty {
            let wanted = Set(ids)
            jobs = jobs.filter { wanted.contains("\($0.id)") || wanted.contains($0.displayID) || $0.arrayJobID.map { wanted.contains("\($0)") } == true }
        }
        let chosen = Set(jobs.map(\.id))
        // Every live job, read once and only when an array is selected: a failed read is an error,
        // not "no task running" (which would cancel the array's running tasks too).
        var all: [JobInfo]?
        func everyJob() throws -> [JobInfo] {
            if let all { return all }
            let read = try JobList(scanning: Array(connection.read("/v1/jobs", json: false)!)).jobs
            all = read
            return read
        }
        var out: [String] = []
        for job in jobs {
            if let array = job.arrayJobID, array != job.id, chosen.contains(array) { continue }  // its array's cancel covers it
            if let pending = job.arrayPending,
               try everyJob().contains(where: { $0.arrayJobID == job.id && $0.id != job.id && !chosen.contains($0.id) }) {
                out += try JobSpecSyntax.array(pending).pending.map { "\(job.id)_\($0)" }
            } else {
                out.append(job.displayID.contains("[") ? "\(job.id)" : job.displayID)
            }
        }
        if out.isEmpty && !quiet { print("No job selected") }
        return out
    }
}

struct Hold: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "hold", abstract: "Keep pending jobs from starting (scontrol hold).")
    static let action = "hold"
    static let pastTense = "held"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids.") var ids: [String]
}

struct Release: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Let held jobs start again (scontrol release).")
    static let action = "release"
    static let pastTense = "released"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids.") var ids: [String]
}

struct Requeue: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "requeue", abstract: "Stop running jobs and put them back in the queue (scontrol requeue; --hold: requeuehold).")
    static let action = "requeue"
    static let pastTense = "requeued"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Flag(name: .customLong("hold"), help: "Hold them in the queue until released (scontrol requeuehold).") var hold = false
    @Argument(help: "Job ids.") var ids: [String]

    func run() throws {
        try act(on: ids, request: JobActionRequest(hold: hold ? true : nil), done: hold ? "requeued and held" : Self.pastTense)
    }
}

struct Suspend: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Pause running jobs, keeping their resources (scontrol suspend; admins).")
    static let action = "suspend"
    static let pastTense = "suspended"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids.") var ids: [String]
}

struct Resume: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue suspended jobs (scontrol resume; admins).")
    static let action = "resume"
    static let pastTense = "resumed"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids.") var ids: [String]
}
