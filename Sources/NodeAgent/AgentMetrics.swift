import ChessAPI
import Foundation
import HTTPServer

/// The agent's `/metrics` (Prometheus text format), served with `--metrics HOST:PORT`: the link
/// to the controller, its jobs, and the host's load, memory and GPU figures.
struct AgentMetrics: HTTPHandler {
    let agent: Agent
    let link: ControllerLink

    func handle(_ request: HTTPRequest, peer: Peer, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard request.method == "GET", request.path == "/metrics" else {
            return respond(.error(status: 404, code: "not_found", message: "the agent serves GET /metrics only"))
        }
        respond(.text(render(), contentType: "text/plain; version=0.0.4"))
    }

    func render() -> String {
        let m = HostMetrics.sample()
        var out = ""
        func gauge(_ name: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (labels, value) in samples { out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value)\n" }
        }
        gauge("chess_agent_registered", "1 while the controller has this agent's registration.", [("", link.isRegistered ? "1" : "0")])
        gauge("chess_agent_nodes", "Nodes this agent presents.", [("", "\(agent.nodes.count)")])
        gauge("chess_agent_jobs_running", "Jobs whose supervisor runs.", [("", "\(agent.runningJobs().count)")])
        gauge("chess_agent_completions_unacknowledged", "Ended jobs waiting in the spool for the controller.",
              [("", "\(agent.pendingCompletions().count)")])
        gauge("chess_node_load1", "One-minute load average of the host.",
              [("", "\(m.load1Centi / 100).\(m.load1Centi % 100 < 10 ? "0" : "")\(m.load1Centi % 100)")])
        gauge("chess_node_memory_available_bytes", "Memory available on the host.", [("", "\(m.memoryFreeMB * 1_048_576)")])
        gauge("chess_node_memory_total_bytes", "Memory of the host.", [("", "\(m.memoryTotalMB * 1_048_576)")])
        gauge("chess_gpu_utilization_percent", "GPU utilisation (NVML).",
              m.gpus.compactMap { g in g.utilizationPercent.map { ("gpu=\"\(g.index)\"", "\($0)") } })
        gauge("chess_gpu_memory_used_bytes", "GPU memory in use (NVML).",
              m.gpus.compactMap { g in g.memoryUsedMB.map { ("gpu=\"\(g.index)\"", "\($0 * 1_048_576)") } })
        gauge("chess_gpu_temperature_celsius", "GPU temperature (NVML).",
              m.gpus.compactMap { g in g.temperatureC.map { ("gpu=\"\(g.index)\"", "\($0)") } })
        gauge("chess_gpu_power_watts", "GPU power draw (NVML).",
              m.gpus.compactMap { g in g.powerMilliwatts.map { ("gpu=\"\(g.index)\"", "\(Double($0) / 1000)") } })
        return out
    }
}
