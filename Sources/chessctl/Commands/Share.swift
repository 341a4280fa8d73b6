import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl share`: sshare.
struct Share: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Accounts' shares, decayed usage and fair-share factors (sshare).",
        discussion: "FairShare is 2^(-EffectvUsage/NormShares): 1 for an account that used nothing, 0.5 for one that used exactly its share.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("A"), .long], help: "Only these accounts (comma-separated).") var accounts: String?
    @Flag(name: .customLong("noheader"), help: "No header line.") var noHeader = false
    @Flag(help: "Print the accounts as JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/shares", json: json) else { return }
        let list = try WireJSON.decode(AccountShareList.self, from: data)
        let only = accounts.map { Set($0.split(separator: ",").map(String.init)) }
        Table.print(["ACCOUNT", "PARENT", "RAWSHARES", "NORMSHARES", "RAWUSAGE", "EFFECTVUSAGE", "FAIRSHARE"],
                    list.accounts.filter { only?.contains($0.account) ?? true }.map { a in
                        [a.account, a.parent ?? "", "\(a.shares)", a.normalizedShares, "\(a.usage)", a.effectiveUsage, a.fairShare]
                    }, header: !noHeader)
    }
}
