import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl submit [OPTIONS] SCRIPT [ARGS...]` or `--wrap CMD`: sbatch's options, in the
/// script as `#SBATCH`/`#CHESS` directives or on the command line (which wins).
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("\(path): \(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")")
            }
            script = String(decoding: data, as: UTF8.self)
            scriptName = (path as NSString).lastPathComponent
            if cli.operands.count > 1 {
                // The script's own arguments travel inside the script, as sbatch passes them.
                let quoted = cli.operands.dropFirst().map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
                script = Submit.insertArguments(quoted.joined(separator: " "), into: script)
            }
        }
        // Directives first, then the command line over them.
        var submission = JobSubmission()
        do {
            let (fromScript, w) = try BatchOptions.applyDirectives(of: script, to: submission, now: now)
            submission = fromScript
            warnings += w.map { "\(scriptName): \($0)" }
            submission = try BatchOptions.apply(args, to: submission, now: now, clientOptions: true, stopAtOperand: true).submission
        } catch let e as BatchOptions.Error {
            throw CLIError(cli.client.wrap == nil ? "\(scriptName): \(e.description)" : e.description)
        }
        warnings += cli.warnings
        submission.script = script
        if submission.name == nil { submission.name = scriptName }
        if submission.workdir == nil { submission.workdir = FileManager.default.currentDirectoryPath }
        let env = ProcessInfo.processInfo.environment
        submission.environment = env.filter { !$0.key.hasPrefix("CHESS_SOCKET") }
        for w in warnings { FileHandle.standardError.write(Data("chessctl: warning: \(w)\n".utf8)) }

        let client = ControllerClient(socketPath: ControllerClient.resolveSocket(socket))
        let response = try withController { try client.post("/v1/jobs", submission, as: SubmitResponse.self) }
        if cli.client.json {
            print(try JSONOutput.string(response))
        } else if cli.client.parsable {
            print(response.id)
        } else {
            print("Submitted batch job \(response.id)")
        }
    }

    /// Slurm runs `script ARGS`; the agent runs the script alone, so the arguments are set with
    /// `set --` after the directives.
    static func insertArguments(_ args: String, into script: String) -> String {
        var lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var at = 1
        while at < lines.count, lines[at].trimmingCharacters(in: .whitespaces).isEmpty || lines[at].hasPrefix("#") { at += 1 }
        lines.insert("set -- \(args)", at: min(at, lines.count))
        return lines.joined(separator: "\n")
    }
}
