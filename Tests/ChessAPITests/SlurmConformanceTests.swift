import ChessAPI
import Foundation
import SchedulerCore
import Testing

/// Real `#SBATCH` scripts (`../shared/data/sbatch`, or `CHESS_SBATCH_DATA`) read by CHESS, against
/// what Slurm 22.05's own sbatch made of them: `Fixtures/sbatch-slurm-22.05.tsv`, recorded by
/// `scripts/slurm-truth.sh` (`CHESS_SBATCH_TRUTH` names another recording, for a held-out set).
/// Differences that are deliberate are listed, with their reasons, in
/// `Fixtures/sbatch-slurm-22.05.differences`. One test case per script found in the folder.
enum SbatchData {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let folder: URL = {
        if let custom = ProcessInfo.processInfo.environment["CHESS_SBATCH_DATA"] { return URL(fileURLWithPath: custom) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/sbatch")
    }()

    static let scripts: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { !$0.hasPrefix(".") && $0 != "SOURCES.md" }.sorted()

    /// Slurm's `scontrol show job -o` fields per script (or `REFUSED …`).
    static let truth: [String: String] = {
        let path = ProcessInfo.processInfo.environment["CHESS_SBATCH_TRUTH"] ?? fixtures.appendingPathComponent("sbatch-slurm-22.05.tsv").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var rows: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if parts.count == 2 { rows[parts[0]] = parts[1] }
        }
        return rows
    }()

    /// script (or `*`) → field → reason.
    static let deliberate: [String: [String: String]] = {
        guard let text = try? String(contentsOf: fixtures.appendingPathComponent("sbatch-slurm-22.05.differences"), encoding: .utf8) else { return [:] }
        var out: [String: [String: String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", maxSplits: 2).map(String.init)
            if f.count == 3 { out[f[0], default: [:]][f[1]] = f[2] }
        }
        return out
    }()

    /// `Key=Value` fields of an `scontrol show job -o` line.
    static func fields(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        for word in line.split(separator: " ") {
            guard let eq = word.firstIndex(of: "=") else { continue }
            out[String(word[..<eq])] = String(word[word.index(after: eq)...])
        }
        return out
    }
}

/// A parsed submission in `scontrol show job`'s terms, with Slurm's defaults where the script
/// gives nothing: what CHESS makes of the script, to hold against what Slurm made of it.
struct SlurmView {
    static func fields(of s: JobSubmission, script name: String, jobID: Int, user: String) -> [String: String] {
        var f: [String: String] = [:]
        let jobName = s.name ?? name
        f["JobName"] = jobName
        let tasksPerNode = s.ntasksPerNode
        let nodes = s.nodes ?? {
            if let n = s.ntasks, let per = tasksPerNode, per > 0 { return (n + per - 1) / per }
            return 1
        }()
        // Slurm: without --ntasks, the minimum nodes × --ntasks-per-node, else one.
        let tasks = s.ntasks ?? tasksPerNode.map { nodes * $0 } ?? 1
        let cpusPerTask = s.cpusPerTask ?? 1
        f["NumNodes"] = "\(nodes)"
        f["NumTasks"] = "\(tasks)"
        f["CPUs/Task"] = "\(cpusPerTask)"
        f["NumCPUs"] = "\(tasks * cpusPerTask)"
        f["NtasksPerN"] = "\(tasksPerNode ?? 0)"
        func memory(_ mb: Int) -> String {
            if mb == 0 { return "0" }
            if mb % (1024 * 1024) == 0 { return "\(mb / (1024 * 1024))T" }
            return mb % 1024 == 0 ? "\(mb / 1024)G" : "\(mb)M"
        }
        if let per = s.memPerCPUMB { f["MinMemoryCPU"] = memory(per) } else { f["MinMemoryNode"] = memory(s.memMB ?? 0) }
        f["TimeLimit"] = s.timeLimit.map(Self.time) ?? "UNLIMITED"
        f["Partition"] = s.partition ?? "defq"
        f["Account"] = s.account ?? "(null)"
        f["QOS"] = s.qos ?? "(null)"
        let type = s.gpuType.map { "\($0):" } ?? ""
        if let g = s.gpus { f["TresPerNode"] = "gres:gpu:\(type)\(g)" }
        if let g = s.gpusPerTask { f["TresPerTask"] = "gres:gpu:\(type)\(g)" }
        if let g = s.gpusPerJob { f["TresPerJob"] = "gres:gpu:\(type)\(g)" }
        var arrayJob: Int?
        if let a = s.array, let tasks = try? JobSpecSyntax.array(a) {
            arrayJob = jobID
            f["ArrayTasks"] = tasks.pending.map(String.init).joined(separator: ",")
            if let cap = tasks.maxRunning { f["ArrayTaskThrottle"] = "\(cap)" }
        }
        let workdir = s.workdir ?? "{workdir}"
        f["WorkDir"] = workdir
        let out = s.output ?? OutputPattern.defaultOutput(isArrayTask: arrayJob != nil)
        func resolve(_ p: String) -> String {
            OutputPattern.resolve(p, job: jobID, arrayJobID: arrayJob, arrayTaskID: nil, user: user, name: jobName, node: nil, workdir: workdir)
        }
        f["StdOut"] = resolve(out)
        f["StdErr"] = resolve(s.error ?? out)
        f["Features"] = s.constraint ?? "(null)"
        f["OverSubscribe"] = s.exclusive == true ? "NO" : "OK"
        f["Dependency"] = s.dependency ?? "(null)"
        if let t = s.mailType, let types = try? MailType(parsing: t), !types.isEmpty {
            f["MailType"] = types.description
            f["MailUser"] = s.mailUser ?? user
        }
        return f
    }

