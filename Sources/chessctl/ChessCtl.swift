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
                Foundation.exit(try Submit.submit(Array(arguments.dropFirst())))
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                Foundation.exit(1)
            }
        }
        // `queue` and `show job` in the forms scripts write read their options without
        // ArgumentParser at all (`PlainCommandLine`).
        if let run = plainRun(arguments) {
            do {
                try run()
                Foundation.exit(0)
            } catch {
                exit(withError: error)
            }
        }
        if let first = arguments.first, let command = fastCommands[first], !arguments.contains(where: needsWholeTree),
           command.configuration.subcommands.isEmpty || arguments.count > 1 {
            runAlone(command, Array(arguments.dropFirst()), otherwise: arguments)
        }
        main(arguments)
    }

    /// The command `arguments` asks for, when it is one read by `PlainCommandLine`.
    static func plainRun(_ arguments: [String]) -> (() throws -> Void)? {
        switch arguments.first {
        case "queue": return QueueOptions.parseFast(Array(arguments.dropFirst())).map { options in { try options.run() } }
        case "show" where arguments.count > 1 && arguments[1] == "job": return ShowJob.runFast(Array(arguments.dropFirst(2)))
        default: return nil
        }
    }

    /// The commands scripts and users call most, parsed by themselves: building the whole
    /// command tree (every subcommand's options, through reflection and protocol-conformance
    /// lookups across the binary) was most of a `chessctl ping`'s 6 ms of CPU, for every call.
    static let fastCommands: [String: any ParsableCommand.Type] = [
        "queue": Queue.self, "show": Show.self, "cancel": Cancel.self, "hold": Hold.self, "release": Release.self,
        "requeue": Requeue.self, "suspend": Suspend.self, "resume": Resume.self, "acct": Acct.self, "nodes": Nodes.self,
        "ping": Ping.self, "stat": Stat.self, "priority": Priority.self, "share": Share.self, "update": Update.self,
    ]

    /// Help, version and shell completion are the whole tree's to answer (and a group named
    /// without its subcommand, which answers with its help).
    static func needsWholeTree(_ argument: String) -> Bool {
        argument == "--help" || argument == "--version" || argument == "help" || argument.hasPrefix("--generate-completion-script")
            || argument.hasPrefix("---completion")
    }

    /// Runs `command` with `arguments` and exits; on a parse error returns, and the whole tree
    /// parses `otherwise` and reports the error as it always does.
    static func runAlone(_ command: any ParsableCommand.Type, _ arguments: [String], otherwise: [String]) {
        var parsed: any ParsableCommand
        do { parsed = try command.parseAsRoot(arguments) } catch { return }
        do {
            try parsed.run()
            Foundation.exit(0)
        } catch {
            exit(withError: error)
        }
    }
}
