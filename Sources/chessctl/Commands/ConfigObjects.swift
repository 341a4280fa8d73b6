import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl partition|qos|account|reservation create|update|delete|list`: runtime changes to the
/// cluster, with the keys of the configuration file (`docs/configuration.md`) as `key=value`.
protocol ConfigKind {
    static var kind: ConfigObjectKind { get }
    static var abstract: String { get }
}

enum PartitionKind: ConfigKind {
    static let kind = ConfigObjectKind.partitions
    static let abstract = "Create, update, delete or list partitions (keys: nodes, priority_tier, default_time, max_time, allowed_qos, allowed_accounts, exclusive, …)."
}

enum QoSKind: ConfigKind {
    static let kind = ConfigObjectKind.qos
    static let abstract = "Create, update, delete or list QoS (keys: priority, preempt, preempt_mode, grace_time, usage_factor, max_wall, max_jobs_per_user, max_tres_per_job=cpu=64,gres/gpu=4, …)."
}

enum AccountKind: ConfigKind {
    static let kind = ConfigObjectKind.accounts
    static let abstract = "Create, update, delete or list accounts (keys: parent, shares, users: who may submit under it, grp_tres=cpu=512,gres/gpu=16, grp_jobs)."
}

enum ReservationKind: ConfigKind {
    static let kind = ConfigObjectKind.reservations
    static let abstract = "Create, update, delete or list reservations (keys: nodes, start, end or duration, users, accounts)."
}

struct ConfigCommand<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: K.kind.singular, abstract: K.abstract,
                             subcommands: [ConfigCreate<K>.self, ConfigUpdate<K>.self, ConfigDelete<K>.self, ConfigList<K>.self])
    }
}

struct ConfigCreate<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "create", abstract: "Create one (admins).") }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Name.") var name: String
    @Argument(help: "Fields as key=value.") var fields: [String] = []

    func run() throws {
        let body = try ConfigFields.parse(fields, kind: K.kind, forUpdate: false)
        let client = connection.client()
        let saved = try withController { try client.post("/v1/config/\(K.kind.rawValue)/\(name)", body, as: [String: DocumentNode].self) }
        print("Created \(K.kind.singular) \(name): \(ConfigFields.describe(saved))")
    }
}

struct ConfigUpdate<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "update", abstract: "Change fields (admins); key= removes a field.")
    }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Name.") var name: String
    @Argument(help: "Fields as key=value.") var fields: [String]

    func run() throws {
        let body = try ConfigFields.parse(fields, kind: K.kind, forUpdate: true)
        let client = connection.client()
        let data = try withController {
            try client.request("PATCH", "/v1/config/\(K.kind.rawValue)/\(name)", body: WireJSON.encode(body))
        }
        let saved = try WireJSON.decode([String: DocumentNode].self, from: data)
        print("Updated \(K.kind.singular) \(name): \(ConfigFields.describe(saved))")
    }
}

struct ConfigDelete<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "delete", abstract: "Delete one (admins).") }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Name.") var name: String

    func run() throws {
        let client = connection.client()
        try withController { _ = try client.request("DELETE", "/v1/config/\(K.kind.rawValue)/\(name)") }
        print("Deleted \(K.kind.singular) \(name)")
    }
}

struct ConfigList<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "list", abstract: "List them with their fields.") }
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/config/\(K.kind.rawValue)", json: json) else { return }
        let list = try WireJSON.decode(ConfigObjectList.self, from: data)
        Table.print(["NAME", "FIELDS"], list.objects.map { o in
            guard case .string(let name)? = o["name"] else { return ["?", ConfigFields.describe(o)] }
            var rest = o
            rest["name"] = nil
            return [name, ConfigFields.describe(rest)]
        })
    }
}

/// `key=value` arguments as the typed fields the configuration file would hold.
enum ConfigFields {
    static let listKeys: Set<String> = ["allowed_qos", "allowed_accounts", "preempt", "users", "accounts", "features"]
    static let tresKeys: Set<String> = ["max_tres_per_job", "max_tres_per_user", "grp_tres"]
    /// Slurm's time syntax: sent as text so that `60` means 60 minutes, as in Slurm.
    static let durationKeys: Set<String> = ["default_time", "max_time", "max_wall"]
    static let boolKeys: Set<String> = ["exclusive"]

    static func parse(_ args: [String], kind: ConfigObjectKind, forUpdate: Bool) throws -> [String: DocumentNode] {
        var out: [String: DocumentNode] = [:]
        let now = Int(Date().timeIntervalSince1970)
        var duration: Int?
        for arg in args {
            guard let eq = arg.firstIndex(of: "=") else { throw CLIError("'\(arg)' is not key=value") }
            let key = arg[..<eq].lowercased().replacingOccurrences(of: "-", with: "_")
            let value = String(arg[arg.index(after: eq)...])
            guard key != "name" else { throw CLIError("the name is the first argument, not a field") }
            if value.isEmpty {
                guard forUpdate else { throw CLIError("\(key)= has no value") }
                out[key] = .null
                continue
            }
            if listKeys.contains(key) {
                out[key] = .array(value.split(separator: ",").map { .string(String($0)) })
            } else if tresKeys.contains(key) {
                out[key] = try tres(value, key)
            } else if durationKeys.contains(key) {
                out[key] = .string(value)
            } else if boolKeys.contains(key) {
                guard let b = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][value.lowercased()] else {
                    throw CLIError("\(key)=\(value): expected true or false")
                }
                out[key] = .bool(b)
            } else if kind == .reservations && (key == "start" || key == "end") {
                do { out[key] = .int(try BatchOptions.beginTime(value, now: now)) } catch {
                    throw CLIError("\(key)=\(value): expected now, now+1hour, 2026-12-01T08:00 or Unix seconds")
                }
            } else if kind == .reservations && key == "duration" {
                do { duration = try JobSpecSyntax.timeLimit(value) } catch { throw CLIError("duration=\(value): \(error)") }
            } else if let i = Int(value) {
                out[key] = .int(i)
            } else if key == "usage_factor", let d = Double(value) {
                out[key] = .double(d)
            } else {
                out[key] = .string(value)
            }
        }
        if let duration {
            guard case .int(let start)? = out["start"] else { throw CLIError("duration= needs start=") }
            out["end"] = .int(start + duration)
        }
        return out
    }

    /// `cpu=64,mem=100G,gres/gpu=4,node=2` (Slurm's TRES names) or `cpus=64,memory_mb=…`.
    static func tres(_ text: String, _ key: String) throws -> DocumentNode {
        var o: [String: DocumentNode] = [:]
        for item in text.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw CLIError("\(key): '\(item)' is not name=count") }
            switch kv[0].lowercased() {
            case "cpu", "cpus": o["cpus"] = .int(try count(kv[1], key))
            case "mem", "memory", "memory_mb":
                do { o["memory_mb"] = .int(try JobSpecSyntax.memoryMB(kv[1])) } catch { throw CLIError("\(key): \(error)") }
            case "gres/gpu", "gpu", "gpus": o["gpus"] = .int(try count(kv[1], key))
            case "node", "nodes": o["nodes"] = .int(try count(kv[1], key))
            default: throw CLIError("\(key): unknown TRES '\(kv[0])'; use cpu, mem, gres/gpu, node")
            }
        }
        return .object(o)
    }

    static func count(_ v: String, _ key: String) throws -> Int {
        guard let n = Int(v), n >= 0 else { throw CLIError("\(key): '\(v)' is not a count") }
        return n
    }

    static func describe(_ fields: [String: DocumentNode]) -> String {
        fields.keys.sorted().map { "\($0)=\(text(fields[$0]!))" }.joined(separator: " ")
    }

    static func text(_ v: DocumentNode) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return s
        case .array(let a): return a.map(text).joined(separator: ",")
        case .object(let o): return o.keys.sorted().map { "\($0)=\(text(o[$0]!))" }.joined(separator: ",")
        }
    }
}

/// `show partition|qos|account|reservation NAME`.
struct ShowObject<K: ConfigKind>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: K.kind.singular, abstract: "Show a \(K.kind.singular) with its fields.")
    }
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print as JSON.") var json = false
    @Argument(help: "Name.") var name: String

    func run() throws {
        guard let data = try connection.read("/v1/config/\(K.kind.rawValue)/\(name)", json: json) else { return }
        let o = try WireJSON.decode([String: DocumentNode].self, from: data)
        Format.printRows(o.keys.sorted().map { ($0, ConfigFields.text(o[$0]!)) })
    }
}
