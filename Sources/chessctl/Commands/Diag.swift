import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl diag`: sdiag.
struct Diag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diag", abstract: "What chessd has done since it started: jobs, scheduling passes, nodes, store (sdiag).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the figures as JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/diag", json: json) else { return }
        let d = try WireJSON.decode(Diagnostics.self, from: data)
        func ms(_ us: Int) -> String { String(format: "%.3f ms", Double(us) / 1000) }
        var rows: [(String, String)] = []
        rows.add("Time", "\(Time.timestamp(d.time)) (up \(Time.duration(d.time - d.startedAt)))")
        rows.add("Jobs submitted", "\(d.jobsSubmitted)")
        rows.add("Jobs started", "\(d.jobsStarted)")
        // sdiag's order, then any other end state there was.
        let order = ["COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"]
        for state in order + d.jobsEnded.keys.filter({ !order.contains($0) }).sorted() {
            if let n = d.jobsEnded[state] ?? (order.prefix(3).contains(state) ? 0 : nil) {
                rows.add("Jobs \(state.lowercased().replacingOccurrences(of: "_", with: " "))", "\(n)")
            }
        }
        rows.add("Jobs pending", "\(d.jobsPending)")
        rows.add("Jobs running", "\(d.jobsRunning)")
        rows.add("Scheduling passes", "\(d.passes)")
        if d.passes > 0 {
            rows.add("Last pass", "\(ms(d.lastPassMicroseconds))\(d.lastPassAt.map { " at \(Time.timestamp($0))" } ?? "")")
            rows.add("Mean pass", ms(d.meanPassMicroseconds))
            rows.add("Max pass", ms(d.maxPassMicroseconds))
        }
        rows.add("Nodes", d.nodes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        rows.add("Agents", "\(d.agents)")
        rows.add("Store commits", d.storeCommits == 0 ? "0" : String(format: "%d (%.1f writes each)", d.storeCommits, Double(d.storeWrites) / Double(d.storeCommits)))
        Format.printRows(rows)
    }
}
