import ChessAPI
import Foundation
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
        let now = Int(Date().timeIntervalSince1970)
        var submission: JobSubmission
        do {
            let applied = try BatchOptions.apply(split.job, to: JobSubmission(), now: now, clientOptions: false, stopAtOperand: true)
            submission = applied.submission
            for w in applied.warnings { FileHandle.standardError.write(Data("srun: warning: \(w)\n".utf8)) }
        } catch {
            fail("\(error)")
        }
        let workdir = submission.workdir ?? FileManager.default.currentDirectoryPath
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let out = "\(workdir)/.srun-\(tag).out", err = "\(workdir)/.srun-\(tag).err"
        func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        submission.script = "#!/bin/sh\n# Made by srun (CHESS) for a command run from outside a job.\nexec srun "
            + (split.step + ["--"] + split.command).map(quote).joined(separator: " ") + "\n"
        submission.name = submission.name ?? (split.command[0] as NSString).lastPathComponent
        submission.workdir = workdir
        (submission.output, submission.error) = (out, err)
        submission.environment = environment.filter { $0.key != "CHESS_SOCKET" }

        let client = ControllerClient(socketPath: environment["CHESS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? ControllerClient.defaultSocket)
        let id: Int
        do {
            let data = try client.request("POST", "/v1/jobs", body: Data(submission.jsonBytes))
            id = try WireJSON.decode(SubmitResponse.self, from: data).id
        } catch {
            fail("\(error)")
        }
        // Ctrl-C and the like cancel the job; srun then follows it to its end.
        let stopSet = blockSignals([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        let socketPath = client.socketPath
        Thread.detachNewThread {
            var set = stopSet
            var received: Int32 = 0
            while sigwait(&set, &received) == 0 {
                FileHandle.standardError.write(Data("srun: cancelling job \(id)\n".utf8))
                _ = try? ControllerClient(socketPath: socketPath).post("/v1/jobs/\(id)/cancel", JobActionRequest(), as: JobActionResponse.self)
            }
        }

        var files = [Follower(path: out, fd: 1), Follower(path: err, fd: 2)]
        var said = false
        var turn = 0
        while true {
            for i in files.indices { files[i].copy() }
            turn += 1
            if turn % 5 == 0 {
                guard let live = try? client.request("GET", "/v1/jobs?id=\(id)"), let list = try? JobList(scanning: Array(live)) else {
                    fail("lost chessd while following job \(id)")
                }
                guard let info = list.jobs.first else { break }
                if info.state == "PENDING", turn >= 10, !said {
                    FileHandle.standardError.write(Data("srun: job \(id) queued and waiting for resources\n".utf8))
                    said = true
                } else if info.state == "RUNNING", said {
                    FileHandle.standardError.write(Data("srun: job \(id) has been allocated resources\n".utf8))
                    said = false
                }
            }
            usleep(100_000)
        }
        for i in files.indices { files[i].copy() }
        unlink(out)
        unlink(err)
        let records = (try? client.get("/v1/accounting?id=\(id)", as: AccountingList.self).records) ?? []
        guard let record = records.first else { fail("job \(id) ended, but its accounting record was not found") }
        if record.state != "COMPLETED" && record.state != "FAILED" {
            FileHandle.standardError.write(Data("srun: error: job \(id): \(record.state)\(record.reason.map { " (\($0))" } ?? "")\n".utf8))
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
