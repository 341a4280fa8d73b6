import ChessAPI
import Foundation
import SchedulerCore
import Testing

private let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/scenarios")

private func parse(_ json: String) throws -> Scenario { try ScenarioFile.parse(Data(json.utf8), path: "s.json") }

private func error(_ json: String) -> String {
    do { _ = try parse(json); return "no error" } catch { return "\(error)" }
}

private let minimal = """
    {"nodes": [{"names": "n[1-2]", "cores_per_socket": 8, "memory_mb": 1000}],
     "partitions": [{"name": "p", "nodes": "n[1-2]"}],
     "jobs": [JOBS]}
    """

@Suite("Scenario files")
struct ScenarioFileTests {
    @Test func theExampleScenarioLoads() throws {
        let s = try ScenarioFile.load(path: examples.appendingPathComponent("small-cluster.json").path)
        #expect(s.cluster.nodes.count == 18)
        #expect(s.cluster.nodes.first { $0.name == "gpu01" }?.topology.gpus.count == 4)
        #expect(s.cluster.partitions.map(\.name) == ["batch", "gpu"])
        #expect(s.cluster.qos(named: "urgent")?.preempt == ["spot"])
        #expect(s.configuration.policy == .easy)
        let array = try #require(s.jobs.first { $0.job.id == 3 })
        #expect(array.job.array == ArrayTasks(pending: Array(1...40), maxRunning: 8))
        #expect(s.jobs.first { $0.job.id == 4 }?.job.dependencies == [Dependency(.afterok, [2])])
        #expect(s.jobs.first { $0.job.id == 11 }?.job.singleton == true)
    }

    @Test func jobsGetTheirRequest() throws {
        let s = try parse(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 7, "submit": 5, "run": 60, "time": 120, "user": "u", "partition": "p", "nodes": 2,
             "ntasks_per_node": 4, "mem_per_cpu_mb": 100, "gpus_per_task": 1, "constraint": "a&b|c", "exclusive": true}
            """))
        let j = try #require(s.jobs.first)
        #expect(j.run == 60)
        #expect(j.job.request.nodes == 2 && j.job.request.tasksPerNode == 4)
        #expect(j.job.request.memory == .perCPU(100))
        #expect(j.job.request.gpus == GPURequest(count: 1, per: .perTask))
        #expect(j.job.request.constraint?.description == "a&b|c")
        #expect(j.job.request.exclusive == true)
    }

    @Test func errorsNameTheFileThePlaceAndTheProblem() {
        #expect(error(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 1, "submit": 0, "run": 1, "user": "u", "partition": "nope"}
            """)) == "s.json: jobs[0].partition: unknown partition 'nope'; defined: p")
        #expect(error(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 1, "submit": 0, "run": 1, "user": "u", "partition": "p", "tme": 5}
            """)).hasPrefix("s.json: jobs[0].tme: unknown key"))
        #expect(error(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 1, "submit": 0, "run": "long", "user": "u", "partition": "p"}
            """)) == "s.json: jobs[0].run: expected a whole number")
        #expect(error(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 1, "submit": 0, "run": 1, "user": "u", "partition": "p", "array": "5-1"}
            """)).contains("jobs[0].array: --array"))
        #expect(error(minimal.replacingOccurrences(of: "JOBS", with: """
            {"id": 1, "submit": 0, "user": "u", "partition": "p"}
            """)) == "s.json: jobs[0].run: missing (required)")
        #expect(error("{\n\"nodes\": [\n}").hasPrefix("s.json: line 3: not valid JSON"))
        #expect(error(minimal.replacingOccurrences(of: "n[1-2]\"}]", with: "n[1-3]\"}]")
                        .replacingOccurrences(of: "JOBS", with: "")).contains("node 'n3' is not defined"))
    }
}

@Suite("Job option syntax")
struct JobSpecSyntaxTests {
    @Test func arrays() throws {
        #expect(try JobSpecSyntax.array("1-5%2") == ArrayTasks(pending: [1, 2, 3, 4, 5], maxRunning: 2))
        #expect(try JobSpecSyntax.array("0-10:5,7").pending == [0, 5, 7, 10])
        for bad in ["", "5-1", "1-2%0", "a", "1-2:0", "1--2"] {
            #expect(throws: JobSpecSyntax.Error.self, "\(bad)") { try JobSpecSyntax.array(bad) }
        }
    }

    @Test func dependencies() throws {
        let d = try JobSpecSyntax.dependencies("afterok:12:13,afterany:14,singleton")
        #expect(d.dependencies == [Dependency(.afterok, [12, 13]), Dependency(.afterany, [14])])
        #expect(d.singleton)
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.dependencies("afterok:1?afterany:2") }
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.dependencies("before:1") }
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.dependencies("afterok") }
    }

    @Test func timeLimitsInSlurmForms() throws {
        #expect(try JobSpecSyntax.timeLimit("30") == 1800)
        #expect(try JobSpecSyntax.timeLimit("10:30") == 630)
        #expect(try JobSpecSyntax.timeLimit("2:00:00") == 7200)
        #expect(try JobSpecSyntax.timeLimit("1-12") == 129_600)
        #expect(try JobSpecSyntax.timeLimit("1-00:00:01") == 86401)
        #expect(try JobSpecSyntax.timeLimit("UNLIMITED") == nil)
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.timeLimit("1:2:3:4") }
    }

    @Test func memorySizes() throws {
        #expect(try JobSpecSyntax.memoryMB("4000") == 4000)
        #expect(try JobSpecSyntax.memoryMB("4G") == 4096)
        #expect(try JobSpecSyntax.memoryMB("1t") == 1_048_576)
        #expect(try JobSpecSyntax.memoryMB("1536K") == 2)
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.memoryMB("4X") }
    }
}
