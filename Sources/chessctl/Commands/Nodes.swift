import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl nodes`: sinfo — nodes grouped by partition and state, node lists compressed.
struct Nodes: ParsableCommand {
    // `-h` is sinfo's --noheader: help is --help alone here.
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "Summarise nodes by partition and state (sinfo).",
                                                    helpNames: [.long])

    @OptionGroup var connection: ConnectionOptions
    @Flag(name: [.customShort("N"), .customLong("node-oriented")], help: "One line per node.") var perNode = false
    @Flag(name: [.customShort("R"), .long], help: "Show down, drained and failed nodes with their reasons (sinfo -R).") var reasons = false
    @Option(name: [.short, .long], help: "Only these partitions (comma-separated).") var partition: String?
    @Option(name: [.customShort("t"), .customLong("states")],
            help: "Only nodes in these states (idle, mixed, allocated, drain, draining, drained, down, fail; mix, alloc too).")
    var states: String?
    @Option(name: [.short, .customLong("nodes")], help: "Only these nodes (a hostlist such as n[01-04]).") var nodeList: String?
    @Flag(name: [.customShort("h"), .customLong("noheader")], help: "No header line.") var noHeader = false
    @Option(name: [.customShort("o"), .customLong("format")],
            help: "sinfo's %-fields, e.g. \"%P %a %l %D %t %N\" or \"%n %T %C %E\" (P R a l D t T N n c m G f E e O C X).")
    var format: String?
    @Flag(help: "Print the nodes as JSON.") var json = false

    /// sinfo's state names and short forms; `drain` is drained and draining both, as in sinfo.
    static let stateNames: [String: [String]] = [
        "idle": ["idle"], "mixed": ["mixed"], "mix": ["mixed"], "allocated": ["allocated"], "alloc": ["allocated"],
        "drain": ["drain", "draining"], "drained": ["drain"], "draining": ["draining"], "drng": ["draining"],
        "down": ["down"], "fail": ["fail"],
    ]

    func run() throws {
        guard let data = try connection.read("/v1/nodes", json: json) else { return }
        let list = try WireJSON.decode(NodeList.self, from: data)
        var nodes = list.nodes
        let partitions = partition.map { Set($0.split(separator: ",").map(String.init)) }
        if let partitions { nodes = nodes.filter { !partitions.isDisjoint(with: $0.partitions) } }
        if let states {
            var wanted = Set<String>()
            for s in states.lowercased().split(separator: ",") {
                guard let names = Self.stateNames[String(s)] else {
                    throw CLIError("unknown node state '\(s)'; states: \(Self.stateNames.keys.sorted().joined(separator: ", "))")
                }
                wanted.formUnion(names)
            }
            nodes = nodes.filter { wanted.contains($0.state) }
        }
        if let nodeList {
            let names: Set<String>
            do { names = Set(try HostList.expand(nodeList)) } catch { throw CLIError("\(nodeList): \(error)") }
            nodes = nodes.filter { names.contains($0.name) }
        }
        if let format {
            let f: SinfoFormat
            do { f = try SinfoFormat(format) } catch { throw CLIError(error.description) }
            let summaries = Dictionary((list.partitions ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var entries: [SinfoFormat.Entry] = []
            // By partition (configuration order), as sinfo lists them; a node in two partitions is in both.
            var order = (list.partitions ?? []).map(\.name)
            for n in nodes { for p in n.partitions where !order.contains(p) { order.append(p) } }
            for p in order where partitions?.contains(p) != false {
                for n in nodes where n.partitions.contains(p) { entries.append(.init(node: n, partition: p, summary: summaries[p])) }
            }
            if !noHeader { print(f.header()) }
            for row in f.rows(entries, perNode: perNode) { print(TerminalText.neutralized(row)) }
            return
        }
        if reasons {
            let bad = nodes.filter { ["drain", "draining", "down", "fail"].contains($0.state) }
            var groups: [String: [String]] = [:]
            var order: [String] = []
            for n in bad {
                let key = "\(n.reason ?? "")\u{0}\(n.state)"
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(n.name)
            }
            Table.print(["REASON", "STATE", "NODELIST"], order.map { key in
                let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
                return [String(parts[0]), String(parts[1]), HostList.compress(groups[key]!)]
            }, header: !noHeader)
            return
        }
        if perNode {
            Table.print(["NODELIST", "PARTITION", "STATE", "CPUS", "MEMORY", "GPUS", "ALLOC_CPUS", "FEATURES"], nodes.map { n in
                [n.name, n.partitions.joined(separator: ","), n.state, "\(n.cores)", "\(n.memoryMB)",
                 "\(n.gpus.count)", "\(n.allocatedCores)", n.features.joined(separator: ",")]
            }, header: !noHeader)
            return
        }
        // One row per (partition, state), as sinfo does, the default partition marked with `*`.
        var rows: [[String]] = []
        var partitionOrder = (list.partitions ?? []).map(\.name)
        for n in nodes { for p in n.partitions where !partitionOrder.contains(p) { partitionOrder.append(p) } }
        partitionOrder = partitionOrder.filter { partitions?.contains($0) != false }
        let summaries = Dictionary((list.partitions ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for p in partitionOrder {
            var byState: [String: [String]] = [:]
            var stateOrder: [String] = []
            for n in nodes where n.partitions.contains(p) {
                if byState[n.state] == nil { stateOrder.append(n.state) }
                byState[n.state, default: []].append(n.name)
            }
            let name = summaries[p]?.isDefault == true ? "\(p)*" : p
            let limit = summaries[p]?.maxTime.map { Time.duration($0) } ?? "infinite"
            // sinfo's AVAIL: up, down, drain, inact.
            let avail = summaries[p].map { $0.state == "inactive" ? "inact" : $0.state } ?? "up"
            for s in stateOrder {
                rows.append([name, avail, limit, "\(byState[s]!.count)", s, HostList.compress(byState[s]!)])
            }
        }
        Table.print(["PARTITION", "AVAIL", "TIMELIMIT", "NODES", "STATE", "NODELIST"], rows, header: !noHeader)
    }
}

/// `chessctl node drain|resume|down NODES`.
struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Drain, resume or down nodes (scontrol update nodename=… state=…).",
        subcommands: [Drain.self, Resume.self, Down.self]
    )

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "drain", abstract: "Let running jobs finish; start no new ones.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Why (required, shown by nodes --reasons).") var reason: String
        @Argument(help: "Nodes (a hostlist such as node[01-04]).") var nodes: String
        func run() throws { try NodeCommand.change(nodes, "drain", reason, connection) }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Return drained or down nodes to service.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Nodes.") var nodes: String
        func run() throws { try NodeCommand.change(nodes, "resume", nil, connection) }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "down", abstract: "Take nodes out of service now.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Why.") var reason: String?
        @Argument(help: "Nodes.") var nodes: String
        func run() throws { try NodeCommand.change(nodes, "down", reason, connection) }
    }

    static func change(_ expression: String, _ action: String, _ reason: String?, _ connection: ConnectionOptions) throws {
        let names: [String]
        do { names = try HostList.expand(expression) } catch { throw CLIError("\(expression): \(error)") }
        let client = connection.client()
        for name in names {
            let info = try withController {
                try client.post("/v1/nodes/\(name)/state", NodeStateChange(action: action, reason: reason), as: NodeInfo.self)
            }
            print(TerminalText.neutralized("\(info.name): \(info.state)\(info.reason.map { " (\($0))" } ?? "")"))
        }
    }
}

/// `chessctl ping`: is chessd up, and who am I to it.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "Check that chessd answers.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() throws {
        let client = connection.client()
        let p = try withController { try client.get("/v1/ping", as: PingResponse.self) }
        if json {
            print(try JSONOutput.string(p))
        } else {
            print("chessd \(p.version) on cluster \(p.cluster) is UP (uptime \(Time.duration(p.uptime)), policy \(p.policy)); you are \(p.user)\(p.admin ? " (admin)" : "")")
        }
    }
}
