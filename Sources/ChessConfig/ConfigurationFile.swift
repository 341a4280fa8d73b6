import Billing
import ChessAPI
import Foundation
import SchedulerCore

/// What `chessd` runs with: the cluster as configured plus where it keeps its state and how it
/// is reached. Read from one TOML file (`etc/chess.toml` is the annotated example,
/// `docs/configuration.md` the reference).
public struct ControllerConfiguration: Sendable {
    public var clusterName: String
    /// SQLite store, logs of the controller's own.
    public var stateDirectory: String
    /// The Unix socket users and admins reach the controller on.
    public var socketPath: String
    /// `HOST:PORT` for agents and the marketplace; nil: no TCP listener.
    public var listen: String?
    /// The shared secret agents sign their requests with (munge's model).
    public var keyFile: String?
    /// User names (besides root) that may act as administrators.
    public var operators: Set<String>
    public var cluster: Cluster
    public var planner: PlannerConfiguration
    /// Seconds between timer-driven scheduling passes (events trigger passes as well).
    public var schedulerInterval: Int
    public var fairShareHalfLife: Int
    /// Where a job without `--partition` goes.
    public var defaultPartition: String
    /// Seconds without a heartbeat before an agent's nodes are marked DOWN.
    public var heartbeatTimeout: Int
    /// Prices per partition (`prices` on each partition); a partition without is not for sale.
    public var prices = PriceCatalogue()
    /// `[billing]`: fee, rewards, escrow buffer, discount tiers.
    public var billing = BillingPolicy()
    /// `[market]`: nil when the cluster does not sell on the marketplace.
    public var market: MarketSettings?
    /// `[health_check]`: the program each agent runs to vouch for its nodes.
    public var healthCheck: HealthCheckSettings?
    /// `prolog` and `epilog` (Slurm's Prolog=, Epilog=): run as root on a job's batch node
    /// before it starts and after it ends; `prolog_epilog_timeout` seconds at most each.
    public var prolog: String?
    public var epilog: String?
    public var prologEpilogTimeout = 300
    /// `mail_program` (Slurm's MailProg): run by chessd as `PROGRAM -s SUBJECT RECIPIENT` for
    /// the job events `--mail-type` asks for; `mail_domain` (MailDomain) is added to recipients
    /// without an `@`. An empty `mail_program` sends no mail.
    public var mailProgram: String? = "/usr/bin/mail"
    public var mailDomain: String?
    /// The agent that speaks for each node (`agent` in `[[nodes]]`), where it is not the node's
    /// own name.
    public var nodeAgents: [String: String] = [:]
    /// The agent that may register `node`, report its jobs and take its commands.
    public func agent(of node: String) -> String { nodeAgents[node] ?? node }
    /// `[server]`: what one client may hold of chessd's listeners.
    public var server = ServerSettings()
    /// `[tls]`: chessd's certificate chain and private key (PEM files); with them the TCP
    /// listener speaks TLS only. nil: cleartext (loopback, or `cleartext_tcp = true`).
    public var tls: TLSFiles?
    /// `private_data` (Slurm's PrivateData=): what users who are not administrators may not see
    /// of other users' work.
    public var privateData: PrivateData = []
    /// The file as read, so that runtime changes can be applied to it and checked as it was.
    public var document: DocumentNode = .null
    /// The folder relative paths were resolved against.
    public var directory: String = "."

    public static let defaultPath = "/etc/chess/chess.toml"
}

/// `[server]`: bounds on chessd's connections, so that no client can hold the others up
/// (docs/security.md). Read at start; a change needs a restart.
public struct ServerSettings: Sendable, Equatable {
    /// Connections open at once on each listener.
    public var maxConnections = 4096
    /// Connections open at once from one local user (root excepted) or one TCP address.
    public var maxConnectionsPerPeer = 256
    /// Seconds for a request to arrive whole, from its first byte.
    public var requestTimeout = 30
    /// Seconds a connection may stay open with no request and nothing to answer.
    public var idleTimeout = 300
    /// The TCP listener may be reached beyond this host although it does not encrypt (its
    /// messages are signed): an explicit choice, for a trusted management network.
    public var cleartextTCP = false

    public init() {}
}

