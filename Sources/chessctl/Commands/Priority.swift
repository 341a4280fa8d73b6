import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl priority`: sprio.
struct Priority: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "priority",
        abstract: "Pending jobs' priorities and their weighted factors (sprio), highest first.",
        discussion: "A priority an administrator set (update … priority=) replaces the factors' sum and is marked (admin).")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.short, .long], help: "Only these users (comma-separated).") var user: String?
    @Flag(name: .customLong("me"), help: "Only my jobs.") var mine = false
    @Option(name: [.short, .long], help: "Only these job ids (comma-separated).") var jobs: String?
    @Flag(name: .customLong("noheader"), help: "No header line.") var noHeader = false
    @Flag(help: "Print the jobs as JSON.") var json = false

    func run() throws {
        var query: [String] = []
        if let users = mine ? CallingProcess.userName : user { query.append("user=\(users)") }
        if let jobs { query.append("id=\(jobs)") }
        guard let data = try connection.read("/v1/priorities", query, json: json) else { return }
        let list = try WireJSON.decode(JobPriorityList.self, from: data)
        Table.print(["JOBID", "PARTITION", "USER", "PRIORITY", "AGE", "FAIRSHARE", "JOBSIZE", "PARTITION", "QOS", "NICE"], list.jobs.map { j in
            [j.displayID, j.partition, j.user, j.adminSet ? "\(j.priority) (admin)" : "\(j.priority)", "\(j.age)", "\(j.fairShare)",
             "\(j.jobSize)", "\(j.partitionFactor)", "\(j.qosFactor)", "\(j.nice)"]
        }, header: !noHeader)
    }
}
