import Foundation
import Glibc
import Spawning
import Testing

/// Starting programs without Foundation's `Process`, whose `run()` crashed the test process now
/// and then (a 256-byte copy of each /proc/self/fd entry's name read past glibc's buffer).
@Suite("child processes") struct ChildProcessTests {
    @Test func outputErrorsAndExitCodeAreTheProgramsOwn() throws {
        let ran = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], timeout: 30)
        #expect(ran.status == 3)
        #expect(!ran.signalled && !ran.timedOut)
        #expect(ran.stdoutText == "out\n")
        #expect(ran.stderrText == "err\n")
        let merged = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2"], timeout: 30, mergeErrors: true)
        #expect(merged.stdoutText == "out\nerr\n")
        #expect(merged.stderr.isEmpty)
    }

    @Test func environmentAndDirectoryAreTheOnesAskedFor() throws {
        let ran = try ChildProcess.run("/bin/sh", ["-c", "pwd; echo \"$GREETING\"; echo \"${HOME:-none}\""],
                                       environment: ["GREETING": "hello there", "PATH": "/usr/bin:/bin"], directory: "/tmp", timeout: 30)
        #expect(ran.stdoutText == "/tmp\nhello there\nnone\n")
    }

    /// A descriptor this process holds without close-on-exec (another thread's socket, say)
    /// does not reach the program.
    @Test func noDescriptorOfTheSpawnerReachesTheProgram() throws {
        let held = open("/dev/null", O_RDONLY)
        try #require(held > 2)
        defer { close(held) }
        let ran = try ChildProcess.run("/bin/sh", ["-c", "if [ -e /proc/self/fd/\(held) ]; then echo inherited; else echo clean; fi"], timeout: 30)
        #expect(ran.stdoutText == "clean\n")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chess-child-\(UUID().uuidString.prefix(8)).log").path
        defer { unlink(log) }
        let started = try ChildProcess("/bin/sh", ["-c", "[ -e /proc/self/fd/\(held) ] && echo inherited || echo clean"], stdout: .append(log))
        started.waitUntilExit()
        #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "clean\n")
    }

    /// Both pipes are read as they fill: a program writing far more than a pipe holds on each
    /// stream does not wait forever for a reader.
    @Test func largeOutputOnBothStreamsDoesNotStallTheProgram() throws {
        let ran = try ChildProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; echo done >&2"],
                                       timeout: 60)
        #expect(ran.status == 0)
        #expect(ran.stdout.count == 300_000)
        #expect(ran.stderr.count == 200_005)
        let capped = try ChildProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero"], timeout: 60, outputLimit: 1000)
        #expect(capped.status == 0)
        #expect(capped.stdout.count == 1000)
    }

    /// Past the timeout the program is killed — its whole group when it has one of its own —
    /// also when it closed its output and runs on.
    @Test func theTimeoutKillsTheProgramAndItsGroup() throws {
        // A duration no other process on the machine sleeps: how the background one is found.
        let marker = "sleep 30.\(UInt32.random(in: 100_000...999_999))"
        let started = Date()
        let ran = try ChildProcess.run("/bin/sh", ["-c", "\(marker) & sleep 31"], timeout: 0.5, newProcessGroup: true)
        #expect(ran.timedOut)
        #expect(ran.signalled && ran.status == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(started) < 20)
        var left = true
        for _ in 0..<100 where left {
            left = try ChildProcess.run("/usr/bin/pgrep", ["-f", marker], timeout: 10).status == 0
            if left { usleep(20_000) }
        }
        #expect(!left, "the program's background process outlived the timeout")

        let silent = try ChildProcess.run("/bin/sh", ["-c", "exec >/dev/null 2>&1; sleep 30"], timeout: 0.5)
        #expect(silent.timedOut)
    }

    @Test func aStartedProgramIsReapedAndItsEndReadAtOnce() throws {
        let child = try ChildProcess("/bin/sleep", ["30"])
        #expect(child.isRunning)
        #expect(child.terminationStatus == -1)
        child.terminate()
        child.waitUntilExit()
        #expect(!child.isRunning)
        #expect(child.wasSignalled)
        #expect(child.terminationStatus == 128 + SIGTERM)
        // Reaped: no zombie left with its pid.
        #expect(kill(child.processIdentifier, 0) != 0 || !FileManager.default.fileExists(atPath: "/proc/\(child.processIdentifier)"))

        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chess-child-\(UUID().uuidString.prefix(8)).log").path
        defer { unlink(log) }
        for word in ["one", "two"] {
            let p = try ChildProcess("/bin/echo", [word], stdout: .append(log))
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "one\ntwo\n")
    }

    @Test func aMissingProgramIsAClearError() {
        #expect {
            _ = try ChildProcess.run("/nonexistent/program", timeout: 5)
        } throws: { error in
            "\(error)".contains("cannot run /nonexistent/program")
        }
    }

    /// Many threads starting programs at once while this process holds over a thousand
    /// descriptors: what made Foundation's `Process.run()` crash now and then.
    @Test func manyThreadsStartProgramsAtOnceWithManyDescriptorsOpen() throws {
        var held: [Int32] = []
        for _ in 0..<1500 {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd < 0 { break }
            held.append(fd)
        }
        defer { for fd in held { close(fd) } }
        let lock = NSLock()
        nonisolated(unsafe) var failures = 0
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<25 {
                let ran = try? ChildProcess.run("/bin/echo", ["\(thread).\(i)"], timeout: 60)
                if ran?.stdoutText != "\(thread).\(i)\n" || ran?.status != 0 { lock.withLock { failures += 1 } }
            }
        }
        #expect(lock.withLock { failures } == 0)
    }
}