/// `[tls]`: PEM files of chessd's certificate chain and its private key (the key read under
/// the key-file rules: root's, closed to group and others).
public struct TLSFiles: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public init(certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

public enum ConfigurationFile {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let path: String
        public let location: String
        public let reason: String
        public var description: String {
            [path, location, reason].filter { !$0.isEmpty }.joined(separator: ": ")
        }
    }

    public static func load(path: String) throws -> ControllerConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, location: "", reason: FileManager.default.fileExists(atPath: path)
                        ? "cannot be read" : "no such file (give the configuration with --config FILE)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), path: path, directory: directory)
    }

    /// Relative paths in the file (state directory, socket, key file) are taken relative to
    /// `directory`, the file's own folder.
    public static func parse(_ text: String, path: String = "<config>", directory: String = ".") throws -> ControllerConfiguration {
        let table: TOMLTable
        do { table = try TOMLParser.parse(text) } catch {
            throw Error(path: path, location: "line \(error.line), column \(error.column)", reason: error.message)
        }
        let (root, lines) = DocumentNode.fromTOML(table)
        let reader = DocumentReader(path: path, lines: lines)
        do {
            var c = try reader.controllerConfiguration(DocumentValue(root, at: ""), directory: directory)
            c.document = root
            c.directory = directory
            return c
        } catch let e as DocumentReader.Failure {
            throw Error(path: path, location: e.location, reason: e.reason)
        }
    }
}

