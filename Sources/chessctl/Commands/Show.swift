import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl show job|node NAME`: scontrol show.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one job, node, partition, QoS, account or reservation in detail; expand or compress host lists (scontrol show).",
        subcommands: [ShowJob.self, ShowNode.self, ShowObject<PartitionKind>.self, ShowObject<QoSKind>.self,
                      ShowObject<AccountKind>.self, ShowObject<ReservationKind>.self, ShowScript.self,
                      ShowEvents.self, ShowConfig.self, ShowLicenses.self, ShowHostNames.self, ShowHostList.self]
    )
}

struct ShowJob: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show a job (1234 or 1234_7).")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the job as JSON.") var json = false
    @Argument(help: "Job id.") var id: String

    func run() throws { try Self.show(id, json: json, socket: connection.socket) }

    /// `show job ID [--json] [--socket PATH]` read without ArgumentParser (`PlainCommandLine`);
    /// nil: another form, which ArgumentParser reads.
    static func runFast(_ arguments: [String]) -> (() throws -> Void)? {
        guard let line = PlainCommandLine(arguments, names: PlainCommandLine.socket.merging(["--json": ("json", .flag)]) { a, _ in a },
                                          maxOperands: 1),
              let id = line.operands.first else { return nil }
        return { try show(id, json: line.flags.contains("json"), socket: line.values["socket"]) }
    }

    static func show(_ id: String, json: Bool, socket: String?) throws {
        guard id.split(separator: "_").allSatisfy({ Int($0) != nil }) else { throw CLIError("'\(id)' is not a job id (1234 or 1234_7)") }
        guard let data = try ConnectionOptions.read(socket: socket, "/v1/jobs/\(id)", json: json) else { return }
        let j = try WireJSON.decode(JobInfo.self, from: data)
        var rows: [(String, String)] = []
        rows.add("JobId", j.displayID)
        rows.add("JobName", j.name)
        rows.add("User", j.user)
        rows.add("Account", j.account)
        rows.add("Partition", j.partition)
        rows.add("QOS", j.qos)
        rows.add("JobState", j.state)
        rows.add("Reason", j.reasonText)
        rows.add("Priority", j.priority.map(String.init))
        rows.add("Nice", j.nice.map(String.init))
        rows.add("Dependency", j.dependency)
        rows.add("ArrayTasksPending", j.arrayPending)
        rows.add("SubmitTime", Time.timestamp(j.submitTime))
        rows.add("EligibleTime", j.eligibleTime.map { Time.timestamp($0) })
        rows.add("StartTime", j.startTime.map { Time.timestamp($0) } ?? j.plannedStart.map { Time.timestamp($0) + " (expected)" })
        rows.add("EndTime", j.endTime.map { Time.timestamp($0) })
        rows.add("RunTime", j.startTime.map { Time.duration((j.endTime ?? Int(Date().timeIntervalSince1970)) - $0) })
        rows.add("TimeLimit", Time.duration(j.timeLimit))
        rows.add("NodeList", j.nodeList)
        rows.add("ReqNodeList", j.requiredNodes)
        rows.add("ExcNodeList", j.excludedNodes)
        rows.add("NumNodes", "\(j.nodes)")
        rows.add("NumCPUs", "\(j.cpus)")
        rows.add("Memory", j.memoryMB > 0 ? "\(j.memoryMB)M" : nil)
        rows.add("GPUs", j.gpus > 0 ? "\(j.gpus)" : nil)
        rows.add("Licenses", j.licenses)
        rows.add("ExitCode", j.exitCode.map(String.init))
        rows.add("WorkDir", j.workdir)
        rows.add("MailUser", j.mailUser)
        rows.add("MailType", j.mailType)
        // Where the files are (or will be), patterns resolved, as scontrol shows them.
        let workdir = j.workdir ?? "/tmp"
        let node = j.nodeList.flatMap { (try? HostList.expand($0))?.first }
        let isArray = j.arrayJobID != nil || j.arrayPending != nil
        func resolved(_ pattern: String) -> String {
            // An array's own record has no task: its tasks' files differ by `%a`, left as it is.
            isArray && j.arrayTaskID == nil
                ? (pattern.hasPrefix("/") ? pattern : "\(workdir)/\(pattern)")
                : OutputPattern.resolve(pattern, job: j.id, arrayJobID: j.arrayJobID, arrayTaskID: j.arrayTaskID, user: j.user,
                                        name: j.name, node: node, workdir: workdir)
        }
        let output = resolved(j.output ?? OutputPattern.defaultOutput(isArrayTask: isArray))
        rows.add("StdOut", output)
        rows.add("StdErr", j.error.map(resolved) ?? output)
        Format.printRows(rows)
    }
}

/// `chessctl show config`: scontrol show config.
struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "chessd's settings in effect now (scontrol show config).")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print them as JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/config", json: json) else { return }
        let list = try WireJSON.decode(SettingList.self, from: data)
        let width = list.settings.map(\.key.count).max() ?? 0
        for s in list.settings { print(s.key.padding(toLength: width, withPad: " ", startingAt: 0) + " = " + s.value) }
    }
}

/// `chessctl show licenses`: scontrol show licenses.
struct ShowLicenses: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "licenses", abstract: "The cluster's licenses: total, used by running jobs, free (scontrol show licenses).")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print them as JSON.") var json = false

    func run() throws {
        guard let data = try connection.read("/v1/licenses", json: json) else { return }
        let list = try WireJSON.decode(LicenseList.self, from: data)
        Table.print(["LICENSE", "TOTAL", "USED", "FREE"], list.licenses.map { [$0.name, "\($0.total)", "\($0.used)", "\($0.free)"] })
    }
}

/// `chessctl show events ID`: a job's state changes with their reasons.
struct ShowEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "A job's history: each state change with its time and reason (submitted, started, requeued, ended, …).")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print them as JSON.") var json = false
    @Argument(help: "Job id.") var id: String

    func run() throws {
        guard id.split(separator: "_").allSatisfy({ Int($0) != nil }) else { throw CLIError("'\(id)' is not a job id (1234 or 1234_7)") }
        guard let data = try connection.read("/v1/jobs/\(id)/events", json: json) else { return }
        let list = try WireJSON.decode(JobEventList.self, from: data)
        Table.print(["TIME", "STATE", "REASON"], list.events.map { [Time.timestamp($0.time), $0.state, $0.reason ?? ""] })
    }
}

/// `chessctl show script ID`: scontrol write batch_script ID -.
struct ShowScript: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "script", abstract: "Print the batch script a job was submitted with (scontrol write batch_script); its owner's and administrators'.")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print it as JSON.") var json = false
    @Argument(help: "Job id.") var id: String

    func run() throws {
        guard id.split(separator: "_").allSatisfy({ Int($0) != nil }) else { throw CLIError("'\(id)' is not a job id (1234 or 1234_7)") }
        guard let data = try connection.read("/v1/jobs/\(id)/script", json: json) else { return }
        var script = Array(try WireJSON.decode(JobScript.self, from: data).script.utf8)
        // Exact into a file or a pipe (`> job.sh`, `| less`); on a terminal, another user's
        // escape sequences are shown as `?` rather than obeyed, lines and tabs kept (docs/security.md).
        if isatty(1) == 1 { script.withUnsafeMutableBytes { TerminalText.neutralize($0) } }
        FileHandle.standardOutput.write(Data(script))
    }
}

struct ShowNode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Show a node with its topology.")

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the node as JSON.") var json = false
    @Argument(help: "Node name.") var name: String

    /// ` util=37% mem=38/40960M temp=36C power=66.92W mig=on uuid=GPU-…`: what the driver said at
    /// the last heartbeat, N/A figures left out.
    static func describe(_ g: NodeMetrics.GPUMetrics) -> String {
        var words: [String] = []
        if let u = g.utilizationPercent { words.append("util=\(u)%") }
        if let used = g.memoryUsedMB { words.append("mem=\(used)" + (g.memoryTotalMB.map { "/\($0)" } ?? "") + "M") }
        if let t = g.temperatureC { words.append("temp=\(t)C") }
        if let p = g.powerMilliwatts {
            let centi = (p + 5) / 10
            words.append("power=\(centi / 100).\(centi % 100 < 10 ? "0" : "")\(centi % 100)W")
        }
        if let mig = g.migEnabled { words.append("mig=\(mig ? "on" : "off")") }
        if let e = g.eccUncorrected, e > 0 { words.append("ecc_uncorrected=\(e)") }
        if let uuid = g.uuid { words.append("uuid=\(uuid)") }
        return words.isEmpty ? "" : " " + words.joined(separator: " ")
    }

    func run() throws {
        guard let data = try connection.read("/v1/nodes/\(name)", json: json) else { return }
        let n = try WireJSON.decode(NodeInfo.self, from: data)
        var rows: [(String, String)] = []
        rows.add("NodeName", n.name)
        rows.add("State", n.state.uppercased())
        rows.add("Reason", n.reason)
        rows.add("Partitions", n.partitions.joined(separator: ","))
        rows.add("Sockets", "\(n.sockets)")
        rows.add("Cores", "\(n.cores)")
        rows.add("CPUs", "\(n.cpus)")
        rows.add("RealMemory", "\(n.memoryMB)M")
        rows.add("Allocated", "cores=\(n.allocatedCores) mem=\(n.allocatedMemoryMB)M gpus=\(n.allocatedGPUs)")
        rows.add("Features", n.features.joined(separator: ","))
        rows.add("Switch", n.leafSwitch)
        rows.add("Jobs", n.jobs.map(String.init).joined(separator: ","))
        rows.add("LastHeartbeat", n.lastHeartbeat.map { Time.timestamp($0) } ?? "never")
        if let m = n.metrics {
            rows.add("Load", "\(m.load1Centi / 100).\(m.load1Centi % 100 < 10 ? "0" : "")\(m.load1Centi % 100)")
            rows.add("FreeMem", "\(m.memoryFreeMB)M of \(m.memoryTotalMB)M")
        }
        for d in n.numa {
            let gpus = d.gpus.isEmpty ? "" : " gpus=\(d.gpus.map(String.init).joined(separator: ","))"
            // Memory-only nodes attached to the domain: `(DRAM 1024M node0 + MCDRAM 2048M node7)`.
            let parts = d.memoryNodes.map { nodes in
                " (" + nodes.map { "\($0.kind ?? "memory") \($0.memoryMB)M node\($0.osIndex)" }.joined(separator: " + ") + ")"
            } ?? ""
            rows.add("NUMA\(d.id)", "cores=\(HostList.ranges(d.cores)) mem=\(d.memoryMB)M\(parts)\(gpus)")
        }
        let figures = Dictionary((n.metrics?.gpus ?? []).map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        for g in n.gpus {
            rows.add("GPU\(g.index)", "\(g.type)" + (g.numa.map { " numa=\($0)" } ?? "") + (figures[g.index].map(Self.describe) ?? ""))
        }
        for (i, h) in n.hcas.enumerated() { rows.add("HCA\(i)", h) }
        Format.printRows(rows)
    }
}
