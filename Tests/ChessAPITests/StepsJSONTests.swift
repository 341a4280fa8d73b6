import Foundation
@testable import ChessAPI
import Testing

/// srun writes and reads the step protocol without the generic coders (`StepsJSON`); the agent
/// and the supervisor use the Codable forms. Both sides must mean the same bytes.
@Suite("srun's step JSON") struct StepsJSONTests {
    @Test func aRequestIsWhatTheAgentDecodes() throws {
        var rng = SystemRandomNumberGenerator()
        let words = ["a.out", "-n", "it's", "quote\"d", "back\\slash", "line\nbreak", "é💡", "\u{1B}[2J", ""]
        for _ in 0..<200 {
            func maybe<T>(_ v: T) -> T? { Bool.random(using: &rng) ? v : nil }
            var env: [String: String] = [:]
            for i in 0..<Int.random(in: 0...6, using: &rng) { env["V\(i)"] = words.randomElement(using: &rng)! }
            let request = StepRequest(job: Int.random(in: 1...1_000_000, using: &rng),
                                      argv: (0..<Int.random(in: 1...5, using: &rng)).map { _ in words.randomElement(using: &rng)! },
                                      environment: env, workdir: "/home/u/" + words.randomElement(using: &rng)!,
                                      tasks: maybe(Int.random(in: 1...64, using: &rng)), nodes: maybe(2), tasksPerNode: maybe(4),
                                      cpusPerTask: maybe(3), label: Bool.random(using: &rng), killOnBadExit: Bool.random(using: &rng),
                                      overlap: Bool.random(using: &rng), name: maybe(words.randomElement(using: &rng)!),
                                      pmi: maybe(Bool.random(using: &rng)))
            #expect(try JSONDecoder().decode(StepRequest.self, from: Data(request.jsonBytes)) == request)
        }
    }

    @Test func startsAndEndsReadAsTheAgentWritesThem() throws {
        let starts = [StepStart(step: 3, nodeList: "n[01-02]", tasks: 4, tasksPerNode: [2, 2], warnings: ["fewer nodes"]),
                      StepStart(step: 0, nodeList: "n01", tasks: 1, tasksPerNode: [1], warnings: []),
                      StepStart(error: "the job's CPUs are busy", retry: true), StepStart(error: "no such job")]
        for start in starts {
            #expect(try StepStart(scanning: Array(JSONEncoder().encode(start))) == start)
        }
        var killed = StepEnd.Task(task: 1, node: "n02", exitCode: 0, signal: 9)
        killed.cpuMicroseconds = 12_000
        killed.maxRSSKB = 2048
        let ends = [StepEnd(step: 2, tasks: [StepEnd.Task(task: 0, node: "n01", exitCode: 3, signal: nil), killed], reason: nil),
                    StepEnd(step: 5, tasks: [], reason: "the job ended")]
        for end in ends {
            let read = try StepEnd(scanning: Array(JSONEncoder().encode(end)))
            #expect(read == end && read.exitStatus == end.exitStatus)
        }
        #expect(throws: (any Error).self) { try StepEnd(scanning: Array(#"{"tasks":[]}"#.utf8)) }
        #expect(throws: (any Error).self) { try StepStart(scanning: Array(#"{"step":"one"}"#.utf8)) }
    }
}
