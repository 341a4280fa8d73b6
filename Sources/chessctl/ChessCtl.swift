import ArgumentParser

/// The command line for users and sysadmins. Each subcommand lives in `Commands/`.
@main
struct ChessCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chessctl",
        abstract: "Control and query a CHESS cluster, and replay workloads offline.",
        version: "0.1.0",
        subcommands: [Simulate.self]
    )
}
