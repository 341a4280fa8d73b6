import ArgumentParser
import Billing
import ChessAPI
import Foundation

/// `chessctl price list|set`: the price catalogue (USDC per unit-hour, per partition).
struct PriceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "price", abstract: "List or set partition prices (USDC per unit-hour).",
        subcommands: [PriceList_.self, PriceSet.self])
}

struct PriceList_: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the prices and the fee, reward and escrow rules.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/prices", json: json) else { return }
        let list = try WireJSON.decode(PriceListResponse.self, from: data)
        Table.print(["PARTITION", "CORE/H", "GPU/H", "GPU TYPES/H", "MEM GIB/H", "NODE/H (EXCL)"], list.prices.map { p in
            [p.partition, p.prices.coreHour.description, p.prices.gpuHour.description,
             p.prices.gpuHourByType.keys.sorted().map { "\($0)=\(p.prices.gpuHourByType[$0]!)" }.joined(separator: ","),
             p.prices.memoryGiBHour.description, p.prices.exclusiveNodeHour.description]
        })
        let p = list.policy
        print("\nfee \(p.platformFee) · rewards: user \(p.userReward), provider \(p.providerReward) of cost in CPT · escrow buffer \(p.escrowBuffer) · discount tiers \(p.discountTiers.map(\.description).joined(separator: ", "))")
        let factors = list.usageFactors.filter { $0.value != 1000 }
        if !factors.isEmpty {
            print("QoS usage factors: " + factors.keys.sorted().map { "\($0) ×\(Double(factors[$0]!) / 1000)" }.joined(separator: ", "))
        }
    }
}

struct PriceSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set a partition's prices (admins); stored, kept across restarts.",
        discussion: "Keys: core_hour, gpu_hour, gpu:TYPE (a GPU type's own price), mem_gib_hour, node_hour. Amounts in USDC, such as 0.05.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Partition.") var partition: String
    @Argument(help: "Prices as key=amount.") var prices: [String]

    func run() throws {
        let client = connection.client()
        let current = try withController { try client.get("/v1/prices", as: PriceListResponse.self) }
        var list = current.prices.first { $0.partition == partition }?.prices ?? PriceList()
        for item in prices {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let amount = MicroUSDC(parsing: kv[1]), amount.units >= 0 else {
                throw CLIError("'\(item)': expected key=amount with an amount in USDC, such as core_hour=0.05")
            }
            switch kv[0] {
            case "core_hour": list.coreHour = amount
            case "gpu_hour": list.gpuHour = amount
            case "mem_gib_hour": list.memoryGiBHour = amount
            case "node_hour": list.exclusiveNodeHour = amount
            case let k where k.hasPrefix("gpu:"): list.gpuHourByType[String(k.dropFirst(4))] = amount
            default: throw CLIError("unknown price '\(kv[0])'; keys: core_hour, gpu_hour, gpu:TYPE, mem_gib_hour, node_hour")
            }
        }
        let saved = try withController {
            try WireJSON.decode(PriceInfo.self, from: try client.request("PUT", "/v1/prices/\(partition)", body: WireJSON.encode(list)))
        }
        print("Prices of \(saved.partition): core \(saved.prices.coreHour)/h, GPU \(saved.prices.gpuHour)/h, memory \(saved.prices.memoryGiBHour)/GiB-h, node \(saved.prices.exclusiveNodeHour)/h")
    }
}

/// `chessctl invoice`: what users or accounts owe for a period, at the partitions' prices.
struct InvoiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoice", abstract: "Invoices per user or account for a period (jobs that ended in it).",
        discussion: "Times as for acct: YYYY-MM-DD[THH:MM[:SS]], now, now-30days, Unix seconds. Default: this month so far.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("S"), .long], help: "Start of the period.") var starttime: String?
    @Option(name: [.customShort("E"), .long], help: "End of the period (default: now).") var endtime: String?
    @Option(help: "user or account.") var by: String = "user"
    @Option(help: "Only these users or accounts (comma-separated).") var name: String?
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        guard by == "user" || by == "account" else { throw CLIError("--by takes user or account") }
        let now = Int(Date().timeIntervalSince1970)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let monthStart = Int(cal.date(from: cal.dateComponents([.year, .month], from: Date()))!.timeIntervalSince1970)
        let start = try TimeOption.parse(starttime, option: "--starttime", now: now, default: monthStart)
        let end = try TimeOption.parse(endtime, option: "--endtime", now: now, default: now + 1)
        var query = ["by=\(by)", "start=\(start)", "end=\(end)"]
        if let name { query.append("name=\(name)") }
        guard let data = try connection.read("/v1/invoices", query, json: json) else { return }
        let list = try WireJSON.decode(InvoiceList.self, from: data)
        if list.invoices.isEmpty { print("No priced jobs ended in the period.") }
        for inv in list.invoices {
            print("\(by.uppercased()) \(inv.name)   \(SlurmTime.timestamp(inv.start)) – \(SlurmTime.timestamp(inv.end))   total \(inv.total) USDC")
            fflush(nil) // Table.print writes to the descriptor directly
            Table.print(["  PARTITION", "JOBS", "CORE-HOURS", "GPU-HOURS", "AMOUNT"], inv.lines.map {
                ["  " + $0.partition, "\($0.jobs)", String(format: "%.2f", Double($0.coreSeconds) / 3600),
                 String(format: "%.2f", Double($0.gpuSeconds) / 3600), $0.amount.description]
            })
            print()
        }
    }
}