extension DocumentReader {
    func controllerConfiguration(_ v: DocumentValue, directory: String) throws -> ControllerConfiguration {
        let o = try object(v, keys: ["cluster_name", "state_dir", "socket", "listen", "key_file", "operators",
                                     "default_partition", "heartbeat_timeout", "scheduler", "nodes", "partitions",
                                     "qos", "accounts", "reservations", "billing", "market", "health_check",
                                     "prolog", "epilog", "prolog_epilog_timeout", "licenses", "server", "private_data", "tls",
                                     "mail_program", "mail_domain"],
                           required: ["cluster_name", "state_dir", "socket", "nodes", "partitions"])
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: directory).appendingPathComponent(p).standardizedFileURL.path
        }
        let name = try string(o["cluster_name"]!)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw fail(o["cluster_name"]!, "use letters, digits, '-' and '_' only")
        }
        var nodes: [Node] = []
        var nodeAgents: [String: String] = [:]
        for n in try array(o["nodes"]!) {
            let group = try nodeGroup(n)
            nodes += group
            if case .object(let fields) = n.raw, let a = fields["agent"] {
                let agent = try string(DocumentValue(a, at: "\(n.location).agent"))
                guard !agent.isEmpty, agent.utf8.count <= 255, !agent.contains(where: { $0.isWhitespace || $0 == ":" }) else {
                    throw failure(at: "\(n.location).agent", "an agent name has no blanks or ':'")
                }
                for node in group { nodeAgents[node.name] = agent }
            }
        }
        var seen = Set<String>()
        for (i, n) in nodes.enumerated() where !seen.insert(n.name).inserted {
            throw failure(at: "nodes", "node '\(n.name)' is defined twice (at position \(i))")
        }
        let qos = try o["qos"].map { try array($0).map(qosEntry) } ?? [QoS(name: "normal")]
        try checkUnique(qos.map(\.name), o["qos"], what: "QoS")
        for q in qos {
            if let unknown = q.preempt.first(where: { p in !qos.contains { $0.name == p } }) {
                throw failure(at: "qos", "QoS '\(q.name)' may preempt '\(unknown)', which is not defined")
            }
        }
        let accounts = try o["accounts"].map { try array($0).map(account) } ?? [Account(name: "default")]
        try checkUnique(accounts.map(\.name), o["accounts"], what: "account")
        let partitions = try array(o["partitions"]!).map { try partition($0, known: seen) }
        guard !partitions.isEmpty else { throw fail(o["partitions"]!, "at least one partition is needed") }
        try checkUnique(partitions.map(\.name), o["partitions"], what: "partition")
        for (i, p) in partitions.enumerated() {
            if let unknown = p.allowedQoS?.first(where: { q in !qos.contains { $0.name == q } }) {
                throw failure(at: "partitions[\(i)].allowed_qos", "QoS '\(unknown)' is not defined")
            }
        }
        let reservations = try o["reservations"].map { try array($0).map { try reservation($0, known: seen) } } ?? []
        var licenses: [String: Int] = [:]
        if let l = o["licenses"] {
            guard case .object(let dict) = l.raw else { throw fail(l, "expected a table of license names and counts, such as { matlab = 10 }") }
            for (name, count) in dict {
                licenses[name] = try int(DocumentValue(count, at: "\(l.location).\(name)"), min: 0)
            }
        }

        var planner = PlannerConfiguration()
        var interval = 5
        var halfLife = 7 * 86400
        var weightsGiven = false
        if let s = o["scheduler"] {
            let so = try object(s, keys: ["policy", "interval", "preemption", "fair_share_half_life", "weights"])
            if let p = so["policy"] {
                let text = try string(p)
                guard let policy = SchedulingPolicy(rawValue: text) else {
                    throw fail(p, "'\(text)' is not one of fifo, easy, conservative")
                }
                planner.policy = policy
            }
            if let w = so["weights"] {
                planner.weights = try weights(w)
                weightsGiven = true
            }
            if let p = so["preemption"] { planner.preemption = try bool(p) }
            if let i = so["interval"] { interval = try duration(i, min: 1) }
            if let h = so["fair_share_half_life"] { halfLife = try duration(h, min: 1) }
        }
        // FIFO means age alone unless weights were given explicitly.
        if planner.policy == .fifo && !weightsGiven { planner.weights = .fifo }
        let defaultPartition = try o["default_partition"].map(string) ?? partitions[0].name
        guard partitions.contains(where: { $0.name == defaultPartition }) else {
            throw fail(o["default_partition"]!, "partition '\(defaultPartition)' is not defined")
        }
        if let l = o["listen"] {
            let text = try string(l)
            guard HostPort(text) != nil else { throw fail(l, "expected HOST:PORT, such as 127.0.0.1:6817") }
        }
        var c = ControllerConfiguration(
            clusterName: name, stateDirectory: resolve(try string(o["state_dir"]!)),
            socketPath: resolve(try string(o["socket"]!)), listen: try o["listen"].map(string),
            keyFile: try o["key_file"].map { resolve(try string($0)) }, operators: Set(try o["operators"].map(strings) ?? []),
            cluster: Cluster(name: name, nodes: nodes, partitions: partitions, qos: qos, accounts: accounts,
                             reservations: reservations, licenses: licenses),
            planner: planner, schedulerInterval: interval, fairShareHalfLife: halfLife,
            defaultPartition: defaultPartition,
            heartbeatTimeout: try o["heartbeat_timeout"].map { try duration($0, min: 1) } ?? 60)
        for (i, p) in try array(o["partitions"]!).enumerated() {
            if case .object(let fields) = p.raw, let prices = fields["prices"] {
                c.prices.partitions[partitions[i].name] = try priceList(DocumentValue(prices, at: "\(p.location).prices"))
            }
        }
        c.nodeAgents = nodeAgents
        c.billing = try o["billing"].map(billingPolicy) ?? BillingPolicy()
        for key in ["prolog", "epilog"] {
            guard let v = o[key] else { continue }
            let path = try string(v)
            guard path.hasPrefix("/") else { throw fail(v, "give the program's absolute path (agents run it as root)") }
            if key == "prolog" { c.prolog = path } else { c.epilog = path }
        }
        if let t = o["prolog_epilog_timeout"] { c.prologEpilogTimeout = try duration(t, min: 1) }
        if let v = o["mail_program"] {
            let path = try string(v)
            guard path.isEmpty || path.hasPrefix("/") else {
                throw fail(v, "give the program's absolute path, or \"\" for no mail (chessd runs it as its own user)")
            }
            c.mailProgram = path.isEmpty ? nil : path
        }
        if let v = o["mail_domain"] {
            let domain = try string(v)
            guard !domain.isEmpty, domain.utf8.count <= 253,
                  domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
                throw fail(v, "expected a domain name such as example.org")
            }
            c.mailDomain = domain
        }
        if let v = o["server"] {
            let so = try object(v, keys: ["max_connections", "max_connections_per_peer", "request_timeout", "idle_timeout", "cleartext_tcp"])
            if let b = so["cleartext_tcp"] { c.server.cleartextTCP = try bool(b) }
            if let n = so["max_connections"] { c.server.maxConnections = try int(n, min: 1) }
            if let n = so["max_connections_per_peer"] { c.server.maxConnectionsPerPeer = try int(n, min: 1) }
            if let t = so["request_timeout"] { c.server.requestTimeout = try duration(t, min: 1) }
            if let t = so["idle_timeout"] { c.server.idleTimeout = try duration(t, min: 1) }
        }
        if let v = o["tls"] {
            let to = try object(v, keys: ["certificate", "private_key"], required: ["certificate", "private_key"])
            c.tls = TLSFiles(certificate: resolve(try string(to["certificate"]!)), privateKey: resolve(try string(to["private_key"]!)))
        }
        if let v = o["private_data"] {
            // A list, or Slurm's own comma-separated string ("jobs,usage").
            let names: [String]
            if case .string(let text) = v.raw { names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } else { names = try strings(v) }
            for name in names where !name.isEmpty {
                guard let kind = PrivateData(name: name) else {
                    throw fail(v, "'\(name)' is not one of \(PrivateData.names.map(\.0).joined(separator: ", "))")
                }
                c.privateData.insert(kind)
            }
        }
        if let h = o["health_check"] {
            let ho = try object(h, keys: ["program", "interval", "timeout"], required: ["program"])
            let program = try string(ho["program"]!)
            guard program.hasPrefix("/") else { throw fail(ho["program"]!, "give the program's absolute path (agents run it as root)") }
            c.healthCheck = HealthCheckSettings(program: program, interval: try ho["interval"].map { try duration($0, min: 1) } ?? 300,
                                                timeout: try ho["timeout"].map { try duration($0, min: 1) } ?? 60)
        }
        if let m = o["market"] {
            var market = try marketSettings(m)
            market.providerKeyFile = resolve(market.providerKeyFile)
            if let a = market.account, !accounts.contains(where: { $0.name == a }) {
                throw failure(at: "market.account", "account '\(a)' is not defined")
            }
            c.market = market
        }
        return c
    }

    func checkUnique(_ names: [String], _ v: DocumentValue?, what: String) throws {
        var seen = Set<String>()
        for (i, n) in names.enumerated() where !seen.insert(n).inserted {
            throw failure(at: "\(v?.location ?? "")[\(i)].name", "\(what) '\(n)' is defined twice")
        }
    }
}

