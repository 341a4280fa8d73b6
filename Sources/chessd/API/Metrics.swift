import ChessAPI
import SchedulerCore

/// `/metrics` in Prometheus text format.
enum Metrics {
    static func render(_ controller: Controller) -> HTTPResponse {
        var out = ""
        var byState: [String: [String: Int]] = [:]
        for job in controller.queue(.init()) { byState[job.state, default: [:]][job.partition, default: 0] += 1 }
        out += "# HELP chess_jobs Live jobs by state and partition.\n# TYPE chess_jobs gauge\n"
        for (state, parts) in byState.sorted(by: { $0.key < $1.key }) {
            for (partition, n) in parts.sorted(by: { $0.key < $1.key }) {
                out += "chess_jobs{state=\"\(state)\",partition=\"\(partition)\"} \(n)\n"
            }
        }
        var nodes: [String: Int] = [:]
        for n in controller.nodeInfos() { nodes[n.state, default: 0] += 1 }
        out += "# HELP chess_nodes Nodes by state.\n# TYPE chess_nodes gauge\n"
        for (state, n) in nodes.sorted(by: { $0.key < $1.key }) { out += "chess_nodes{state=\"\(state)\"} \(n)\n" }
        let stats = controller.statistics
        out += "# HELP chess_scheduler_passes_total Scheduling passes run.\n# TYPE chess_scheduler_passes_total counter\n"
        out += "chess_scheduler_passes_total \(stats.passes)\n"
        return .text(out, contentType: "text/plain; version=0.0.4")
    }
}
