import Foundation
import Spawning
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let sharedTraces = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data/swf")

/// The `chessctl` built next to this test bundle.
private let chessctl: URL = {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("chessctl").path),
          dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent("chessctl")
}()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs chessctl to completion; a run over two minutes is killed and fails the test.
func chessctlRun(_ arguments: [String]) throws -> Run {
    let ran = try ChildProcess.run(chessctl.path, arguments, timeout: 120)
    return Run(status: ran.status, stdout: ran.stdoutText, stderr: ran.stderrText)
}

private func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chessctl-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("chessctl simulate")
struct SimulateCommandTests {
    let trace = fixtures.appendingPathComponent("kth-head.swf.gz").path

    @Test func jsonHasExactlyTheMetricKeys() throws {
        let run = try chessctlRun(["simulate", "--policy", "easy", "--json", trace])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["jobs", "skipped", "skipped_by_reason", "truncated_to_requested", "avg_wait",
                                     "max_wait", "avg_bsld", "first_submit", "last_end", "makespan", "utilization"])
        #expect(object["jobs"] as? Int == 576)
        #expect(object["first_submit"] as? Int == 599850)
    }

    @Test func jobsCSVHasOneRowPerJobInQueueOrder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("jobs.csv").path
        let run = try chessctlRun(["simulate", "--policy", "conservative", "--limit", "50", "--jobs-csv", csv, "--json", trace])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "id,submit,start,end,procs,run,requested")
        #expect(lines.count == 51)
        var lastKey = (Int.min, Int.min)
        for row in lines.dropFirst() {
            let f = row.split(separator: ",").map { Int($0)! }
            #expect(f.count == 7)
            #expect(f[2] >= f[1])            // starts after submit
            #expect(f[3] == f[2] + f[5])     // end = start + run
            #expect(f[5] <= f[6])            // run <= requested
            #expect((f[1], f[0]) >= lastKey) // (submit, id) order
            lastKey = (f[1], f[0])
        }
    }

    @Test func policiesDifferOnTheSameTrace() throws {
        var waits: [String: Double] = [:]
        for policy in ["fcfs", "easy", "conservative"] {
            let run = try chessctlRun(["simulate", "--policy", policy, "--json", trace])
            #expect(run.status == 0)
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            waits[policy] = object?["avg_wait"] as? Double
        }
        #expect(waits["easy"]! < waits["fcfs"]!)
        #expect(waits["conservative"]! < waits["fcfs"]!)
    }

    @Test func humanSummaryIsReadable() throws {
        let run = try chessctlRun(["simulate", trace])
        #expect(run.status == 0)
        #expect(run.stdout.contains("policy                easy"))
        #expect(run.stdout.contains("jobs simulated        576"))
        #expect(run.stdout.contains("utilization"))
    }

    @Test func progressIsReportedOnRequest() throws {
        let run = try chessctlRun(["simulate", "--progress", "--json", trace])
        #expect(run.status == 0)
        #expect(run.stderr.contains("replaying easy: 100% (576/576 jobs)"))
    }

    @Test func badInputGetsAClearErrorAndNonZeroStatus() throws {
        let missing = try chessctlRun(["simulate", "/nonexistent/trace.swf"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("/nonexistent/trace.swf: no such file"))

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let headerless = dir.appendingPathComponent("no-header.swf")
        try "1 0 -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n".write(to: headerless, atomically: true, encoding: .utf8)
        let noSize = try chessctlRun(["simulate", headerless.path])
        #expect(noSize.status != 0)
        #expect(noSize.stderr.contains("\(headerless.path): no positive machine size"))

        let badPolicy = try chessctlRun(["simulate", "--policy", "lifo", trace])
        #expect(badPolicy.status != 0)
        #expect(badPolicy.stderr.contains("lifo"))

        let badLimit = try chessctlRun(["simulate", "--limit", "-3", trace])
        #expect(badLimit.status != 0)
        #expect(badLimit.stderr.contains("--limit"))
    }

    @Test func malformedLinesAreSkippedCountedAndLocated() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mixed.swf")
        try """
            ; MaxProcs: 4
            1 0 -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1
            this is not a job
            2 1 -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1

            """.write(to: path, atomically: true, encoding: .utf8)
        let run = try chessctlRun(["simulate", path.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("\(path.path):3"))
        #expect(run.stdout.contains("malformed 1"))
    }

    /// Issue 2's target: every real trace in shared/data replays under all three policies. The
    /// full traces run in the benchmark; here each is replayed far enough to cross its busy periods.
    @Test(arguments: ["fcfs", "easy", "conservative"])
    func everySharedTraceReplays(policy: String) throws {
        let traces = (try? FileManager.default.contentsOfDirectory(atPath: sharedTraces.path)) ?? []
        try #require(!traces.isEmpty, "no traces at \(sharedTraces.path)")
        for name in traces.sorted() {
            let run = try chessctlRun(["simulate", "--policy", policy, "--limit", "5000", "--json",
                                       sharedTraces.appendingPathComponent(name).path])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(object?["jobs"] as? Int == 5000, "\(name)")
        }
    }
}

@Suite("chessctl simulate --scenario")
struct SimulateScenarioTests {
    let scenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/scenarios/small-cluster.json").path

    @Test(arguments: ["fifo", "easy", "conservative"])
    func theExampleRunsUnderEveryPolicy(policy: String) throws {
        let run = try chessctlRun(["simulate", "--scenario", scenario, "--policy", policy, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["jobs"] as? Int == 54)
        #expect(object["never_started"] as? Int == 2)
        #expect(object["preemptions"] as? Int == 1)
        let states = try #require(object["states"] as? [String: Int])
        #expect(states["TIMEOUT"] == 1 && states["FAILED"] == 1)
    }

    @Test func perJobCSVShowsReasonsAndNodeLists() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chessctl-scn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("jobs.csv").path
        let run = try chessctlRun(["simulate", "--scenario", scenario, "--jobs-csv", csv])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("policy             easy"))
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text.hasPrefix("id,array_job,array_task,user,partition,qos,submit,start,end,state,nodes,cores,preemptions,reason\n"))
        #expect(text.contains("\n9,,,bob,batch,normal,1100,,,PENDING,\"\",0,0,PartitionTimeLimit\n"))
        #expect(text.contains("\n8,,,carol,batch,normal,1000,7200,10200,COMPLETED,\"cpu[15-16]\",64,0,\n"))
    }

    @Test func badUseIsRefusedClearly() throws {
        let both = try chessctlRun(["simulate", "--scenario", scenario, "trace.swf"])
        #expect(both.status != 0 && both.stderr.contains("not both"))
        let neither = try chessctlRun(["simulate"])
        #expect(neither.status != 0 && neither.stderr.contains("--scenario"))
        let missing = try chessctlRun(["simulate", "--scenario", "/nonexistent.json"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent.json: no such file"))
    }
}
