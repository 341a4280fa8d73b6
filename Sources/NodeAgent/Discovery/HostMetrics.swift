import ChessAPI
import Foundation

/// The host's load, memory and GPU figures for heartbeats, from /proc and NVML.
enum HostMetrics {
    static func sample() -> NodeMetrics {
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
        let gpus = (NVML.devices() ?? []).enumerated().map { i, g in
            NodeMetrics.GPUMetrics(index: i, utilizationPercent: g.utilizationPercent, memoryUsedMB: g.memoryUsedMB,
                                   temperatureC: g.temperatureC, powerMilliwatts: g.powerMilliwatts, eccUncorrected: g.eccUncorrected)
        }
        return NodeMetrics(load1Centi: load, memoryFreeMB: available, memoryTotalMB: total, gpus: gpus)
    }
}
