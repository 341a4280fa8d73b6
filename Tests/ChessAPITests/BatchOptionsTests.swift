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
            #SBATCH --signal=B:USR1@90 --open-mode=append --no-requeue
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
        XCTAssertEqual(s.signal, "B:USR1@90")
        XCTAssertEqual(s.openMode, "append")
        XCTAssertEqual(s.requeue, false)
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
        XCTAssertFalse(r.client.wait)
        XCTAssertEqual(r.operands, ["job.sh", "-J", "script-arg"])
        XCTAssertTrue(try BatchOptions.apply(["-W", "job.sh"], to: s, now: now, clientOptions: true, stopAtOperand: true).client.wait)
        XCTAssertTrue(try BatchOptions.apply(["--wait", "job.sh"], to: s, now: now, clientOptions: true, stopAtOperand: true).client.wait)
        XCTAssertTrue(try BatchOptions.apply(["--test-only", "job.sh"], to: s, now: now, clientOptions: true, stopAtOperand: true).client.testOnly)
        XCTAssertThrowsError(try BatchOptions.apply(["--test-only"], to: s, now: now, clientOptions: false, stopAtOperand: false)) { e in
            XCTAssertTrue("\(e)".contains("--test-only goes on the command line"), "\(e)")
        }
    }

    /// `--nice` alone is 100 and never takes the next word (the script) as its value.
    func testNiceTakesItsValueOnlyAfterAnEqualsSign() throws {
        let alone = try BatchOptions.apply(["--nice", "job.sh"], to: JobSubmission(), now: now, clientOptions: true, stopAtOperand: true)
        XCTAssertEqual(alone.submission.nice, 100)
        XCTAssertEqual(alone.operands, ["job.sh"])
        XCTAssertEqual(try BatchOptions.apply(["--nice=-5"], to: JobSubmission(), now: now, clientOptions: false, stopAtOperand: false).submission.nice, -5)
        XCTAssertThrowsError(try BatchOptions.apply(["--nice=lots"], to: JobSubmission(), now: now, clientOptions: false, stopAtOperand: false)) { e in
            XCTAssertTrue("\(e)".contains("--nice=lots: expected a whole number"), "\(e)")
        }
    }

    func testBeginTimes() throws {
        XCTAssertEqual(try BatchOptions.beginTime("now+90", now: now), now + 90)
        XCTAssertEqual(try BatchOptions.beginTime("now+2hours", now: now), now + 7200)
        XCTAssertEqual(try BatchOptions.beginTime("1900000000", now: now), 1_900_000_000)
        XCTAssertThrowsError(try BatchOptions.beginTime("tomorrowish", now: now))
    }

    /// `--begin`'s dates are read with libc (sbatch links no Foundation): they must mean what
    /// Foundation's DateFormatter made of them before, in this process's time zone, and dates
    /// that do not exist must still be refused.
    func testBeginDatesMeanWhatDateFormatterRead() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        var rng = SystemRandomNumberGenerator()
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
        for _ in 0..<300 {
            let (y, mo, d) = (Int.random(in: 1971...2099, using: &rng), Int.random(in: 1...12, using: &rng), Int.random(in: 1...28, using: &rng))
            let (h, mi, sec) = (Int.random(in: 0...23, using: &rng), Int.random(in: 0...59, using: &rng), Int.random(in: 0...59, using: &rng))
            for (text, format) in [("\(y)-\(two(mo))-\(two(d))T\(two(h)):\(two(mi)):\(two(sec))", "yyyy-MM-dd'T'HH:mm:ss"),
                                   ("\(y)-\(two(mo))-\(two(d))T\(two(h)):\(two(mi))", "yyyy-MM-dd'T'HH:mm"),
                                   ("\(y)-\(two(mo))-\(two(d))", "yyyy-MM-dd")] {
                formatter.dateFormat = format
                let expected = Int(try XCTUnwrap(formatter.date(from: text), text).timeIntervalSince1970)
                XCTAssertEqual(try BatchOptions.beginTime(text, now: now), expected, text)
            }
            // A time of day alone: today at that time, tomorrow once it has passed.
            let clock = "\(two(h)):\(two(mi))"
            let t = try BatchOptions.beginTime(clock, now: now)
            XCTAssertTrue(t >= now && t < now + 86400 + 3600, clock)
            XCTAssertEqual(SlurmTime.timestamp(t).suffix(8), "\(clock):00", clock)
        }
        XCTAssertEqual(try BatchOptions.beginTime("2026-12-01", now: now), try BatchOptions.beginTime("2026-12-01T00:00:00", now: now))
        for bad in ["2026-02-30", "2026-13-01", "2026-00-10", "2026-12-01T24:00", "2026-12-01T12:60", "12:00:60", "26-12-01",
                    "2026-12-01T", "T12:00", "12", "12:00:00:00", "2026--01", "2026-12-01T12:00T1"] {
            XCTAssertThrowsError(try BatchOptions.beginTime(bad, now: now), bad)
        }
    }

    func testErrorsNameTheLineAndTheOption() {
        let bad: [(String, String)] = [
            ("#!/bin/sh\n#SBATCH --nodes=zero\n", "line 2: --nodes=zero"),
            ("#!/bin/sh\n\n#SBATCH --frobnicate\n", "line 3: unrecognized option --frobnicate"),
            ("#!/bin/sh\n#SBATCH --job-name='open\n", "line 2: unterminated quote"),
            ("#!/bin/sh\n#SBATCH --gres=license:2\n", "only gpu"),
            ("#!/bin/sh\n#SBATCH -a 5-1\n", "line 2: --array"),
            ("#!/bin/sh\n#SBATCH --time\n", "--time needs a value"),
            ("#!/bin/sh\n#SBATCH --signal=B:FOO@5\n", "line 2: --signal: 'B:FOO@5': unknown signal 'FOO'"),
            ("#!/bin/sh\n#SBATCH --open-mode=overwrite\n", "line 2: --open-mode: 'overwrite' is not append or truncate"),
            ("#!/bin/sh\n#SBATCH --export=NONE,1X=2\n", "line 2: --export: '1X=2' is not NAME or NAME=value"),
            ("#!/bin/sh\n#SBATCH --uid=alice\n", "line 2: --uid is not supported: submit as the job's user"),
        ]
        for (script, fragment) in bad {
            XCTAssertThrowsError(try BatchOptions.applyDirectives(of: script, to: JobSubmission(), now: now)) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(script): \(e)")
            }
        }
    }
}

