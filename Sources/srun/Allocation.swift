import BatchSubmission
import ChessWire
import Glibc

/// srun outside a job, as Slurm runs it: a job is made for the command (the job's options are
/// sbatch's), the command runs in it as a step (`exec srun STEP-OPTIONS -- COMMAND` is the job's
/// script), and srun follows it to its end: the tasks' output, written by the job to two hidden
/// files in the working folder, is copied to srun's as it grows (on a cluster, that folder is
/// on the shared file system: a home or project folder); Ctrl-C cancels the job; srun exits
/// with the step's status.
enum Allocation {
    static func run(_ arguments: [String], environment: [String: String]) -> Never {
        let split: (job: [String], step: [String], command: [String])
        do { split = try StepOptions.splitForAllocation(arguments) } catch { fail("\(error)") }
        guard !split.command.isEmpty else { fail("no command given (srun --help)") }
        let now = Int(time(nil))
        var submission: JobSubmission
        do {
            let applied = try BatchOptions.apply(split.job, to: JobSubmission(), now: now, clientOptions: false, stopAtOperand: true)
            submission = applied.submission
            for w in applied.warnings { CallingProcess.writeError("srun: warning: \(w)\n") }
        } catch {
            fail("\(error)")
        }
        let workdir = submission.workdir ?? CallingProcess.currentDirectory
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let out = "\(workdir)/.srun-\(tag).out", err = "\(workdir)/.srun-\(tag).err"
        func quote(_ s: String) -> String { "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
        submission.script = "#!/bin/sh\n# Made by srun (CHESS) for a command run from outside a job.\nexec srun "
            + (split.step + ["--"] + split.command).map(quote).joined(separator: " ") + "\n"
        submission.name = submission.name ?? PathText.lastComponent(split.command[0])
        submission.workdir = workdir
        (submission.output, submission.error) = (out, err)
        submission.environment = environment.filter { $0.key != "CHESS_SOCKET" }

        let client = ControllerClient(socketPath: environment["CHESS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? ControllerClient.defaultSocket)
        let id: Int
        do {
            id = try SubmitResponse(scanning: client.exchange("POST", "/v1/jobs", body: submission.jsonBytes)).id
        } catch {
            fail("\(error)")
        }
        // Ctrl-C and the like cancel the job; srun then follows it to its end.
        let stopSet = blockSignals([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        let socketPath = client.socketPath
        startThread {
            var set = stopSet
            var received: Int32 = 0
            while sigwait(&set, &received) == 0 {
                CallingProcess.writeError("srun: cancelling job \(id)\n")
                _ = try? ControllerClient(socketPath: socketPath).exchange("POST", "/v1/jobs/\(id)/cancel", body: Array("{}".utf8))
            }
        }

        var files = [Follower(path: out, fd: 1), Follower(path: err, fd: 2)]
        var said = false
        var turn = 0
        while true {
            for i in files.indices { files[i].copy() }
            turn += 1
            if turn % 5 == 0 {
                let listed: String?
                do { listed = try firstListedJobState(client.exchange("GET", "/v1/jobs?id=\(id)")) } catch {
                    fail("lost chessd while following job \(id)")
                }
                guard let state = listed else { break }
                if state == "PENDING", turn >= 10, !said {
                    CallingProcess.writeError("srun: job \(id) queued and waiting for resources\n")
                    said = true
                } else if state == "RUNNING", said {
                    CallingProcess.writeError("srun: job \(id) has been allocated resources\n")
                    said = false
                }
            }
            usleep(100_000)
        }
        for i in files.indices { files[i].copy() }
        unlink(out)
        unlink(err)
        let records = (try? EndedRecord.scanning(client.exchange("GET", "/v1/accounting?id=\(id)"))) ?? []
        guard let record = records.first else { fail("job \(id) ended, but its accounting record was not found") }
        if record.state != "COMPLETED" && record.state != "FAILED" {
            CallingProcess.writeError("srun: error: job \(id): \(record.state)\(record.reason.map { " (\($0))" } ?? "")\n")
            exit(Int32(max(record.exitCode ?? 1, 1)))
        }
        exit(Int32(record.exitCode ?? 0))
    }

    /// A file the job writes, copied to one of srun's descriptors as it grows.
    struct Follower {
        let path: String
        let fd: Int32
        var source: Int32 = -1

        mutating func copy() {
            if source < 0 { source = open(path, O_RDONLY | O_CLOEXEC) }
            guard source >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(source, &buffer, buffer.count)
                guard n > 0 else { return }
                var done = 0
                while done < n {
                    let w = buffer[done..<n].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    guard w > 0 else { return }
                    done += w
                }
            }
        }
    }
}
