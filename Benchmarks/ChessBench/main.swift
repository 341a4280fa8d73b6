// chess-bench: scheduler speed figures, printed side by side. Not part of the test suite.
//
//   make bench                       # every trace in ../shared/data/swf, every policy
//   chess-bench --traces DIR         # another folder of .swf / .swf.gz traces
//   chess-bench --controller         # only the controller and cluster figures (chessd, chessctl, agent)
//   chess-bench --no-controller      # only the scheduler figures
//   chess-bench --cluster            # only the cluster figures (real jobs, with and without marketplace settlement)
//   chess-bench --agents N           # only N agents played from one process: heartbeat latency, chessd threads, RSS, CPU
//
// Wall-clock figures vary with the machine; compare the rows of one run with each other.
import ChessAPI
import Foundation
import SchedulerCore

var arguments = Array(CommandLine.arguments.dropFirst())
var traceDirectory = "../shared/data/swf"
if let i = arguments.firstIndex(of: "--traces"), i + 1 < arguments.count {
    traceDirectory = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - s.count))
    return right ? padding + s : s + padding
}

var only: String?
if let i = arguments.firstIndex(of: "--only"), i + 1 < arguments.count {
    only = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
}

let clock = ContinuousClock()

// MARK: The controller

if let i = arguments.firstIndex(of: "--agents") {
    guard i + 1 < arguments.count, let n = Int(arguments[i + 1]), (1...100_000).contains(n) else {
        print("chess-bench --agents N: N from 1 to 100,000")
        exit(2)
    }
    do { try AgentLoadBenchmark(agents: n).run() } catch { print("agent load benchmark: \(error)\n") }
    exit(0)
}

if arguments.contains("--cluster") {
    do { try ClusterBenchmark().run() } catch { print("cluster benchmark: \(error)\n") }
    exit(0)
}

if arguments.contains("--controller") || !arguments.contains("--no-controller") {
    do { try ControllerBenchmark().run() } catch { print("controller benchmark: \(error)\n") }
    do { try ClusterBenchmark().run() } catch { print("cluster benchmark: \(error)\n") }
    if arguments.contains("--controller") { exit(0) }
}

// MARK: Live-style planning passes

print("One planning pass (Planner.plan), every pending job considered, no depth limit")
print([pad("nodes", 6, right: true), pad("pending", 8, right: true), pad("policy", 13), pad("pass ms", 9, right: true),
       pad("started", 8, right: true), pad("reserved", 9, right: true)].joined(separator: " "))
let sizes = arguments.contains("--quick") ? [(1000, 10_000)] : [(1000, 10_000), (5000, 50_000)]
for (nodeCount, pendingCount) in sizes {
    for policy in SchedulingPolicy.allCases where only == nil || only == policy.rawValue {
        let snapshot = PlanningPassWorkload(nodes: nodeCount, pending: pendingCount, policy: policy).snapshot
        let start = clock.now
        let decisions = Planner().plan(snapshot)
        let elapsed = seconds(clock.now - start)
        print([pad("\(nodeCount)", 6, right: true), pad("\(pendingCount)", 8, right: true), pad(policy.rawValue, 13),
               pad(String(format: "%.1f", elapsed * 1000), 9, right: true), pad("\(decisions.starts.count)", 8, right: true),
               pad("\(decisions.plannedStarts.count)", 9, right: true)].joined(separator: " "))
    }
}
print()

// MARK: Flat-machine replay of real traces

let names = ((try? FileManager.default.contentsOfDirectory(atPath: traceDirectory)) ?? [])
    .filter { $0.hasSuffix(".swf") || $0.hasSuffix(".swf.gz") }.sorted()
if names.isEmpty {
    print("no traces in \(traceDirectory) (pass --traces DIR)")
} else {
    print("Flat-machine replay (SIMULATION.md), whole traces, no depth limit")
    print([pad("trace", 30), pad("procs", 6, right: true), pad("jobs", 8, right: true), pad("load s", 7, right: true),
           pad("policy", 13), pad("replay s", 9, right: true), pad("jobs/s", 10, right: true),
           pad("avg wait s", 11, right: true), pad("avg bsld", 9, right: true), pad("util %", 7, right: true)]
        .joined(separator: " "))
    for name in names {
        let path = traceDirectory + "/" + name
        let loadStart = clock.now
        let workload: SWFWorkload
        do { workload = try TraceLoader.load(path: path) } catch {
            print("\(name): \(error)")
            continue
        }
        let load = seconds(clock.now - loadStart)
        for policy in ReplayPolicy.allCases {
            let start = clock.now
            let outcome = FlatMachineReplay(workload: workload, policy: policy).run()
            let elapsed = seconds(clock.now - start)
            let m = outcome.metrics
            print([pad(name, 30), pad("\(workload.machineSize)", 6, right: true), pad("\(m.jobs)", 8, right: true),
                   pad(String(format: "%.3f", load), 7, right: true), pad(policy.rawValue, 13),
                   pad(String(format: "%.3f", elapsed), 9, right: true),
                   pad(String(format: "%.0f", Double(m.jobs) / max(elapsed, 1e-9)), 10, right: true),
                   pad(String(format: "%.0f", m.avgWait), 11, right: true),
                   pad(String(format: "%.2f", m.avgBoundedSlowdown), 9, right: true),
                   pad(String(format: "%.2f", m.utilization * 100), 7, right: true)].joined(separator: " "))
        }
    }
}