final class WarningSignalTests: XCTestCase {
    /// sbatch's `--signal=[{R|B}:]SIG[@TIME]`: names or numbers, 60 s by default, B for the
    /// batch shell alone.
    func testSbatchForms() throws {
        let b = try WarningSignal(parsing: "B:USR1@90")
        XCTAssertEqual([b.signal, "\(b.secondsBefore)", "\(b.batchOnly)"], ["USR1", "90", "true"])
        let plain = try WarningSignal(parsing: "sigusr2")
        XCTAssertEqual([plain.signal, "\(plain.secondsBefore)", "\(plain.batchOnly)"], ["USR2", "60", "false"])
        let numbered = try WarningSignal(parsing: "R:10@5")
        XCTAssertEqual([numbered.signal, "\(numbered.secondsBefore)", "\(numbered.batchOnly)"], ["USR1", "5", "false"])
        XCTAssertEqual(b.description, "B:USR1@90")
        for (bad, fragment) in [("USR1@soon", "the time after @"), ("X:USR1", "only B"), ("STOP", "unknown signal 'STOP'"), ("@5", "unknown signal ''")] {
            XCTAssertThrowsError(try WarningSignal(parsing: bad)) { e in XCTAssertTrue("\(e)".contains(fragment), "\(bad): \(e)") }
        }
    }
}

final class SqueueFormatTests: XCTestCase {
    /// squeue's own default format gives squeue's header, and its widths pad and truncate.
    func testSlurmsDefaultFormat() throws {
        let f = try SqueueFormat("%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R")
        XCTAssertEqual(f.header(), "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)")
        var j = JobInfo(id: 42, displayID: "42", name: "a-very-long-name", user: "alice", account: "phys", partition: "batch",
                        qos: "normal", state: "PENDING", submitTime: 0, nodes: 2, cpus: 8, memoryMB: 0, gpus: 0)
        j.reason = "Resources"
        XCTAssertEqual(f.row(j, now: 100), "                42     batch a-very-l    alice PD       0:00      2 (Resources)")
        XCTAssertEqual(try SqueueFormat("%i|%j|%-6u|%%").row(j, now: 0), "42|a-very-long-name|alice |%")
        XCTAssertEqual(try SqueueFormat("%5j|").row(j, now: 0), "a-ver|")
        XCTAssertThrowsError(try SqueueFormat("%z")) { e in XCTAssertTrue("\(e)".contains("a field is %[.][width]LETTER"), "\(e)") }
        XCTAssertThrowsError(try SqueueFormat("%.8"))
    }
}

