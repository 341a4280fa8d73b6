import ChessAPI
import Foundation
import Testing

/// Job mail as Slurm's MailProg: chessd runs `mail_program -s SUBJECT RECIPIENT` for the events
/// `--mail-type` asks for, with Slurm's subject lines; here the program is a real script that
/// records its calls.
@Suite("End to end: job mail", .serialized)
struct JobMailEndToEndTests {
    struct Call: Equatable {
        var subject: String
        var recipient: String
        var job: String
        var type: String
    }

    /// A folder with `record-mail`, which appends one line per call, and `calls`, the lines.
    static func recorder(exitCode: Int = 0) throws -> URL {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("chess-mail-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("record-mail")
        try """
            #!/bin/sh
            [ "$1" = "-s" ] || { echo "expected -s SUBJECT RECIPIENT" >&2; exit 2; }
            printf '%s\\t%s\\t%s\\t%s\\n' "$2" "$3" "$SLURM_JOB_ID" "$SLURM_JOB_MAIL_TYPE" >> '\(dir.path)/calls'
            echo "recorded"
            exit \(exitCode)
            """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return dir
    }

    static func calls(_ dir: URL) -> [Call] {
        let text = (try? String(contentsOf: dir.appendingPathComponent("calls"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Call(subject: f[0], recipient: f.count > 1 ? f[1] : "", job: f.count > 2 ? f[2] : "", type: f.count > 3 ? f[3] : "")
        }
    }

    @Test func eventsSendSlurmsMails() throws {
        let mail = try Self.recorder()
        defer { try? FileManager.default.removeItem(at: mail) }
        let c = try EndToEndTests.Running(top: "mail_program = \"\(mail.path)/record-mail\"\nmail_domain = \"example.org\"")
        try c.wait("the host to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }

        let ok = try c.submit(["-J", "ok", "--mail-type=BEGIN,END", "--mail-user=alice@example.com", "--wrap", "true"])
        let failing = try c.submit(["-J", "bad", "--mail-type=FAIL", "--wrap", "exit 3"])
        let quiet = try c.submit(["-J", "endonly", "--mail-type=END", "--wrap", "exit 3"])
        let array = try c.submit(["-J", "arr", "-a", "1-3", "--mail-type=BEGIN,END", "--wrap", "true"])
        let long = try c.submitAPI("sleep 30", timeLimit: 4) {
            $0.name = "long"
            $0.mailType = "TIME_LIMIT_50,TIME_LIMIT,FAIL"
        }
        try c.wait("the jobs to end", within: 60) { try c.jobs().isEmpty }
        let orphan = try c.submit(["-J", "orphan", "-d", "afterok:\(failing)", "--mail-type=INVALID_DEPEND", "--wrap", "true"])
        // Mail is sent after the end commits, on a thread of its own: wait for the last ones.
        try c.wait("the mails", within: 30) {
            let all = Self.calls(mail)
            return all.contains { $0.job == "\(orphan)" } && all.filter { $0.job == "\(long)" }.count == 3
        }
        let all = Self.calls(mail)
        func of(_ job: Int) -> [Call] { all.filter { $0.job == "\(job)" } }

        let okMail = of(ok)
        #expect(okMail.map(\.type) == ["Began", "Ended"], "\(all)")
        #expect(okMail.allSatisfy { $0.recipient == "alice@example.com" })
        #expect(okMail.first?.subject.hasPrefix("Slurm Job_id=\(ok) Name=ok Began, Queued time 00:00:0") == true, "\(okMail)")
        #expect(okMail.last?.subject.hasPrefix("Slurm Job_id=\(ok) Name=ok Ended, Run time 00:00:0") == true)
        #expect(okMail.last?.subject.hasSuffix(", COMPLETED, ExitCode 0") == true, "\(okMail)")

        // FAIL on failure; the default recipient is the submitting user, at mail_domain.
        let failMail = of(failing)
        #expect(failMail.count == 1)
        #expect(failMail.first?.subject.hasSuffix(", FAILED, ExitCode 3") == true, "\(failMail)")
        #expect(failMail.first?.subject.contains("Name=bad Failed, Run time") == true)
        let user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        #expect(failMail.first?.recipient == "\(user)@example.org", "\(failMail)")

        // END alone is not sent for a failed job (Slurm sends END for COMPLETED and CANCELLED).
        #expect(of(quiet).isEmpty, "\(of(quiet))")

        // An array without ARRAY_TASKS: one Began at its first start, one summary at its end.
        let arrayMail = all.filter { $0.subject.contains("Job_id=\(array)_*") }
        #expect(arrayMail.map(\.type) == ["Began", "Ended"], "\(all)")
        #expect(arrayMail.first?.subject == "Slurm Array Summary Job_id=\(array)_* (\(array)) Name=arr Began")
        #expect(arrayMail.last?.subject == "Slurm Array Summary Job_id=\(array)_* (\(array)) Name=arr Ended, COMPLETED, ExitCode [0-0]")
        #expect(!all.contains { $0.subject.contains("Array Task") })

        // Halfway, at the limit, then the TIMEOUT as a failure.
        let longMail = of(long)
        #expect(longMail.map(\.type) == ["Reached 50% of time limit", "Reached time limit", "Failed"], "\(longMail)")
        #expect(longMail.last?.subject.hasSuffix(", TIMEOUT, ExitCode 0") == true, "\(longMail)")

        #expect(of(orphan).map(\.subject) == ["Slurm Job_id=\(orphan) Name=orphan Invalid dependency"], "\(all)")

        // scontrol show job's MailUser and MailType.
        let shown = try c.cluster.ctl(["show", "job", "\(orphan)"]).stdout
        #expect(shown.contains("MailType    INVALID_DEPEND"), "\(shown)")
        #expect(shown.contains("MailUser    \(user)@example.org"), "\(shown)")
        _ = try c.cluster.ctl(["cancel", "\(orphan)"])
    }

    /// A mail program that fails is logged and changes nothing else; a recipient that would
    /// read as an option to it is refused at submission.
    @Test func aFailingMailProgramIsLoggedNotFatal() throws {
        let mail = try Self.recorder(exitCode: 1)
        defer { try? FileManager.default.removeItem(at: mail) }
        let c = try EndToEndTests.Running(top: "mail_program = \"\(mail.path)/record-mail\"")
        try c.wait("the host to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        let job = try c.submit(["--mail-type=ALL", "--wrap", "true"])
        try c.wait("the job to end", within: 60) { try c.jobs().isEmpty }
        try c.wait("the mails", within: 30) { Self.calls(mail).filter { $0.job == "\(job)" }.count == 2 }
        try c.wait("the log line", within: 10) { c.cluster.log.contains("MailProg failed") }
        #expect(c.cluster.log.contains("recorded"), "the program's output is logged")
        let record = try #require(try c.accounting().first { $0["id"] as? Int == job || $0["job_id"] as? Int == job })
        #expect(record["state"] as? String == "COMPLETED")

        let refused = try c.cluster.ctl(["submit", "--mail-type=END", "--mail-user=-froot", "--wrap", "true"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--mail-user"), "\(refused.stderr)")
        #expect(try c.cluster.ctl(["ping"]).status == 0)
    }
}
