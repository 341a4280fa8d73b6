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
    func run() throws {
        let client = connection.client()
        var failures: [String] = []
        for id in ids {
            guard !id.isEmpty, id.split(separator: "_").allSatisfy({ Int($0) != nil }) else {
                failures.append("'\(id)' is not a job id (1234 or 1234_7)")
                continue
            }
            do {
                _ = try client.post("/v1/jobs/\(id)/\(Self.action)", JobActionRequest(), as: JobActionResponse.self)
                if !quiet { print("Job \(id) \(Self.pastTense)") }
            } catch let e as ControllerClient.Failure {
                // Most of chessd's answers name the job already ("job 999 does not exist …").
                failures.append(e.description.hasPrefix("job \(id) ") ? e.description : "job \(id): \(e.description)")
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

struct Cancel: JobActionCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel jobs (scancel); 1234 cancels every task of array 1234.")
    static let action = "cancel"
    static let pastTense = "cancelled"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids (1234 or 1234_7).") var ids: [String]
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
    static let configuration = CommandConfiguration(commandName: "requeue", abstract: "Stop running jobs and put them back in the queue (scontrol requeue).")
    static let action = "requeue"
    static let pastTense = "requeued"
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .shortAndLong, help: "Print nothing on success.") var quiet = false
    @Argument(help: "Job ids.") var ids: [String]
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