    /// Slurm's `[D-]HH:MM:SS`.
    static func time(_ seconds: Int) -> String {
        let d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        let hms = String(format: "%02d:%02d:%02d", h, m, s)
        return d > 0 ? "\(d)-\(hms)" : hms
    }

    /// Slurm's record in the same terms (node and array fields made comparable).
    static func fields(ofSlurm line: String) -> [String: String] {
        var f = SbatchData.fields(line)
        if let n = f["NumNodes"] { f["NumNodes"] = String(n.split(separator: "-").first ?? "") }
        if let n = f["NtasksPerN:B:S:C"] { f["NtasksPerN"] = String(n.split(separator: ":").first ?? "") }
        if let a = f["ArrayTaskId"], let tasks = try? JobSpecSyntax.array(a) {
            f["ArrayTasks"] = tasks.pending.map(String.init).joined(separator: ",")
        }
        if let d = f["Dependency"] { f["Dependency"] = d.replacingOccurrences(of: "(unfulfilled)", with: "") }
        return f
    }

    static let compared = ["JobName", "NumNodes", "NumTasks", "NtasksPerN", "CPUs/Task", "NumCPUs", "MinMemoryNode",
                           "MinMemoryCPU", "TimeLimit", "Partition", "Account", "QOS", "TresPerNode", "TresPerTask", "TresPerJob",
                           "ArrayTasks", "ArrayTaskThrottle", "WorkDir", "StdOut", "StdErr", "Features", "OverSubscribe",
                           "Dependency", "MailType", "MailUser"]
}

@Suite("Real #SBATCH scripts, read as Slurm 22.05 reads them")
struct SlurmConformanceTests {
    @Test func theDataIsThere() throws {
        try #require(!SbatchData.scripts.isEmpty, "no scripts in \(SbatchData.folder.path)")
        #expect(SbatchData.truth.count >= SbatchData.scripts.count, "Slurm's record lacks scripts: run scripts/slurm-truth.sh")
    }

    @Test(arguments: SbatchData.scripts)
    func readsAsSlurmReadsIt(script name: String) throws {
        let slurm = try #require(SbatchData.truth[name], "\(name): no Slurm record (scripts/slurm-truth.sh OUT.tsv SCRIPT)")
        let text = try String(contentsOf: SbatchData.folder.appendingPathComponent(name), encoding: .utf8)
        let parsed: JobSubmission
        do {
            parsed = try BatchOptions.submission(script: text, environment: [:], commandLine: [], now: 1_700_000_000).0
        } catch {
            #expect(slurm.hasPrefix("REFUSED"), "\(name): CHESS refuses what Slurm accepts: \(error)")
            return
        }
        #expect(!slurm.hasPrefix("REFUSED"), "\(name): Slurm refused it (\(slurm)), CHESS accepts it")
        guard !slurm.hasPrefix("REFUSED") else { return }
        let theirs = SlurmView.fields(ofSlurm: slurm)
        let jobID = Int(theirs["JobId"] ?? "") ?? 0
        let user = String((theirs["UserId"] ?? "root(0)").prefix { $0 != "(" })
        let ours = SlurmView.fields(of: parsed, script: name, jobID: jobID, user: user)
        for field in SlurmView.compared {
            if SbatchData.deliberate[name]?[field] != nil || SbatchData.deliberate["*"]?[field] != nil { continue }
            #expect(ours[field] == theirs[field], "\(name): \(field): CHESS \(ours[field] ?? "-"), Slurm \(theirs[field] ?? "-")")
        }
    }

    /// The list of deliberate differences names fields that exist, each with a reason.
    @Test func deliberateDifferencesHaveReasons() {
        for (script, fields) in SbatchData.deliberate {
            #expect(script == "*" || SbatchData.scripts.contains(script), "\(script) is not in the data")
            for (field, reason) in fields {
                #expect(SlurmView.compared.contains(field), "\(field)")
                #expect(reason.count > 20, "\(script) \(field): say why")
            }
        }
    }
}
