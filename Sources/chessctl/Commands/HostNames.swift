import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl show hostnames [LIST]`: scontrol show hostnames, as job scripts use it to write MPI
/// host files. Needs no daemon: it runs on compute nodes, where no socket of chessd is.
struct ShowHostNames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostnames",
        abstract: "Expand a host list into one name per line (scontrol show hostnames).",
        discussion: "Without a list, the job's own: CHESS_JOB_NODELIST, else SLURM_JOB_NODELIST. No connection to chessd is made.")

    @Argument(help: "A host list such as n[01-04],gpu01.") var list: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let text = list ?? environment["CHESS_JOB_NODELIST"] ?? environment["SLURM_JOB_NODELIST"] else {
            throw CLIError("give a host list, or run inside a job (CHESS_JOB_NODELIST is not set)")
        }
        do {
            for name in try HostList.expand(text) { print(name) }
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// `chessctl show hostlist NAMES`: scontrol show hostlist, the inverse of `hostnames`.
struct ShowHostList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostlist",
        abstract: "Compress host names into a host list (scontrol show hostlist).",
        discussion: "Names separated by commas or given as several arguments; host lists are expanded first. No connection to chessd is made.")

    @Argument(help: "Host names or lists.") var names: [String]

    func run() throws {
        var hosts: [String] = []
        do {
            for argument in names { hosts += try HostList.expand(argument) }
        } catch {
            throw CLIError("\(error)")
        }
        guard !hosts.isEmpty else { throw CLIError("give host names, such as n01,n02,n03") }
        print(HostList.compress(hosts))
    }
}
