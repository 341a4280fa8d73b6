import ArgumentParser
import ChessAPI
import Foundation
import SchedulerCore

/// `chessctl simulate`: replays a Standard Workload Format trace on a flat machine with the
/// rules of SIMULATION.md, so an admin can compare policies on a real workload before using one.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a Standard Workload Format trace under a scheduling policy.",
        discussion: """
            TRACE is an .swf file, plain or gzip-compressed. The machine size comes from its \
            '; MaxProcs:' (or '; MaxNodes:') header. Prints wait, slowdown and utilization figures; \
            --json prints them as one JSON object.
            """
    )

    @Option(help: "Queue policy: fcfs, easy or conservative.")
    var policy: ReplayPolicy = .easy

    @Option(help: "Replay only the first K jobs that pass the checks.")
    var limit: Int?

    @Option(name: .customLong("jobs-csv"), help: "Write each simulated job's start and end to this CSV file.")
    var jobsCSV: String?

    @Flag(help: "Print the metrics as a JSON object.")
    var json = false

    @Flag(help: "Report progress on standard error even when it is not a terminal.")
    var progress = false

    @Argument(help: "The trace file (.swf or .swf.gz).")
    var trace: String

    func validate() throws {
        if let limit, limit < 0 {
            throw ValidationError("--limit must be zero or more, got \(limit)")
        }
    }

    func run() throws {
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
            printSummary(metrics, workload: workload, elapsed: elapsed)
        }
    }

    private func printSummary(_ m: ReplayMetrics, workload: SWFWorkload, elapsed: Duration) {
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
        let width = rows.map(\.0.count).max() ?? 0
        for (key, value) in rows {
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
        }
    }
}

extension ReplayPolicy: ExpressibleByArgument {}

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
