import ChessAPI
import Foundation

/// The host's load, memory and GPU figures for heartbeats, from /proc and NVML (or nvidia-smi).
enum HostMetrics {
    /// `gpus`: the host's GPUs as registered, so each figure goes under the node's index for it;
    /// none (a host without GPUs, or emulated nodes) asks the driver nothing.
    static func sample(gpus: AgentTopology? = nil) -> NodeMetrics {
        var load = 0
        if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
           let first = text.split(separator: " ").first {
            // "1.25" → 125, without floating point.
            let parts = first.split(separator: ".")
            load = (Int(parts[0]) ?? 0) * 100 + (parts.count > 1 ? Int(parts[1].prefix(2).padding(toLength: 2, withPad: "0", startingAt: 0)) ?? 0 : 0)
        }
        var total = 0
        var available = 0
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 2, let kb = Int(fields[1]) else { continue }
                if fields[0] == "MemTotal:" { total = kb / 1024 }
                if fields[0] == "MemAvailable:" { available = kb / 1024 }
            }
        }
        var figures: [NodeMetrics.GPUMetrics] = []
        if let topology = gpus, !topology.gpus.isEmpty { figures = GPUSampler.shared.sample(for: topology) }
        return NodeMetrics(load1Centi: load, memoryFreeMB: available, memoryTotalMB: total, gpus: figures)
    }
}

/// The driver's GPU figures, asked at most every `interval` seconds: NVML answers in microseconds,
/// but nvidia-smi is a process, and heartbeats come as often as commands do.
final class GPUSampler: @unchecked Sendable {
    static let shared = GPUSampler()
    let interval: TimeInterval = 10
    private let lock = NSLock()
    private var last: (time: Date, gpus: [GPUInfo])?

    func sample(for topology: AgentTopology) -> [NodeMetrics.GPUMetrics] {
        let gpus: [GPUInfo] = lock.withLock {
            if let last, Date().timeIntervalSince(last.time) < interval { return last.gpus }
            let fresh = GPUProbe.discover()
            last = (Date(), fresh)
            return fresh
        }
        return GPUProbe.metrics(gpus, for: topology)
    }
}
