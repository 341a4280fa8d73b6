import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl stat`: sstat — what running jobs use now.
struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "What running jobs use now: CPU time so far and resident memory, summed over their processes (sstat).",
        discussion: "Measured by each job's agent at its heartbeats; `1234` shows every running task of array 1234. Ended jobs: chessctl eff.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .customLong("noheader"), help: "No header line.") var noHeader = false
    @Flag(help: "Print the figures as JSON.") var json = false
    @Argument(help: "Job ids (1234 or 1234_7).") var ids: [String]

    func run() throws {
        guard let data = try connection.read("/v1/usage", ["id=\(ids.joined(separator: ","))"], json: json) else { return }
        let list = try WireJSON.decode(JobUsageList.self, from: data)
        Table.print(["JOBID", "CPU_TIME", "RSS", "PROCESSES", "MEASURED"], list.jobs.map { u in
            [u.displayID ?? "\(u.job)", Time.duration(u.cpuSeconds), Efficiency.mebibytes(u.memoryMB), "\(u.processes)", Time.timestamp(u.time)]
        } + list.unmeasured.map { [$0, "-", "-", "-", "not yet (at its agent's next heartbeat)"] }, header: !noHeader)
    }
}
