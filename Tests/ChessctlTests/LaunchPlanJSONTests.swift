import ChessAPI
import Foundation
import NodeSupervisor
import Testing

/// The supervisor reads `plan.json` and writes `result.json` without the generic coders (a new
/// process per job): the hand-written forms must read and write exactly what the Codable forms
/// do, for every field.
@Suite("Launch plan and result JSON") struct LaunchPlanJSONTests {
    /// Every field set, none left at nil: a field added to the plan or the launch and not to
    /// `init(scanning:)` fails `everyFieldIsReadAsTheCodableFormReadsIt`.
    static var fullPlan: LaunchPlan {
        var launch = JobLaunch(job: 42, arrayJobID: 40, arrayTaskID: 2, name: "n \"q\" \\ é \u{1F600}\ttab", user: "alice", uid: 1001,
                               gid: 1002, account: "phys", partition: "batch", script: "#!/bin/sh\necho \"$HOME\" > /tmp/x\n",
                               workdir: "/home/alice/run", output: "out-%j.txt", error: "/abs/err-%A_%a", environment:
                                   ["PATH": "/usr/bin:/bin", "EMPTY": "", "QUOTE": "a\"b", "NL": "1\n2", "URL": "http://x/y?z=1&w"],
                               timeLimit: 3600, nodeList: "n[01-02]",
                               nodes: [.init(node: "n01", cores: [0, 1, 2, 3], memoryMB: 4096, numa: [0], gpus: [0, 1]),
                                       .init(node: "n02", cores: [4, 5], memoryMB: 2048, numa: [1, 2], gpus: [])],
                               tasks: 6, cpusPerTask: 1, run: 3, cluster: "prod")
        launch.warningSignal = try! WarningSignal(parsing: "B:USR1@90")
        launch.appendOutput = true
        launch.prolog = "/etc/chess/prolog"
        launch.epilog = "/etc/chess/epilog"
        launch.prologEpilogTimeout = 120
        launch.arrayTaskCount = 5
        launch.arrayTaskMin = 1
        launch.arrayTaskMax = 9
        launch.requestedTasks = 6
        return LaunchPlan(launch: launch, node: "n01", cpus: [0, 1, 8, 9], mems: [0], memoryBytes: 4_294_967_296, gpus: [0, 1],
                          killWait: 30, clusterName: "prod", stepSocket: "/var/spool/chess/srun.sock",
                          toolsDirectory: "/usr/lib/chess/bin", groups: [1002, 27, 4_294_967_294])
    }

    static func nilFields(_ value: Any, path: String = "") -> [String] {
        Mirror(reflecting: value).children.flatMap { child -> [String] in
            let name = path + (child.label ?? "?")
            let m = Mirror(reflecting: child.value)
            if m.displayStyle == .optional && m.children.isEmpty { return [name] }
            if child.value is JobLaunch { return nilFields(child.value, path: name + ".") }
            return []
        }
    }

    @Test func theFullSampleLeavesNoFieldNil() {
        #expect(Self.nilFields(Self.fullPlan) == [])
    }

    @Test(arguments: [JSONEncoder.OutputFormatting(), [.sortedKeys], [.prettyPrinted, .withoutEscapingSlashes]])
    func everyFieldIsReadAsTheCodableFormReadsIt(formatting: JSONEncoder.OutputFormatting) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        let bytes = Array(try encoder.encode(Self.fullPlan))
        #expect(try LaunchPlan(scanning: bytes) == Self.fullPlan)
        #expect(try JSONDecoder().decode(LaunchPlan.self, from: Data(bytes)) == Self.fullPlan)
    }

    @Test func aPlanWithNothingOptionalReadsTheSame() throws {
        let launch = JobLaunch(job: 1, arrayJobID: nil, arrayTaskID: nil, name: "", user: "root", uid: nil, gid: nil, account: "a",
                               partition: "p", script: "", workdir: nil, output: nil, error: nil, environment: [:], timeLimit: nil,
                               nodeList: "h", nodes: [], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "h", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 0, clusterName: "c")
        let bytes = Array(try JSONEncoder().encode(plan))
        let read = try LaunchPlan(scanning: bytes)
        #expect(read == plan)
        #expect(read.launch.uid == nil, "no uid must stay no uid: root then runs nothing")
    }

    /// What the Codable form refuses, the scanner refuses too (the supervisor then tries the
    /// Codable form, which refuses it with a message); unknown keys are skipped by both.
    @Test func whatTheCodableFormRefusesIsRefused() throws {
        let sorted = JSONEncoder()
        sorted.outputFormatting = .sortedKeys
        let good = String(decoding: try sorted.encode(Self.fullPlan), as: UTF8.self)
        func variants() -> [String] {
            [
                good.replacingOccurrences(of: #""uid":1001"#, with: #""uid":-1"#),
                good.replacingOccurrences(of: #""uid":1001"#, with: #""uid":4294967296"#),
                good.replacingOccurrences(of: #""groups":[1002,"#, with: #""groups":[-1,"#),
                good.replacingOccurrences(of: #""job":42"#, with: #""job":"42""#),
                good.replacingOccurrences(of: #""job":42"#, with: #""job":99999999999999999999"#),
                good.replacingOccurrences(of: #""killWait":30"#, with: #""killWait":null"#),
                good.replacingOccurrences(of: #""killWait":30,"#, with: ""),
                good.replacingOccurrences(of: #""script":"#, with: #""scriptless":"#),
                good + "x",
                String(good.dropLast()),
            ]
        }
        for bad in variants() {
            #expect(bad != good)
            #expect(throws: (any Error).self, "\(bad)") { try LaunchPlan(scanning: Array(bad.utf8)) }
            #expect(throws: (any Error).self, "\(bad)") { try JSONDecoder().decode(LaunchPlan.self, from: Data(bad.utf8)) }
        }
        let extra = good.replacingOccurrences(of: #""killWait":30"#, with: #""killWait":30,"future":{"a":[1,{"b":null}]}"#)
        #expect(try LaunchPlan(scanning: Array(extra.utf8)) == Self.fullPlan)
    }

    @Test func aResultIsWrittenAsTheCodableFormWritesIt() throws {
        var result = JobCompletion(job: 7, state: "FAILED", exitCode: 3, signal: 9, startTime: 1_700_000_000, endTime: 1_700_000_060,
                                   cpuSeconds: 55, maxRSSMB: 120, gpuSeconds: 120, reason: "exit code 3 \"quoted\"\n", run: 2)
        result.drainReason = "epilog failed: /etc/chess/epilog"
        #expect(Self.nilFields(result).filter { $0 != "steps" } == [])
        for r in [result, JobCompletion(job: 1, state: "COMPLETED", exitCode: 0, endTime: 5)] {
            let hand = try #require(r.jsonBytesWithoutSteps)
            #expect(try JSONDecoder().decode(JobCompletion.self, from: Data(hand)) == r)
            let handObject = try JSONSerialization.jsonObject(with: Data(hand)) as! NSDictionary
            let codableObject = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! NSDictionary
            #expect(handObject == codableObject)
        }
        result.steps = []
        #expect(result.jsonBytesWithoutSteps == nil)
    }

    @Test func aSlashInACgroupNameBecomesAnUnderscore() {
        #expect(Cgroup.name(cluster: "a/b", node: "n/1", job: 5, run: 0) == "a_b_n_1_job_5")
        #expect(Cgroup.name(cluster: "c", node: "n", job: 5, run: 2) == "c_n_job_5.2")
    }
}
