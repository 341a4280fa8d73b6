import ArgumentParser
import Glibc
import ChessAPI

/// `chessctl submit [OPTIONS] SCRIPT [ARGS...]` or `--wrap CMD`: sbatch's options, in the
/// script as `#SBATCH`/`#CHESS` directives or on the command line (which wins).
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a batch script (sbatch's options and #SBATCH/#CHESS directives).",
        discussion: SubmitCommand.optionsHelp
    )

    @Argument(parsing: .captureForPassthrough, help: "Options, then the script and its arguments.")
    var arguments: [String] = []

    func run() throws {
        let status = try Submit.submit(arguments)
        if status != 0 { Glibc.exit(status) }
    }

    /// The whole command (`SubmitCommand`, which the `sbatch` binary runs too), also called
    /// directly by `ChessCtl.main` without building the argument parser's command tree.
    static func submit(_ arguments: [String]) throws -> Int32 {
        do {
            return try SubmitCommand.run(arguments, program: "chessctl")
        } catch let e as SubmitCommand.Failure {
            throw CLIError(e.description)
        } catch let e as ControllerClient.Failure {
            throw CLIError(e.description)
        }
    }
}
