import ArgumentParser
import Foundation

/// The command line for users and sysadmins. Each subcommand lives in `Commands/`.
@main
struct ChessCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chessctl",
        abstract: "Control and query a CHESS cluster, and replay workloads offline.",
        version: "0.1.0",
        subcommands: [Submit.self, Queue.self, Show.self, Cancel.self, Hold.self, Release.self, Requeue.self,
                      Suspend.self, Resume.self, Update.self, Priority.self, Share.self, Nodes.self,
                      NodeCommand.self, ConfigCommand<PartitionKind>.self,
                      ConfigCommand<QoSKind>.self, ConfigCommand<AccountKind>.self, ConfigCommand<ReservationKind>.self,
                      Acct.self, Efficiency.self, Stat.self, PriceCommand.self, InvoiceCommand.self, SettlementCommand.self, MarketCommand.self,
                      Report.self, Reconfigure.self, Diag.self, Ping.self, Simulate.self]
    )

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        // Called by a Slurm command's name (a link to chessctl: `sbatch`, `squeue`, `scontrol`, …),
        // it is that command: scripts that call them work unchanged. Any other name is chessctl.
        let called = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? "chessctl"
        do {
            if let mapped = try SlurmCommands.arguments(for: called, arguments) { arguments = mapped }
        } catch {
            FileHandle.standardError.write(Data("\(called): \(error)\n".utf8))
            Foundation.exit(1)
        }
        // `submit` takes sbatch's options, which it parses itself: skip building the command
        // tree, a few milliseconds of every submit (help and completion still go through it).
        if arguments.first == "submit", !arguments.contains("--help"), !arguments.contains("-h") {
            do {
                try Submit.submit(Array(arguments.dropFirst()))
                Foundation.exit(0)
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                Foundation.exit(1)
            }
        }
        main(arguments)
    }
}
