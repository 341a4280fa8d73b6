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

    /// Milliwatts as watts with three decimals, in integers.
    static func watts(_ milliwatts: Int) -> String {
        let sign = milliwatts < 0 ? "-" : ""
        let m = milliwatts.magnitude
        let fraction = String(m % 1000)
        return "\(sign)\(m / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// A Prometheus label value: backslash, quote and newline escaped.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    func render() -> String {
        let m = HostMetrics.sample(gpus: agent.hostTopology)
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
        // Each GPU by the node's index for it (CUDA_VISIBLE_DEVICES's) and its UUID.
        func gpuLabels(_ g: NodeMetrics.GPUMetrics) -> String {
            "gpu=\"\(g.index)\"" + (g.uuid.map { ",uuid=\"\(Self.escape($0))\"" } ?? "")
        }
        func gpuGauge(_ name: String, _ help: String, _ value: (NodeMetrics.GPUMetrics) -> String?) {
            gauge(name, help, m.gpus.compactMap { g in value(g).map { (gpuLabels(g), $0) } })
        }
        gpuGauge("chess_gpu_utilization_percent", "GPU utilisation (NVML or nvidia-smi).") { $0.utilizationPercent.map(String.init) }
        gpuGauge("chess_gpu_memory_used_bytes", "GPU memory in use.") { $0.memoryUsedMB.map { "\($0 * 1_048_576)" } }
        gpuGauge("chess_gpu_memory_total_bytes", "GPU memory.") { $0.memoryTotalMB.map { "\($0 * 1_048_576)" } }
        gpuGauge("chess_gpu_temperature_celsius", "GPU temperature.") { $0.temperatureC.map(String.init) }
        gpuGauge("chess_gpu_power_watts", "GPU power draw.") { $0.powerMilliwatts.map(Self.watts) }
        gpuGauge("chess_gpu_mig_enabled", "1 when the GPU runs in MIG mode (absent without MIG).") { $0.migEnabled.map { $0 ? "1" : "0" } }
        return out
    }
}
