import ChessAPI
import Foundation
import Testing

/// GPU figures from the real tool's real output: a stand-in `nvidia-smi` on the agent's `PATH`
/// prints a recorded `nvidia-smi -q -x` (an A100 in MIG mode, `../shared/data/nvidia-smi`), and
/// the figures travel as they would from a GPU node: heartbeats, `chessctl show node`, the agent's
/// `/metrics`, a GPU job's `CUDA_VISIBLE_DEVICES` and its GPU-seconds.
@Suite("End to end: GPU figures from nvidia-smi", .serialized)
struct GPUEndToEndTests {
    static let recorded = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/nvidia-smi/a100-sxm4-mig.xml")

    /// A folder with an executable `nvidia-smi` that prints `fixture` for `-q -x`.
    static func standIn(printing fixture: URL) throws -> URL {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("chess-nvsmi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let copy = dir.appendingPathComponent("recorded.xml")
        try FileManager.default.copyItem(at: fixture, to: copy)
        let script = dir.appendingPathComponent("nvidia-smi")
        try """
            #!/bin/sh
            [ "$1 $2" = "-q -x" ] || { echo "stand-in nvidia-smi: only -q -x" >&2; exit 2; }
            echo "$(date +%s) $*" >> '\(dir.path)/calls'
            exec cat '\(copy.path)'
            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return dir
    }

    @Test func recordedFiguresReachShowNodeMetricsAndTheJob() throws {
        try #require(FileManager.default.fileExists(atPath: Self.recorded.path), "no recording at \(Self.recorded.path)")
        let bin = try Self.standIn(printing: Self.recorded)
        defer { try? FileManager.default.removeItem(at: bin) }
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let c = try EndToEndTests.Running(agentEnvironment: ["PATH": path], hostExtra: "gpus = 1\ngpu_type = \"a100\"")

        // The host registers the driver's GPU (hwloc sees none on this machine) and is not drained.
        try c.wait("the GPU's figures in a heartbeat") {
            let r = try c.cluster.ctl(["show", "node", "host", "--json"])
            let node = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let gpus = (node?["metrics"] as? [String: Any])?["gpus"] as? [[String: Any]] ?? []
            return gpus.first?["temperature_c"] as? Int == 36
        }
        let json = try c.cluster.ctl(["show", "node", "host", "--json"])
        let node = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((node["state"] as? String) == "idle", "\(json.stdout)")
        let figures = try #require(((node["metrics"] as? [String: Any])?["gpus"] as? [[String: Any]])?.first)
        #expect(figures["index"] as? Int == 0)
        #expect(figures["uuid"] as? String == "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a")
        #expect(figures["power_mw"] as? Int == 66920)
        #expect(figures["memory_total_mb"] as? Int == 40960)
        #expect(figures["memory_used_mb"] as? Int == 38)
        #expect(figures["mig_enabled"] as? Bool == true)
        #expect(figures["utilization_percent"] == nil, "MIG mode: nvidia-smi says N/A")

        let text = try c.cluster.ctl(["show", "node", "host"])
        #expect(text.stdout.contains("GPU0"), "\(text.stdout)")
        #expect(text.stdout.contains("a100 mem=38/40960M temp=36C power=66.92W mig=on uuid=GPU-27b94a00"), "\(text.stdout)")

        let metrics = String(decoding: try ControllerClient(tcp: HostPort("127.0.0.1:\(c.metricsPort)")!, signer: nil)
            .request("GET", "/metrics"), as: UTF8.self)
        let labels = "{gpu=\"0\",uuid=\"GPU-27b94a00-ed54-5c24-b1fd-1054085de32a\"}"
        #expect(metrics.contains("chess_gpu_temperature_celsius\(labels) 36"), "\(metrics)")
        #expect(metrics.contains("chess_gpu_power_watts\(labels) 66.920"))
        #expect(metrics.contains("chess_gpu_mig_enabled\(labels) 1"))
        #expect(metrics.contains("chess_gpu_memory_total_bytes\(labels) \(40960 * 1_048_576)"))
        #expect(!metrics.contains("chess_gpu_utilization_percent{"), "N/A is left out, not 0")

        // A GPU job sees its device and is charged the GPU-seconds it held.
        let job = try c.submit(["--gres=gpu:1", "-w", "host", "--wrap", "echo gpus=[$CUDA_VISIBLE_DEVICES]; sleep 2"])
        try c.wait("the GPU job to end", within: 60) { try c.jobs().isEmpty }
        #expect(c.output("slurm-\(job).out") == "gpus=[0]\n", "\(c.output("slurm-\(job).out"))")
        let record = try #require(try c.accounting().first { $0["id"] as? Int == job || $0["job_id"] as? Int == job })
        let gpuSeconds = record["gpu_seconds"] as? Int ?? 0
        #expect(gpuSeconds >= 2, "\(record)")

        // nvidia-smi is a process: heartbeats ask it at most every 10 s, not at each one.
        let calls = (try? String(contentsOf: bin.appendingPathComponent("calls"), encoding: .utf8)) ?? ""
        let times = calls.split(separator: "\n").compactMap { Int($0.split(separator: " ").first ?? "") }
        #expect(!times.isEmpty)
        #expect(zip(times, times.dropFirst()).filter { $1 - $0 < 9 }.count <= 1, "\(calls)")
    }
}
