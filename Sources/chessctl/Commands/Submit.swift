import ArgumentParser
import Glibc
import ChessAPI
import Foundation

/// `chessctl submit [OPTIONS] SCRIPT [ARGS...]` or `--wrap CMD`: sbatch's options, in the
/// script as `#SBATCH`/`#CHESS` directives or on the command line (which wins).
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a batch script (sbatch's options and #SBATCH/#CHESS directives).",
        discussion: """
            Options are Slurm's: -J/--job-name, -p/--partition, -q/--qos, -A/--account, -N/--nodes, \
            -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task, --mem, --mem-per-cpu, -G/--gpus, \
            --gpus-per-node, --gpus-per-task, --gres=gpu[:TYPE]:N, -t/--time, --exclusive, \
            -C/--constraint, --reservation, -b/--begin, -H/--hold, -d/--dependency, -a/--array, \
            -o/--output, -e/--error, -D/--chdir, --priority; plus --wrap CMD, --parsable (print the \
            job id alone) and --socket PATH. Options on the command line override the script's directives.
            """
    )

    @Argument(parsing: .captureForPassthrough, help: "Options, then the script and its arguments.")
    var arguments: [String] = []

    func run() throws {
        try Submit.submit(arguments)
    }

    /// The whole command, also called directly by `ChessCtl.main` (without building the
    /// argument parser's command tree), since `submit` is what batch pipelines run in loops.
    static func submit(_ arguments: [String]) throws {
        var args = arguments
        var socket: String?
        if let i = args.firstIndex(where: { $0 == "--socket" || $0.hasPrefix("--socket=") }) {
            if args[i] == "--socket" {
                guard i + 1 < args.count else { throw CLIError("--socket needs a path") }
                socket = args[i + 1]
                args.removeSubrange(i...(i + 1))
            } else {
                socket = String(args[i].dropFirst("--socket=".count))
                args.remove(at: i)
            }
        }
        if args.contains("--help") || args.contains("-h") {
            print(Submit.helpMessage())
            return
        }
        let now = Int(Date().timeIntervalSince1970)
        let cli: BatchOptions.Result
        do {
            cli = try BatchOptions.apply(args, to: JobSubmission(), now: now, clientOptions: true, stopAtOperand: true)
        } catch let e as BatchOptions.Error {
            throw CLIError(e.description)
        }
        var warnings: [String] = []
        var script: String
        var scriptName: String
        if let wrap = cli.client.wrap {
            guard cli.operands.isEmpty else { throw CLIError("give either --wrap or a script, not both") }
            script = "#!/bin/sh\n# This script was created by chessctl submit --wrap.\n\n\(wrap)\n"
            scriptName = "wrap"
        } else {
            guard let path = cli.operands.first else {
                throw CLIError("no script: give a batch script file, or --wrap COMMAND")
            }
            script = try Process.readFile(path)
            scriptName = (path as NSString).lastPathComponent
            if cli.operands.count > 1 {
                // The script's own arguments travel inside the script, as sbatch passes them.
                let quoted = cli.operands.dropFirst().map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
                script = Submit.insertArguments(quoted.joined(separator: " "), into: script)
            }
        }
        // Directives first, then SBATCH_* variables, then the command line over them (sbatch's order).
        var submission = JobSubmission()
        do {
            let (made, w) = try BatchOptions.submission(script: script, environment: Process.environment, commandLine: args, now: now)
            submission = made
            warnings += w.map { $0.hasPrefix("SBATCH_") || $0.hasPrefix("SLURM_") ? $0 : "\(scriptName): \($0)" }
        } catch let e as BatchOptions.Error {
            throw CLIError(cli.client.wrap == nil ? "\(scriptName): \(e.description)" : e.description)
        }
        warnings += cli.warnings
        submission.script = script
        if submission.name == nil { submission.name = scriptName }
        if submission.workdir == nil { submission.workdir = Process.currentDirectory }
        // Slurm's default (--export=ALL): the job starts with the submitter's environment.
        submission.environment = Process.environment.filter { $0.key != "CHESS_SOCKET" }
        for w in warnings { FileHandle.standardError.write(Data("chessctl: warning: \(w)\n".utf8)) }

        let client = ControllerClient(socketPath: socket ?? Process.environment["CHESS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
                                      ?? ControllerClient.defaultSocket)
        if cli.client.testOnly {
            // sbatch --test-only: nothing is submitted.
            let data = try withController { try client.request("POST", "/v1/jobs?test_only=1", body: Data(submission.jsonBytes)) }
            if cli.client.json { return print(String(decoding: data, as: UTF8.self)) }
            let t = try WireJSON.decode(TestOnlyResponse.self, from: data)
            if let start = t.start {
                print("Job would start at \(Time.timestamp(start)) using \(t.cpus) processors\(t.nodeList.map { " on nodes \($0)" } ?? "") in partition \(t.partition) (not submitted)")
            } else {
                print("Job would wait (\(t.reason ?? "no start planned")) using \(t.cpus) processors in partition \(t.partition) (not submitted)")
            }
            return
        }
        let data = try withController { try client.request("POST", "/v1/jobs", body: Data(submission.jsonBytes)) }
        // The answer's id, read with the scanner: JSONSerialization's first use costs more than
        // the rest of a submit process.
        func scanID() throws -> Int? {
            var scanner = JSONScanner(Array(data))
            try scanner.beginObject()
            while let key = try scanner.nextKey() {
                if key == "id" { return try scanner.int() }
                try scanner.skipValue()
            }
            return nil
        }
        guard let id = try? scanID() else {
            throw CLIError("unexpected answer from chessd: \(String(decoding: data, as: UTF8.self))")
        }
        let response = SubmitResponse(id: id)
        if cli.client.json {
            print(try JSONOutput.string(response))
        } else if cli.client.parsable {
            print(response.id)
        } else {
            print("Submitted batch job \(response.id)")
        }
        let waitFromEnvironment = BatchOptions.environmentArguments(Process.environment).contains { $0.argument == "--wait" }
        if cli.client.wait || waitFromEnvironment { Glibc.exit(try waitForEnd(of: response.id, client)) }
    }

    /// sbatch's `--wait`: polls until the job (every task of an array) has ended, then gives
    /// the exit status sbatch would: the highest exit code of its records, 1 for a job that did
    /// not complete without one (cancelled, timed out, node failure).
    static func waitForEnd(of id: Int, _ client: ControllerClient) throws -> Int32 {
        while true {
            let live = try withController { try client.request("GET", "/v1/jobs?id=\(id)") }
            if try JobList(scanning: Array(live)).jobs.isEmpty { break }
            usleep(1_000_000)
        }
        let records = try withController { try client.get("/v1/accounting?id=\(id)", as: AccountingList.self) }.records
        guard !records.isEmpty else { throw CLIError("job \(id) ended, but its accounting record was not found") }
        return Int32(records.map { r in r.state == "COMPLETED" ? (r.exitCode ?? 0) : max(r.exitCode ?? 1, 1) }.max()!)
    }

    /// Slurm runs `script ARGS`; the agent runs the script alone, so the arguments are set with
    /// `set --` after the directives.
    static func insertArguments(_ args: String, into script: String) -> String {
        var lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var at = 1
        while at < lines.count, lines[at].allSatisfy({ $0 == " " || $0 == "\t" }) || lines[at].hasPrefix("#") { at += 1 }
        lines.insert("set -- \(args)", at: min(at, lines.count))
        return lines.joined(separator: "\n")
    }
}

/// The process's own files, directory and environment through libc: Foundation's versions cost
/// a short-lived `submit` a visible share of its run time.
enum Process {
    static let environment: [String: String] = {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                out[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            p += 1
        }
        return out
    }()

    /// The user running chessctl, as the controller will see it on the socket.
    static var userName: String {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(getuid(), &pwd, &buffer, buffer.count, &result) == 0, result != nil {
            return String(cString: pwd.pw_name)
        }
        return environment["USER"] ?? "\(getuid())"
    }

    static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readFile(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let why = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw CLIError("\(path): \(why)")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw CLIError("\(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= 16 << 20 else { throw CLIError("\(path): larger than 16 MiB; is this really a batch script?") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
