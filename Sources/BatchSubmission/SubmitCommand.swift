import ChessWire
import Glibc

/// `sbatch` and `chessctl submit`: sbatch's options, in the script as `#SBATCH`/`#CHESS`
/// directives, in SBATCH_* variables or on the command line (which wins), sent to chessd.
///
/// A library rather than chessctl's own code because two binaries run it: chessctl, and the
/// `sbatch` binary, which links no Foundation and no ArgumentParser and so starts in a third of
/// chessctl's time. Batch pipelines call `sbatch` in loops: its start-up was most of a submit's CPU.
public enum SubmitCommand {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// What `--help` says about the options (chessctl's help shows it too).
    public static let optionsHelp = """
        Options are Slurm's: -J/--job-name, -p/--partition, -q/--qos, -A/--account, -N/--nodes, \
        -n/--ntasks, --ntasks-per-node, -c/--cpus-per-task, --mem, --mem-per-cpu, -G/--gpus, \
        --gpus-per-node, --gpus-per-task, --gres=gpu[:TYPE]:N, -t/--time, --exclusive, \
        -C/--constraint, --reservation, -b/--begin, -H/--hold, -d/--dependency, -a/--array, \
        -o/--output, -e/--error, -D/--chdir, --priority; plus --wrap CMD, --parsable (print the \
        job id alone) and --socket PATH. Options on the command line override the script's directives.
        """

    /// The whole command; returns its exit status (sbatch's: 0, or with `--wait` the job's).
    /// `program` names the command in warnings (`sbatch: warning: …`).
    public static func run(_ arguments: [String], program: String) throws -> Int32 {
        var args = arguments
        var socket: String?
        if let i = args.firstIndex(where: { $0 == "--socket" || $0.hasPrefix("--socket=") }) {
            if args[i] == "--socket" {
                guard i + 1 < args.count else { throw Failure("--socket needs a path") }
                socket = args[i + 1]
                args.removeSubrange(i...(i + 1))
            } else {
                socket = String(args[i].dropFirst("--socket=".count))
                args.remove(at: i)
            }
        }
        if args.contains("--help") || args.contains("-h") {
            print("Usage: \(program) [OPTIONS] SCRIPT [ARGS...] | --wrap COMMAND | < SCRIPT\n\nSubmit a batch script (sbatch's options and #SBATCH/#CHESS directives; without a file, the script is read from standard input).\n\n\(optionsHelp)")
            return 0
        }
        let now = Int(time(nil))
        let environment = CallingProcess.environment
        let cli: BatchOptions.Result
        do {
            cli = try BatchOptions.apply(args, to: JobSubmission(), now: now, clientOptions: true, stopAtOperand: true)
        } catch let e as BatchOptions.Error {
            throw Failure(e.description)
        }
        var warnings: [String] = []
        var script: String
        var scriptName: String
        if let wrap = cli.client.wrap {
            guard cli.operands.isEmpty else { throw Failure("give either --wrap or a script, not both") }
            script = "#!/bin/sh\n# This script was created by chessctl submit --wrap.\n\n\(wrap)\n"
            scriptName = "wrap"
        } else if let path = cli.operands.first {
            do { script = try CallingProcess.readFile(path) } catch let e as CallingProcess.FileError { throw Failure(e.description) }
            scriptName = PathText.lastComponent(path)
            try checkScript(script)
            if cli.operands.count > 1 {
                // The script's own arguments travel inside the script, as sbatch passes them.
                let quoted = cli.operands.dropFirst().map { "'" + $0.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
                script = insertArguments(quoted.joined(separator: " "), into: script)
            }
        } else {
            // No file: the script comes on standard input (`sbatch <<EOF`), named `sbatch` as
            // Slurm names it. Slurm waits silently on a terminal; this says what it waits for.
            if isatty(0) == 1 { CallingProcess.writeError("\(program): reading the batch script from standard input (end it with Ctrl-D)\n") }
            do { script = try CallingProcess.readFile("/dev/stdin", descriptor: 0) } catch let e as CallingProcess.FileError {
                throw Failure(e.description)
            }
            scriptName = "sbatch"
            try checkScript(script)
        }
        // Directives first, then SBATCH_* variables, then the command line over them (sbatch's order).
        var submission: JobSubmission
        do {
            let (made, w) = try BatchOptions.submission(script: script, environment: environment, commandLine: args, now: now)
            submission = made
            warnings += w.map { $0.hasPrefix("SBATCH_") || $0.hasPrefix("SLURM_") ? $0 : "\(scriptName): \($0)" }
        } catch let e as BatchOptions.Error {
            throw Failure(cli.client.wrap == nil ? "\(scriptName): \(e.description)" : e.description)
        }
        warnings += cli.warnings
        submission.script = script
        if submission.name == nil { submission.name = scriptName }
        if submission.workdir == nil { submission.workdir = CallingProcess.currentDirectory }
        // Slurm's default (--export=ALL): the job starts with the submitter's environment.
        submission.environment = environment.filter { $0.key != "CHESS_SOCKET" }
        for w in warnings { CallingProcess.writeError("\(program): warning: \(w)\n") }

        let client = ControllerClient(socketPath: ControllerClient.resolveSocket(socket))
        if cli.client.testOnly {
            // sbatch --test-only: nothing is submitted.
            let data = try client.exchange("POST", "/v1/jobs?test_only=1", body: submission.jsonBytes)
            if cli.client.json {
                print(String(decoding: data, as: UTF8.self))
                return 0
            }
            guard let t = try? TestOnlyResponse(scanning: data) else {
                throw Failure("unexpected answer from chessd: \(String(decoding: data, as: UTF8.self))")
            }
            if let start = t.start {
                print("Job would start at \(SlurmTime.timestamp(start)) using \(t.cpus) processors\(t.nodeList.map { " on nodes \($0)" } ?? "") in partition \(t.partition) (not submitted)")
            } else {
                print("Job would wait (\(t.reason ?? "no start planned")) using \(t.cpus) processors in partition \(t.partition) (not submitted)")
            }
            return 0
        }
        let data = try client.exchange("POST", "/v1/jobs", body: submission.jsonBytes)
        guard let id = try? SubmitResponse(scanning: data).id else {
            throw Failure("unexpected answer from chessd: \(String(decoding: data, as: UTF8.self))")
        }
        if cli.client.json {
            print("{\"id\":\(id)}")
        } else if cli.client.parsable {
            print(id)
        } else {
            print("Submitted batch job \(id)")
        }
        let waitFromEnvironment = BatchOptions.environmentArguments(environment).contains { $0.argument == "--wait" }
        guard cli.client.wait || waitFromEnvironment else { return 0 }
        fflush(nil)
        return try waitForEnd(of: id, client)
    }

    /// sbatch's first checks of a script, with its words: an empty script or one of blanks is
    /// refused before anything is sent. (chessd refuses the rest for every client: no `#!`, a
    /// NUL byte, DOS line breaks.)
    static func checkScript(_ script: String) throws {
        if script.isEmpty { throw Failure("Batch script is empty!") }
        if script.utf8.allSatisfy({ $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }) { throw Failure("Batch script contains only whitespace!") }
    }

    /// sbatch's `--wait`: polls until the job (every task of an array) has ended, then gives
    /// the exit status sbatch would: the highest exit code of its records, 1 for a job that did
    /// not complete without one (cancelled, timed out, node failure).
    static func waitForEnd(of id: Int, _ client: ControllerClient) throws -> Int32 {
        while true {
            let live = try client.exchange("GET", "/v1/jobs?id=\(id)")
            guard try firstListedJobState(live) != nil else { break }
            usleep(1_000_000)
        }
        let records = try EndedRecord.scanning(try client.exchange("GET", "/v1/accounting?id=\(id)"))
        guard !records.isEmpty else { throw Failure("job \(id) ended, but its accounting record was not found") }
        return Int32(clamping: records.map { r in r.state == "COMPLETED" ? (r.exitCode ?? 0) : max(r.exitCode ?? 1, 1) }.max()!)
    }

    /// Slurm runs `script ARGS`; the agent runs the script alone, so the arguments are set with
    /// `set --` after the directives.
    public static func insertArguments(_ args: String, into script: String) -> String {
        var lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var at = 1
        while at < lines.count, lines[at].allSatisfy({ $0 == " " || $0 == "\t" }) || lines[at].hasPrefix("#") { at += 1 }
        lines.insert("set -- \(args)", at: min(at, lines.count))
        return lines.joined(separator: "\n")
    }
}

/// What `sbatch --wait` and srun read of an ended job's accounting records
/// (`GET /v1/accounting`, `AccountingList`): state, reason, exit code.
public struct EndedRecord: Sendable {
    public var state = ""
    public var reason: String?
    public var exitCode: Int?

