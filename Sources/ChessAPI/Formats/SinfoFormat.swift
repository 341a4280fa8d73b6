/// sinfo's `-o/--format` (`"%P %a %l %D %t %N"`, `"%n %T %C %E"`), as monitoring scripts written
/// for Slurm pass it. Without `-N` nodes whose row would read the same are one row (sinfo's
/// grouping): the node list, node count and CPU counts add up over them; with `-N`, one row per
/// node and partition.
public struct SinfoFormat: Sendable {
    public enum Field: Sendable, Hashable {
        case partition, partitionName, avail, timeLimit, nodeCount, state, stateLong, nodeList, hostname
        case cpus, memory, gres, features, reason, freeMemory, cpuLoad, cpuCounts, sockets
    }

    public static let letters: [Character: Field] = [
        "P": .partition, "R": .partitionName, "a": .avail, "l": .timeLimit, "D": .nodeCount, "t": .state, "T": .stateLong,
        "N": .nodeList, "n": .hostname, "c": .cpus, "m": .memory, "G": .gres, "f": .features, "E": .reason,
        "e": .freeMemory, "O": .cpuLoad, "C": .cpuCounts, "X": .sockets,
    ]

    static let headers: [Field: String] = [
        .partition: "PARTITION", .partitionName: "PARTITION", .avail: "AVAIL", .timeLimit: "TIMELIMIT", .nodeCount: "NODES",
        .state: "STATE", .stateLong: "STATE", .nodeList: "NODELIST", .hostname: "HOSTNAMES", .cpus: "CPUS", .memory: "MEMORY",
        .gres: "GRES", .features: "AVAIL_FEATURES", .reason: "REASON", .freeMemory: "FREE_MEM", .cpuLoad: "CPU_LOAD",
        .cpuCounts: "CPUS(A/I/O/T)", .sockets: "SOCKETS",
    ]

    /// Fields that add up over the nodes of a row; the others decide which nodes share one.
    static let aggregate: Set<Field> = [.nodeCount, .nodeList, .cpuCounts]

    /// sinfo's short and long state names for CHESS's node states.
    static let shortStates = ["mixed": "mix", "allocated": "alloc", "draining": "drng"]
    static let longStates = ["drain": "drained"]

    /// One node as listed under one partition.
    public struct Entry: Sendable {
        public var node: NodeInfo
        public var partition: String
        public var summary: PartitionSummary?
        public init(node: NodeInfo, partition: String, summary: PartitionSummary?) {
            self.node = node
            self.partition = partition
            self.summary = summary
        }
    }

    let format: PercentFormat<Field>

    public init(_ text: String) throws(JobSpecSyntax.Error) {
        format = try PercentFormat(text, letters: Self.letters)
    }

    public func header() -> String { format.render { Self.headers[$0] ?? "" } }

    /// The rows, in the order their first node comes.
    public func rows(_ entries: [Entry], perNode: Bool) -> [String] {
        var groups: [[Entry]] = []
        var position: [[String]: Int] = [:]
        let keyFields = format.fields.filter { !Self.aggregate.contains($0) }
        for e in entries {
            let key = perNode ? ["\(groups.count)"] : keyFields.map { Self.value($0, of: [e]) }
            if let at = position[key] { groups[at].append(e) } else { position[key] = groups.count; groups.append([e]) }
        }
        return groups.map { group in format.render { Self.value($0, of: group) } }
    }

    /// A field over the entries of one row (a field that does not add up reads the first's).
    static func value(_ field: Field, of entries: [Entry]) -> String {
        let e = entries[0]
        let n = e.node
        switch field {
        case .partition: return e.summary?.isDefault == true ? "\(e.partition)*" : e.partition
        case .partitionName: return e.partition
        case .avail: return e.summary.map { $0.state == "inactive" ? "inact" : $0.state } ?? "up"
        case .timeLimit: return e.summary?.maxTime.map { SlurmTime.duration($0) } ?? "infinite"
        case .nodeCount: return "\(entries.count)"
        case .state: return shortStates[n.state] ?? n.state
        case .stateLong: return longStates[n.state] ?? n.state
        case .nodeList: return HostList.compress(entries.map(\.node.name))
        case .hostname: return n.name
        case .cpus: return "\(n.cores)"
        case .memory: return "\(n.memoryMB)"
        case .sockets: return "\(n.sockets)"
        case .gres:
            var byType: [(String, Int)] = []
            for g in n.gpus {
                if let i = byType.firstIndex(where: { $0.0 == g.type }) { byType[i].1 += 1 } else { byType.append((g.type, 1)) }
            }
            return byType.isEmpty ? "(null)" : byType.map { "gpu:\($0.0):\($0.1)" }.joined(separator: ",")
        case .features: return n.features.isEmpty ? "(null)" : n.features.joined(separator: ",")
        case .reason: return n.reason ?? "none"
        case .freeMemory: return n.metrics.map { "\($0.memoryFreeMB)" } ?? "N/A"
        case .cpuLoad:
            guard let load = n.metrics?.load1Centi else { return "N/A" }
            return "\(load / 100).\(load % 100 < 10 ? "0" : "")\(load % 100)"
        case .cpuCounts:
            // Allocated, idle, other (cores of drained, down or failed nodes not in use), total.
            var (a, i, o, t) = (0, 0, 0, 0)
            for x in entries.map(\.node) {
                let out = ["drain", "draining", "down", "fail"].contains(x.state)
                a += x.allocatedCores
                t += x.cores
                if out { o += x.cores - x.allocatedCores } else { i += x.cores - x.allocatedCores }
            }
            return "\(a)/\(i)/\(o)/\(t)"
        }
    }
}
