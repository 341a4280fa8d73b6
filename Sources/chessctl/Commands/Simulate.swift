import ArgumentParser
import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl simulate`: replays a Standard Workload Format trace on a flat machine with the
/// rules of SIMULATION.md, so an admin can compare policies on a real workload before using one.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a workload under a scheduling policy: an SWF trace, or a cluster scenario.",
        discussion: """
            TRACE is an .swf file, plain or gzip-compressed, replayed on one flat pool of processors \
            (SIMULATION.md); the machine size comes from its '; MaxProcs:' (or '; MaxNodes:') header. \
            With --scenario FILE, a JSON scenario (nodes, partitions, QoS, accounts, reservations, jobs) \
            is replayed through the full planner, preemption included; see docs/simulate.md. \
            Prints wait and utilization figures; --json prints them as one JSON object.
            """
    )

    @Option(help: "Policy: fcfs, easy or conservative (a scenario also takes fifo; default: the scenario's, else easy).")
    var policy: String?

    @Option(help: "Replay a cluster scenario (JSON) instead of a trace.")
    var scenario: String?

    @Option(help: "Replay only the first K jobs that pass the checks.")
    var limit: Int?

    @Option(name: .customLong("jobs-csv"), help: "Write each simulated job's start and end to this CSV file.")
    var jobsCSV: String?

    @Flag(help: "Print the metrics as a JSON object.")
    var json = false

    @Flag(help: "Report progress on standard error even when it is not a terminal.")
    var progress = false

    @Argument(help: "The trace file (.swf or .swf.gz).")
    var trace: String?

    func validate() throws {
        if let limit, limit < 0 {
            throw ValidationError("--limit must be zero or more, got \(limit)")
        }
        switch (trace, scenario) {
        case (nil, nil): throw ValidationError("give a TRACE file, or --scenario FILE")
        case (.some, .some): throw ValidationError("give a TRACE file or --scenario FILE, not both")
        case (nil, .some):
            if limit != nil { throw ValidationError("--limit applies to traces only") }
            if let policy, !["fifo", "fcfs", "easy", "conservative"].contains(policy) {
                throw ValidationError("--policy '\(policy)': expected fifo, easy or conservative")
            }
        case (.some, nil):
            if let policy, ReplayPolicy(rawValue: policy) == nil {
                throw ValidationError("--policy '\(policy)': expected fcfs, easy or conservative")
            }
        }
    }

    func run() throws {
        if let scenario {
            try runScenario(scenario)
        } else if let trace {
            try runTrace(trace, policy: policy.flatMap(ReplayPolicy.init(rawValue:)) ?? .easy)
        }
    }

    private func runTrace(_ trace: String, policy: ReplayPolicy) throws {
        let clock = ContinuousClock()
        let began = clock.now
        let workload: SWFWorkload
        do {
            workload = try TraceLoader.load(path: trace, limit: limit)
        } catch {
            throw CLIError("\(error)")
        }
        let reporter = ProgressReporter(label: "replaying \(policy.rawValue)", force: progress)
        let outcome = FlatMachineReplay(workload: workload, policy: policy).run { reporter.update($0.started, of: $0.total) }
        reporter.finish()
        let elapsed = clock.now - began

        if let jobsCSV {
            do {
                try ReplayCSV.render(outcome).write(toFile: jobsCSV, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write --jobs-csv file \(jobsCSV): \(error.localizedDescription)")
            }
        }

        let metrics = outcome.metrics
        if json {
            print(try JSONOutput.string(metrics))
        } else {
            printSummary(metrics, trace: trace, policy: policy, workload: workload, elapsed: elapsed)
        }
    }

    private func runScenario(_ path: String) throws {
        let clock = ContinuousClock()
        let began = clock.now
        var scenario: Scenario
        do {
            scenario = try ScenarioFile.load(path: path)
        } catch {
            throw CLIError("\(error)")
        }
        if let policy {
            scenario.configuration.policy = policy == "fcfs" ? .fifo : SchedulingPolicy(rawValue: policy)!
        }
        let reporter = ProgressReporter(label: "replaying \(scenario.configuration.policy.rawValue)", force: progress)
        let outcome = scenario.simulator.run { reporter.update($0.started, of: $0.total) }
        reporter.finish()
        let elapsed = clock.now - began

        if let jobsCSV {
            var out = "id,array_job,array_task,user,partition,qos,submit,start,end,state,nodes,cores,preemptions,reason\n"
            for j in outcome.jobs {
                let fields: [String] = [
                    "\(j.id)", j.arrayJobID.map(String.init) ?? "", j.arrayTaskIndex.map(String.init) ?? "", j.user,
                    j.partition, j.qos, "\(j.submit)", j.start.map(String.init) ?? "", j.end.map(String.init) ?? "",
                    j.state.rawValue, "\"\(HostList.compress(j.nodes))\"", "\(j.cores)", "\(j.preemptions)",
                    j.reason?.rawValue ?? "",
                ]
                out += fields.joined(separator: ",") + "\n"
            }
            do {
                try out.write(toFile: jobsCSV, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write --jobs-csv file \(jobsCSV): \(error.localizedDescription)")
            }
        }
        let m = outcome.metrics
        if json {
            print(try JSONOutput.string(m))
            return
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cores = scenario.cluster.nodes.reduce(0) { $0 + $1.topology.coreCount }
        var rows: [(String, String)] = [
            ("scenario", path),
            ("policy", scenario.configuration.policy.rawValue),
            ("cluster", "\(scenario.cluster.nodes.count) nodes, \(cores) cores, \(scenario.cluster.partitions.count) partitions"),
            ("jobs", "\(m.jobs) (\(m.finished) finished, \(m.neverStarted) never started)"),
            ("average wait", "\(Format.fixed(m.avgWait, 1)) s"),
            ("maximum wait", "\(m.maxWait) s"),
            ("preemptions", "\(m.preemptions)"),
            ("makespan", "\(m.makespan) s"),
            ("utilization", "\(Format.fixed(m.utilization * 100, 2)) %"),
            ("scheduling passes", "\(m.passes)"),
            ("replay time", "\(Format.fixed(seconds, 3)) s"),
        ]
        rows.insert(("end states", m.states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), at: 4)
        Format.printRows(rows)
    }

    private func printSummary(_ m: ReplayMetrics, trace: String, policy: ReplayPolicy, workload: SWFWorkload, elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var rows: [(String, String)] = [
            ("trace", trace),
            ("policy", policy.rawValue),
            ("machine", "\(workload.machineSize) processors"),
            ("jobs simulated", "\(m.jobs)"),
            ("jobs skipped", m.skipped == 0 ? "0" : "\(m.skipped) (" + m.skippedByReason.sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"),
            ("cut to requested", "\(m.truncatedToRequested)"),
            ("average wait", "\(Format.fixed(m.avgWait, 1)) s"),
            ("maximum wait", "\(m.maxWait) s"),
            ("avg bounded slowdown", Format.fixed(m.avgBoundedSlowdown, 3)),
            ("makespan", "\(m.makespan) s"),
            ("utilization", "\(Format.fixed(m.utilization * 100, 2)) %"),
            ("replay time", "\(Format.fixed(seconds, 3)) s"),
        ]
        if let line = workload.firstMalformedLine {
            rows.insert(("first malformed line", "\(trace):\(line)"), at: 5)
        }
        Format.printRows(rows)
    }
}

/// The per-job CSV of a replay: `id,submit,start,end,procs,run,requested`, queue order.
enum ReplayCSV {
    static func render(_ outcome: ReplayOutcome) -> String {
        var out = "id,submit,start,end,procs,run,requested\n"
        out.reserveCapacity(outcome.starts.count * 40)
        for (job, start) in zip(outcome.workload.jobs, outcome.starts) {
            out += "\(job.id),\(job.submit),\(start),\(start + job.run),\(job.procs),\(job.run),\(job.requested)\n"
        }
        return out
    }
}