    /// The records of an `AccountingList` answer.
    public static func scanning(_ bytes: [UInt8]) throws -> [EndedRecord] {
        var s = JSONScanner(bytes)
        var out: [EndedRecord] = []
        try s.beginObject()
        while let key = try s.nextKey() {
            guard key == "records", !s.null() else { try s.skipValue(); continue }
            try s.beginArray()
            while try s.nextElement() {
                var record = EndedRecord()
                try s.beginObject()
                while let field = try s.nextKey() {
                    switch field {
                    case "state": record.state = try s.string()
                    case "reason": record.reason = try s.optionalString()
                    case "exit_code": record.exitCode = try s.optionalInt()
                    default: try s.skipValue()
                    }
                }
                out.append(record)
            }
        }
        try s.end()
        return out
    }
}

/// A live job's state, as `GET /v1/jobs?id=N` lists it (`JobList`): nil once the job has left
/// the queue. What `sbatch --wait` and srun follow a job by.
public func firstListedJobState(_ bytes: [UInt8]) throws -> String? {
    var s = JSONScanner(bytes)
    try s.beginObject()
    while let key = try s.nextKey() {
        guard key == "jobs" else { try s.skipValue(); continue }
        try s.beginArray()
        guard try s.nextElement() else { return nil }
        try s.beginObject()
        var state: String?
        while let field = try s.nextKey() {
            if field == "state" { state = try s.string() } else { try s.skipValue() }
        }
        return state ?? ""
    }
    return nil
}
