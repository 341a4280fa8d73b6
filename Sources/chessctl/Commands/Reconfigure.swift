import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl reconfigure`: scontrol reconfigure.
struct Reconfigure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconfigure",
        abstract: "Make chessd read its configuration file again (scontrol reconfigure; admins; also SIGHUP).",
        discussion: """
            Nodes, partitions, QoS, accounts, reservations, prices and scheduler settings take effect at \
            once; runtime changes made with chessctl are applied over the file again. A file that does not \
            check changes nothing. Settings read only at start (state_dir, socket, listen, key_file, \
            cluster_name, [market], the billing rules) wait for a restart and are named.
            """)
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() throws {
        let client = connection.client()
        let r = try withController { try client.post("/v1/reconfigure", [String: String](), as: ReconfigureResponse.self) }
        if json { return print(try JSONOutput.string(r)) }
        print("chessd read \(r.path) again")
        if !r.nodesAdded.isEmpty { print("  nodes added: \(HostList.compress(r.nodesAdded)) (down until their agent registers)") }
        if !r.nodesRemoved.isEmpty { print("  nodes removed: \(HostList.compress(r.nodesRemoved))") }
        if !r.restartNeeded.isEmpty { print("  changed, taking effect when chessd restarts: \(r.restartNeeded.joined(separator: ", "))") }
        for s in r.skipped { print("  runtime change no longer allowed by the file, not applied: \(s)") }
    }
}
