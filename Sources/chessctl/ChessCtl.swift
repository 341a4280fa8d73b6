import ArgumentParser

/// The command line for users and sysadmins. Each subcommand lives in `Commands/`.
@main
struct ChessCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chessctl",
        abstract: "Control and query a CHESS cluster, and replay workloads offline.",
        version: "0.1.0",
        subcommands: [Submit.self, Queue.self, Show.self, Cancel.self, Hold.self, Release.self, Requeue.self,
                      Suspend.self, Resume.self, Nodes.self,
                      NodeCommand.self, ConfigCommand<PartitionKind>.self,
                      ConfigCommand<QoSKind>.self, ConfigCommand<AccountKind>.self, ConfigCommand<ReservationKind>.self,
                      Acct.self, Ping.self, Simulate.self]
    )
}
