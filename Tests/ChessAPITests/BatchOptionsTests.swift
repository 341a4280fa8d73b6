import XCTest
@testable import ChessAPI

final class BatchOptionsTests: XCTestCase {
    let now = 1_800_000_000

    func testDirectivesAreReadUntilTheFirstCommand() throws {
        let script = """
            #!/bin/bash
            # a plain comment
            #SBATCH --job-name="my job" -N 2   # trailing comment
            #SBATCH --ntasks-per-node=4 -c2
            #SBATCH --gres=gpu:a100:2
            #SBATCH --mem-per-cpu=500M
            #CHESS --time=1-12 --exclusive
            #SBATCHX --not-a-directive
            #SBATCH --array=0-9%3 --dependency=afterok:5
            hostname
            #SBATCH --partition=late
            """
        let (s, warnings) = try BatchOptions.applyDirectives(of: script, to: JobSubmission(), now: now)
        XCTAssertEqual(s.name, "my job")
        XCTAssertEqual(s.nodes, 2)
        XCTAssertEqual(s.ntasksPerNode, 4)
        XCTAssertEqual(s.cpusPerTask, 2)
        XCTAssertEqual(s.gpus, 2)
        XCTAssertEqual(s.gpuType, "a100")
        XCTAssertEqual(s.memPerCPUMB, 500)
        XCTAssertEqual(s.timeLimit, 36 * 3600)
        XCTAssertEqual(s.exclusive, true)
        XCTAssertEqual(s.array, "0-9%3")
        XCTAssertEqual(s.dependency, "afterok:5")
        XCTAssertNil(s.partition)
        XCTAssertTrue(warnings.isEmpty)
    }

    func testCommandLineOverridesAndStopsAtTheScript() throws {
        var s = JobSubmission()
        s.name = "from-script"
        s.memMB = 100
        let r = try BatchOptions.apply(["-J", "cli", "--mem-per-cpu=2G", "--parsable", "job.sh", "-J", "script-arg"],
                                       to: s, now: now, clientOptions: true, stopAtOperand: true)
        XCTAssertEqual(r.submission.name, "cli")
        XCTAssertNil(r.submission.memMB)
        XCTAssertEqual(r.submission.memPerCPUMB, 2048)
        XCTAssertTrue(r.client.parsable)
        XCTAssertEqual(r.operands, ["job.sh", "-J", "script-arg"])
    }

    func testBeginTimes() throws {
        XCTAssertEqual(try BatchOptions.beginTime("now+90", now: now), now + 90)
        XCTAssertEqual(try BatchOptions.beginTime("now+2hours", now: now), now + 7200)
        XCTAssertEqual(try BatchOptions.beginTime("1900000000", now: now), 1_900_000_000)
        XCTAssertThrowsError(try BatchOptions.beginTime("tomorrowish", now: now))
    }

    func testErrorsNameTheLineAndTheOption() {
        let bad: [(String, String)] = [
            ("#!/bin/sh\n#SBATCH --nodes=zero\n", "line 2: --nodes=zero"),
            ("#!/bin/sh\n\n#SBATCH --frobnicate\n", "line 3: unrecognized option --frobnicate"),
            ("#!/bin/sh\n#SBATCH --job-name='open\n", "line 2: unterminated quote"),
            ("#!/bin/sh\n#SBATCH --gres=license:2\n", "only gpu"),
            ("#!/bin/sh\n#SBATCH -a 5-1\n", "line 2: --array"),
            ("#!/bin/sh\n#SBATCH --time\n", "--time needs a value"),
        ]
        for (script, fragment) in bad {
            XCTAssertThrowsError(try BatchOptions.applyDirectives(of: script, to: JobSubmission(), now: now)) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(script): \(e)")
            }
        }
    }
}

final class JSONWriterTests: XCTestCase {
    /// The hand-written submission JSON says exactly what the Codable one says.
    func testSubmissionJSONMatchesTheCodableForm() throws {
        var s = JobSubmission()
        s.name = "quote \" backslash \\ newline \n tab \t bell \u{7} é"
        s.script = "#!/bin/sh\necho hi\n"
        s.nodes = 2
        s.memPerCPUMB = 512
        s.exclusive = true
        s.hold = false
        s.environment = ["PATH": "/bin", "EMPTY": ""]
        s.dependency = "afterok:1"
        let hand = try JSONSerialization.jsonObject(with: Data(s.jsonBytes)) as! NSDictionary
        let codable = try JSONSerialization.jsonObject(with: WireJSON.encode(s)) as! NSDictionary
        XCTAssertEqual(hand, codable)
        XCTAssertEqual(try WireJSON.decode(JobSubmission.self, from: Data(s.jsonBytes)), s)
        XCTAssertEqual(JobSubmission().jsonBytes, Array("{}".utf8))
    }
}
