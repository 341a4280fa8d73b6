import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl eff`: seff — how much of what a job was given it used.
struct Efficiency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eff",
        abstract: "How much of its CPUs and memory a job used (seff), from its accounting record.",
        discussion: "An array's id shows each of its tasks. CPU efficiency is CPU time over elapsed time × allocated CPUs; memory efficiency is peak memory over allocated memory.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the accounting records as JSON.") var json = false
    @Argument(help: "Job ids (1234 or 1234_7).") var ids: [String]

    func run() throws {
        for id in ids where !id.split(separator: "_").allSatisfy({ Int($0) != nil }) || id.isEmpty {
            throw CLIError("'\(id)' is not a job id (1234 or 1234_7)")
        }
        let wanted = Set(ids)
        let query = ["start=0", "id=\(ids.map { String($0.split(separator: "_")[0]) }.joined(separator: ","))"]
        let data = try connection.read("/v1/accounting", query, json: false)!
        let records = try WireJSON.decode(AccountingList.self, from: data).records
            .filter { wanted.contains("\($0.id)") || wanted.contains($0.jobID) || $0.arrayJobID.map { wanted.contains("\($0)") } == true }
        guard !records.isEmpty else { throw CLIError("no accounting record for \(ids.joined(separator: ", "))") }
        if json { return print(try JSONOutput.string(AccountingList(records: records))) }
        for (i, r) in records.enumerated() {
            if i > 0 { print() }
            Format.printRows(Self.rows(r))
        }
    }

    /// seff's lines for one record.
    static func rows(_ r: AccountingRecord) -> [(String, String)] {
        var rows: [(String, String)] = []
        rows.add("Job ID", r.jobID)
        rows.add("User", r.user)
        rows.add("Account", r.account)
        rows.add("State", "\(r.state)" + (r.exitCode.map { " (exit code \($0))" } ?? ""))
        rows.add("Nodes", "\(r.allocNodes)")
        rows.add("CPUs", "\(r.allocCPUs)")
        let coreWalltime = r.elapsed * r.allocCPUs
        if let cpu = r.cpuSeconds {
            rows.add("CPU Utilized", Time.duration(cpu))
            rows.add("CPU Efficiency", "\(percent(cpu, of: coreWalltime)) of \(Time.duration(coreWalltime)) core-walltime")
        } else {
            rows.add("CPU Utilized", r.endTime == nil ? "(running: measured when it ends)" : "(not measured)")
        }
        rows.add("Job Wall-clock time", Time.duration(r.elapsed))
        if let rss = r.maxRSSMB {
            rows.add("Memory Utilized", mebibytes(rss))
            rows.add("Memory Efficiency", r.allocMemoryMB > 0 ? "\(percent(rss, of: r.allocMemoryMB)) of \(mebibytes(r.allocMemoryMB))" : "(no memory allocated)")
        } else {
            rows.add("Memory Utilized", r.endTime == nil ? "(running: measured when it ends)" : "(not measured)")
        }
        return rows
    }

    /// Two decimals, from integers.
    static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "0.00%" }
        let hundredths = part * 10_000 / whole
        return String(format: "%d.%02d%%", hundredths / 100, hundredths % 100)
    }

    static func mebibytes(_ mb: Int) -> String {
        mb >= 1024 ? String(format: "%d.%02d GiB", mb / 1024, mb % 1024 * 100 / 1024) : "\(mb) MiB"
    }
}