extension ControllerConfiguration {
    /// The objects of a kind, with their fields, as the document now has them.
    public func objects(_ kind: ConfigObjectKind) -> [[String: DocumentNode]] {
        guard case .array(let items)? = document.objectValue?[kind.rawValue] else {
            return kind == .qos ? [["name": .string("normal")]] : kind == .accounts ? [["name": .string("default")]] : []
        }
        return items.compactMap(\.objectValue)
    }

    public func object(_ kind: ConfigObjectKind, named name: String) -> [String: DocumentNode]? {
        objects(kind).first { $0["name"] == .string(name) }
    }

    /// This configuration with `overrides` applied in order, checked as the file is: a change
    /// that would make the file invalid is refused with the reason. Paths and listeners stay
    /// as they are (they may come from the environment).
    public func applying(_ overrides: [ConfigOverride]) throws -> ControllerConfiguration {
        guard !overrides.isEmpty else { return self }
        var root = document.objectValue ?? [:]
        for o in overrides {
            var items = objects(o.kind)
            if case .array(let current)? = root[o.kind.rawValue] { items = current.compactMap(\.objectValue) }
            let at = items.firstIndex { $0["name"] == .string(o.name) }
            if var fields = o.fields {
                fields["name"] = .string(o.name)
                if let at { items[at] = fields } else { items.append(fields) }
            } else if let at {
                items.remove(at: at)
            }
            root[o.kind.rawValue] = .array(items.map { .object($0) })
        }
        let reader = DocumentReader(path: "runtime configuration")
        var next: ControllerConfiguration
        do {
            next = try reader.controllerConfiguration(DocumentValue(.object(root), at: ""), directory: directory)
        } catch let e as DocumentReader.Failure {
            throw ConfigurationFile.Error(path: "", location: ControllerConfiguration.describe(e.location, in: root), reason: e.reason)
        }
        next.document = .object(root)
        next.directory = directory
        next.stateDirectory = stateDirectory
        next.socketPath = socketPath
        next.listen = listen
        next.keyFile = keyFile
        return next
    }

    /// `partitions[2].max_time` → `partition 'debug': max_time`.
    static func describe(_ location: String, in root: [String: DocumentNode]) -> String {
        for kind in ConfigObjectKind.allCases where location.hasPrefix(kind.rawValue + "[") {
            let rest = location.dropFirst(kind.rawValue.count + 1)
            guard let close = rest.firstIndex(of: "]"), let i = Int(rest[..<close]),
                  case .array(let items)? = root[kind.rawValue], i < items.count,
                  case .string(let name)? = items[i].objectValue?["name"] else { return location }
            let field = rest[rest.index(after: close)...].drop { $0 == "." }
            return "\(kind.singular) '\(name)'" + (field.isEmpty ? "" : ": \(field)")
        }
        return location
    }
}
