import Foundation
import Testing

/// `chessctl queue` and `show job` read their plain command lines without ArgumentParser
/// (`PlainCommandLine`) and leave every other form to it. The same request in both spellings — `--socket PATH` (read
/// fast) and `--socket=PATH` (left to ArgumentParser) — must answer byte for byte alike.
@Suite("queue's and show job's fast command lines") struct QueueFastPathTests {
    @Test func everyOptionAnswersAsArgumentParserReadsIt() throws {
        let cluster = try TestCluster()
        try cluster.start()
        #expect(try cluster.ctl(["submit", "-J", "one", "--wrap", "true"]).status == 0)
        #expect(try cluster.ctl(["submit", "-J", "two", "-p", "gpu", "-H", "--wrap", "true"]).status == 0)
        #expect(try cluster.ctl(["submit", "-J", "three", "-a", "1-3", "--wrap", "true"]).status == 0)
        // Until a pass has given every job its reason (a listing taken across a pass differs).
        for _ in 0..<100 {
            let rows = try cluster.ctl(["queue", "-h", "-o", "reason"]).stdout.split(separator: "\n")
            if rows.count == 3 && !rows.contains(where: { $0.hasPrefix("None") }) { break }
            usleep(50_000)
        }
        let me = try #require(String(validatingCString: getpwuid(geteuid()).pointee.pw_name))
        let lines: [[String]] = [
            [], ["-h"], ["--noheader"], ["--json"], ["--start"], ["-s"], ["--steps", "--json"], ["--me"], ["-u", me], ["--user", "nobody"],
            ["-t", "PD"], ["--state", "PENDING,RUNNING"], ["-p", "gpu"], ["--partition", "batch"], ["-j", "1,3"], ["--jobs", "2"],
            ["-o", "id,name,state,reason"], ["--format", "%i %.5j %t"], ["-o", "%i|%L|%e|%y|%W", "-h"],
            ["-u", me, "-t", "PD", "-p", "batch", "-j", "1", "-o", "id,user", "-h"], ["--start", "-o", "id,start"],
            // Refused: the same error either way.
            ["-o", "id,colour"], ["-o", "%K"], ["-t", "SLEEPY"],
        ]
        for line in lines {
            let fast = try cluster.ctl(["queue"] + line + ["--socket", cluster.socket])
            let full = try cluster.ctl(["queue"] + line + ["--socket=\(cluster.socket)"])
            #expect(fast.status == full.status, "\(line)")
            #expect(fast.stdout == full.stdout, "\(line)")
            #expect(fast.stderr == full.stderr, "\(line)")
        }
        for line in [["1"], ["3"], ["1", "--json"], ["3_2"], ["99"], ["x1"], ["--json", "2"]] {
            let fast = try cluster.ctl(["show", "job"] + line + ["--socket", cluster.socket])
            let full = try cluster.ctl(["show", "job"] + line + ["--socket=\(cluster.socket)"])
            #expect(fast.status == full.status, "\(line)")
            #expect(fast.stdout == full.stdout, "\(line)")
            #expect(fast.stderr == full.stderr, "\(line)")
        }
        #expect(try cluster.ctl(["show", "job", "2", "--socket", cluster.socket]).stdout.split(separator: "\n")
            .contains { $0.split(separator: " ") == ["JobName", "two"] })
        #expect(try cluster.ctl(["show", "job", "1", "2"]).status != 0, "one job id")
        // The listing is what it should be, not only alike.
        let rows = try cluster.ctl(["queue", "-h", "-o", "id,name", "-j", "1,2", "--socket", cluster.socket]).stdout
        #expect(rows.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") } == ["1 one", "2 two"])
        // What the fast reading leaves alone still works: a repeated option (the last wins),
        // help, a missing value.
        let repeated = try cluster.ctl(["queue", "-h", "-o", "id", "-j", "1", "-j", "2"]).stdout
        #expect(repeated == "2\n", "\(repeated)")
        #expect(try cluster.ctl(["queue", "--help"]).stdout.contains("USAGE: chessctl queue"))
        let missing = try cluster.ctl(["queue", "-u"])
        #expect(missing.status != 0 && missing.stderr.contains("Missing value for '-u"), "\(missing.stderr)")
    }
}