/// `chessctl settlement list|show`: marketplace settlements as the controller signed them.
struct SettlementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settlement", abstract: "List or show marketplace settlements.",
        subcommands: [SettlementList_.self, SettlementShow.self])
}

struct SettlementList_: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Settlements of jobs that ended in a window (default: last 7 days).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("S"), .long], help: "Start of the window.") var starttime: String?
    @Option(name: [.customShort("E"), .long], help: "End of the window (default: now).") var endtime: String?
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        let now = Int(Date().timeIntervalSince1970)
        let start = try TimeOption.parse(starttime, option: "--starttime", now: now, default: now - 7 * 86400)
        let end = try TimeOption.parse(endtime, option: "--endtime", now: now, default: now + 1)
        guard let data = try connection.read("/v1/settlements", ["start=\(start)", "end=\(end)"], json: json) else { return }
        let list = try WireJSON.decode(SettlementList.self, from: data)
        Table.print(["JOBID", "SEQ", "OUTCOME", "ESCROW", "COST", "PAYOUT", "FEE", "REFUND", "SIGNED", "ACKED", "SETTLEMENT"],
                    list.settlements.map { s in
                        ["\(s.jobID)", s.sequence.map(String.init) ?? "-", s.outcome, s.escrow.description, s.cost.description,
                         s.providerPayout.description, s.platformFee.description, s.userRefund.description,
                         s.signature == nil ? "waiting for price" : "yes", s.acknowledgedAt == nil ? "no" : "yes",
                         String(s.id.prefix(18)) + "…"]
                    })
    }
}

struct SettlementShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One settlement, by its 0x id or its job id.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Settlement id or job id.") var id: String
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/settlements/\(id)", json: json) else { return }
        let s = try WireJSON.decode(SettlementInfo.self, from: data)
        var rows: [(String, String)] = [("Settlement", s.id), ("Job", "\(s.jobID)"), ("Outcome", s.outcome), ("Reason", s.reason),
                                        ("Escrow", "\(s.escrowID)  \(s.escrow) USDC from \(s.payer)"),
                                        ("Billed", "\(s.billedSeconds) s over \(s.runs.count) run(s)"),
                                        ("Charge", "\(s.charge) USDC, discount \(s.discount) → cost \(s.cost)"),
                                        ("Provider payout", "\(s.providerPayout) USDC to \(s.provider)"),
                                        ("Platform fee", "\(s.platformFee) USDC"), ("User refund", "\(s.userRefund) USDC")]
        rows.add("User reward", s.userReward.map { "\($0) CPT" })
        rows.add("Provider reward", s.providerReward.map { "\($0) CPT" })
        rows.add("CPT price", s.cptPriceE8.map { String(format: "%.8f USD", Double($0) / 1e8) })
        rows.append(("Signature", s.signature ?? "not yet: waiting for a good oracle price"))
        rows.add("Feed sequence", s.sequence.map(String.init))
        rows.add("Acknowledged", s.acknowledgedAt.map { SlurmTime.timestamp($0) })
        rows.add("Disputed", s.disputedAt.map { "\(SlurmTime.timestamp($0)): \(s.disputeReason ?? "")" })
        for r in s.runs { rows.append(("Run", "\(SlurmTime.timestamp(r.start)) – \(SlurmTime.timestamp(r.end)) (\(r.ended))")) }
        Table.print(["", ""], rows.map { [$0.0 + ":", $0.1] }, header: false)
    }
}

/// `chessctl market token create|revoke|list`: bearer tokens for the marketplace's API.
struct MarketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "market", abstract: "Marketplace access.", subcommands: [TokenCommand.self])
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, revoke or list marketplace API tokens (admins).",
        subcommands: [TokenCreate.self, TokenRevoke.self, TokenList_.self])
}

struct TokenCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token; its secret is printed once.",
        discussion: "Scopes: read (prices, quotes, job status, SLA), submit (funded jobs), settle (settlement feed, ack, dispute), oracle (CPT/USD prices).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Name.") var name: String
    @Option(help: "Comma-separated scopes.") var scopes: String = "read,submit,settle"
    @Option(help: "Local user the token's jobs run as (default: [market] run_as).") var user: String?
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        let client = connection.client()
        let request = TokenRequest(name: name, scopes: scopes.split(separator: ",").map(String.init), user: user)
        let created = try withController { try client.post("/v1/market/tokens", request, as: TokenInfo.self) }
        if json {
            FileHandle.standardOutput.write(WireJSON.encode(created))
            print()
            return
        }
        print("Token \(created.name) (scopes \(created.scopes.joined(separator: ",")), jobs run as \(created.user)):")
        print(created.token ?? "")
        print("It is shown only now; chessd keeps only its hash.")
    }
}

struct TokenRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token at once.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Name.") var name: String

    func run() throws {
        let client = connection.client()
        try withController { _ = try client.request("DELETE", "/v1/market/tokens/\(name)") }
        print("Revoked token \(name)")
    }
}

struct TokenList_: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (never their secrets).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print chessd's JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/market/tokens", json: json) else { return }
        let list = try WireJSON.decode(TokenList.self, from: data)
        Table.print(["NAME", "SCOPES", "USER", "CREATED", "REVOKED"], list.tokens.map {
            [$0.name, $0.scopes.joined(separator: ","), $0.user, SlurmTime.timestamp($0.createdAt), $0.revokedAt.map { SlurmTime.timestamp($0) } ?? "-"]
        })
    }
}