final class ExportSpecTests: XCTestCase {
    /// sbatch's `--export` forms over a submitter's environment.
    func testForms() throws {
        let env = ["PATH": "/bin", "HOME": "/home/a", "SLURM_CONF": "/etc/slurm.conf", "CHESS_SOCKET": "/s"]
        XCTAssertEqual(try ExportSpec.apply("ALL", to: env), env)
        XCTAssertEqual(try ExportSpec.apply("ALL,FOO=a=b", to: env), env.merging(["FOO": "a=b"]) { _, n in n })
        XCTAssertEqual(try ExportSpec.apply("NONE", to: env), ["SLURM_CONF": "/etc/slurm.conf", "CHESS_SOCKET": "/s"])
        XCTAssertEqual(try ExportSpec.apply("NIL,FOO=1", to: env), ["FOO": "1"])
        XCTAssertEqual(try ExportSpec.apply("PATH,MISSING,FOO=", to: env),
                       ["PATH": "/bin", "FOO": "", "SLURM_CONF": "/etc/slurm.conf", "CHESS_SOCKET": "/s"])
        XCTAssertThrowsError(try ExportSpec.apply("", to: env))
        XCTAssertThrowsError(try ExportSpec.apply("PATH,A-B", to: env)) { e in XCTAssertTrue("\(e)".contains("'A-B' is not NAME or NAME=value"), "\(e)") }
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
        s.signal = "B:USR1@60"
        s.openMode = "append"
        s.export = "NONE,FOO=bar"
        s.requeue = false
        s.nodelist = "n[01-02]"
        s.exclude = "n03"
        s.nice = -7
        s.cpusPerGPU = 8
        s.licenses = "matlab:2"
        s.memPerGPUMB = 81920
        let hand = try JSONSerialization.jsonObject(with: Data(s.jsonBytes)) as! NSDictionary
        let codable = try JSONSerialization.jsonObject(with: WireJSON.encode(s)) as! NSDictionary
        XCTAssertEqual(hand, codable)
        XCTAssertEqual(try WireJSON.decode(JobSubmission.self, from: Data(s.jsonBytes)), s)
        XCTAssertEqual(JobSubmission().jsonBytes, Array("{}".utf8))
        // And the fast reader reads both forms back.
        XCTAssertEqual(try JobSubmission(scanning: s.jsonBytes), s)
        XCTAssertEqual(try JobSubmission(scanning: Array(WireJSON.encode(s))), s)
        XCTAssertThrowsError(try JobSubmission(scanning: Array("{\"nodes\":\"two\"}".utf8)))
        XCTAssertThrowsError(try JobSubmission(scanning: Array("{\"nodes\":2} x".utf8)))
    }

    /// A job's environment as the store keeps it (`JSONWriter.object`): what JSONDecoder reads
    /// back is the environment, whatever bytes its names and values hold.
    func testEnvironmentObjectsReadBackAsWritten() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "_", "=", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1B}", "\u{7F}", "é", "💡", "\u{2028}", " "]
        for _ in 0..<300 {
            var env: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let name = String((0..<Int.random(in: 1...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                env[name] = String((0..<Int.random(in: 0...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            }
            let bytes = JSONWriter.object(env)
            XCTAssertEqual(try JSONDecoder().decode([String: String].self, from: Data(bytes)), env)
            var scanner = JSONScanner(bytes)
            XCTAssertEqual(try scanner.stringDictionary(), env)
        }
        XCTAssertEqual(JSONWriter.object([:]), Array("{}".utf8))
        XCTAssertEqual(JSONWriter.object(["B": "2", "A": "1"]), Array(#"{"A":"1","B":"2"}"#.utf8))
    }
}

final class JSONScannerTests: XCTestCase {
    func sample(_ i: Int, full: Bool) -> JobInfo {
        var j = JobInfo(id: i, displayID: "\(i)_[1-3%2]", name: "n \"q\" \\ é \u{1F600}", user: "alice", account: "phys",
                        partition: "batch", qos: "normal", state: "PENDING", submitTime: 1_700_000_000 + i, nodes: 2, cpus: 16,
                        memoryMB: 4096, gpus: 1)
        if full {
            j.arrayJobID = 3; j.arrayTaskID = 4; j.arrayPending = "1-3"; j.reason = "Resources\nwith break"; j.priority = -5
            j.eligibleTime = 1; j.startTime = 2; j.endTime = 3; j.plannedStart = 4; j.timeLimit = 3600; j.nodeList = "n[01-02]"
            j.exitCode = 0; j.dependency = "afterok:1"; j.workdir = "/home/a"; j.output = "o"; j.error = "e"
            j.unavailableNodes = "n[03-04]"
            j.requiredNodes = "n01"; j.excludedNodes = "n[05-06]"; j.nice = 100; j.licenses = "matlab:1"
        }
        return j
    }

    /// The hand-written list is the Codable list, byte for byte, and scans back to the same values.
    func testJobListWriterAndScannerAgreeWithCodable() throws {
        let list = JobList(jobs: [sample(1, full: true), sample(2, full: false), sample(3, full: true)])
        XCTAssertEqual(String(decoding: list.jsonBytes, as: UTF8.self), String(decoding: WireJSON.encode(list), as: UTF8.self))
        XCTAssertEqual(try JobList(scanning: list.jsonBytes), list)
        XCTAssertEqual(try JobList(scanning: Array(WireJSON.encode(list))), list)
        XCTAssertEqual(try JobList(scanning: Array("{\"jobs\":[],\"extra\":{\"a\":[1,2,{\"b\":null}]}}".utf8)).jobs, [])
        XCTAssertThrowsError(try JobList(scanning: Array("{\"jobs\":[{\"id\":}]}".utf8)))
    }
}
