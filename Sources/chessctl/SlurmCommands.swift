/// Slurm's command names, for chessctl called through a link of that name (`make release`
/// makes them beside it; jobs find them first in their `PATH`): what each means here. The
/// subcommands take Slurm's options already; `scontrol` and `sreport` have words to map.
enum SlurmCommands {
    static let plain: [String: String] = [
        "sbatch": "submit", "squeue": "queue", "scancel": "cancel", "sinfo": "nodes", "sacct": "acct", "sprio": "priority",
        "sshare": "share", "sstat": "stat", "seff": "eff", "sdiag": "diag",
    ]

    /// chessctl's arguments for `command ARGS`; nil when chessctl does not stand in for it.
    static func arguments(for command: String, _ args: [String]) throws -> [String]? {
        if let sub = plain[command] { return [sub] + args }
        switch command {
        case "sreport":
            // sreport cluster utilization / user topusage: the report's name is enough here.
            var rest = args
            if let first = rest.first, ["cluster", "user"].contains(first.lowercased()) { rest.removeFirst() }
            guard let report = rest.first else { throw SlurmError("give a report: cluster utilization, user topusage") }
            return ["report", report.lowercased()] + rest.dropFirst()
        case "scontrol":
            return try scontrol(args)
        default:
            return nil
        }
    }

    static let partitionKeys: [String: String] = [
        "maxtime": "max_time", "defaulttime": "default_time", "maxnodes": "max_nodes", "allowaccounts": "allowed_accounts",
        "allowqos": "allowed_qos", "prioritytier": "priority_tier", "priorityjobfactor": "priority_job_factor",
        "defmempercpu": "def_mem_per_cpu", "maxmempercpu": "max_mem_per_cpu", "defmempernode": "def_mem_per_node",
        "maxmempernode": "max_mem_per_node",
    ]

    struct SlurmError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// scontrol's words: `show …`, `hold|release|suspend|resume|requeue IDS`, `requeuehold IDS`,
    /// `update JobId=ID KEY=VALUE…`, `update NodeName=NODES State=DRAIN|RESUME|DOWN Reason=…`,
    /// `write batch_script ID`, `reconfigure`, `ping`.
    static func scontrol(_ args: [String]) throws -> [String] {
        guard let verb = args.first?.lowercased() else { throw SlurmError("give a command: show, update, hold, release, …") }
        let rest = Array(args.dropFirst())
        switch verb {
        case "show":
            return ["show"] + rest.enumerated().map { $0.offset == 0 ? $0.element.lowercased() : $0.element }
        case "hold", "release", "suspend", "resume", "requeue", "reconfigure", "ping":
            return [verb] + rest
        case "requeuehold":
            return ["requeue", "--hold"] + rest
        case "write":
            guard rest.first?.lowercased() == "batch_script", rest.count >= 2 else { throw SlurmError("write batch_script JOBID") }
            return ["show", "script", rest[1]]
        case "update":
            var fields: [String: String] = [:]
            var order: [String] = []
            for word in rest {
                let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw SlurmError("update: '\(word)' is not KEY=VALUE") }
                fields[parts[0].lowercased()] = String(parts[1])
                order.append(word)
            }
            if let job = fields["jobid"] ?? fields["job"] {
                return ["update", job] + order.filter { !["jobid", "job"].contains($0.split(separator: "=")[0].lowercased()) }
            }
            if let nodes = fields["nodename"] ?? fields["node"] {
                guard let state = fields["state"]?.lowercased() else { throw SlurmError("update NodeName=… needs State=DRAIN, RESUME or DOWN") }
                let reason = fields["reason"].map { ["--reason", $0] } ?? []
                switch state {
                case "drain": return ["node", "drain"] + (reason.isEmpty ? ["--reason", "drained"] : reason) + [nodes]
                case "down": return ["node", "down"] + reason + [nodes]
                case "resume", "idle", "undrain": return ["node", "resume", nodes]
                default: throw SlurmError("update NodeName=… State=\(state): DRAIN, RESUME and DOWN are what CHESS does")
                }
            }
            if let partition = fields["partitionname"] {
                // slurm.conf's partition keys, as the configuration file spells them.
                return ["partition", "update", partition] + order.compactMap { word in
                    let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let key = parts[0].lowercased()
                    guard key != "partitionname" else { return nil }
                    return "\(partitionKeys[key] ?? key)=\(parts[1])"
                }
            }
            throw SlurmError("update: give JobId=, NodeName= or PartitionName=")
        default:
            throw SlurmError("'\(verb)' is not one of the scontrol commands CHESS has (show, update, hold, release, suspend, resume, requeue, requeuehold, write batch_script, reconfigure, ping)")
        }
    }
}
