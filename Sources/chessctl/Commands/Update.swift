import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl update 1234 time_limit=2:00:00 name=big priority=5000 partition=long`: scontrol
/// update job.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a live job's time limit, name or priority, or a pending job's partition, QoS, account or node lists (scontrol update job).",
        discussion: """
            Keys (Slurm's spellings too): time_limit|TimeLimit (as --time: minutes, HH:MM:SS, D-HH:MM:SS), \
            name|JobName, priority|Priority, nice|Nice, dependency|Dependency, begin|StartTime (as --begin), array_throttle|ArrayTaskThrottle, partition|Partition, qos|QOS, account|Account, \
            nodelist|ReqNodeList, exclude|ExcNodeList (host lists; empty removes). Owners may \
            shorten a time limit; lengthening it and setting a priority are for administrators. A running \
            job's new limit reaches its node at once. A pending job moves to another partition, QoS, \
            account or set of nodes only if a submission there would be accepted.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the job as JSON after the change.") var json = false
    @Argument(help: "Job id (1234 or 1234_7).") var id: String
    @Argument(help: "Changes as key=value.") var changes: [String]

    func run() throws {
        guard !id.isEmpty, id.split(separator: "_").allSatisfy({ Int($0) != nil }) else { throw CLIError("'\(id)' is not a job id (1234 or 1234_7)") }
        let update = try Self.parse(changes)
        let client = connection.client()
        let data: Data
        do {
            data = try client.request("PATCH", "/v1/jobs/\(id)", body: WireJSON.encode(update))
        } catch let e as ControllerClient.Failure {
            throw CLIError(e.description)
        }
        if json { FileHandle.standardOutput.write(data + Data("\n".utf8)); return }
        let job = try WireJSON.decode(JobInfo.self, from: data)
        var done: [String] = []
        if update.timeLimit != nil { done.append("TimeLimit=\(Time.duration(job.timeLimit))") }
        if update.name != nil { done.append("JobName=\(job.name)") }
        if update.priority != nil { done.append("Priority=\(job.priority.map(String.init) ?? "?")") }
        if update.nice != nil { done.append("Nice=\(job.nice ?? 0)") }
        if update.dependency != nil { done.append("Dependency=\(job.dependency ?? "(null)")") }
        if let begin = update.begin { done.append("BeginTime=\(Time.timestamp(begin))") }
        if update.arrayThrottle != nil { done.append("ArrayTaskThrottle=\(update.arrayThrottle!)") }
        if update.partition != nil { done.append("Partition=\(job.partition)") }
        if update.qos != nil { done.append("QOS=\(job.qos)") }
        if update.account != nil { done.append("Account=\(job.account)") }
        if update.nodelist != nil { done.append("ReqNodeList=\(job.requiredNodes ?? "(null)")") }
        if update.exclude != nil { done.append("ExcNodeList=\(job.excludedNodes ?? "(null)")") }
        print("Job \(job.displayID) updated: \(done.joined(separator: " "))")
    }

    static func parse(_ changes: [String]) throws -> JobUpdate {
        guard !changes.isEmpty else { throw CLIError("nothing to change: give time_limit=…, name=…, priority=…, nice=…, dependency=…, begin=…, partition=…, qos=…, account=…, nodelist=… or exclude=…") }
        var update = JobUpdate()
        for change in changes {
            guard let eq = change.firstIndex(of: "="), eq != change.startIndex else { throw CLIError("'\(change)' is not key=value") }
            let key = change[..<eq].lowercased(), value = String(change[change.index(after: eq)...])
            switch key {
            case "time_limit", "timelimit", "time":
                let seconds: Int?
                do { seconds = try JobSpecSyntax.timeLimit(value) } catch { throw CLIError("\(error)".replacingOccurrences(of: "--time", with: "time_limit")) }
                guard let seconds, seconds > 0 else { throw CLIError("time_limit must be a positive duration, got '\(value)'") }
                update.timeLimit = seconds
            case "name", "jobname":
                update.name = value
            case "priority":
                guard let p = Int(value), p >= 0 else { throw CLIError("priority must be a whole number ≥ 0, got '\(value)'") }
                update.priority = p
            case "nice":
                guard let n = Int(value) else { throw CLIError("nice must be a whole number, got '\(value)'") }
                update.nice = n
            case "dependency":
                if !value.isEmpty {
                    do { _ = try JobSpecSyntax.dependencies(value) } catch { throw CLIError("\(error)") }
                }
                update.dependency = value
            case "array_throttle", "arraytaskthrottle":
                guard let n = Int(value), n >= 0 else { throw CLIError("array_throttle must be a whole number (0 removes the cap), got '\(value)'") }
                update.arrayThrottle = n
            case "begin", "begintime", "starttime":
                do { update.begin = try BatchOptions.beginTime(value, now: Int(Date().timeIntervalSince1970)) } catch {
                    throw CLIError("\(error)".replacingOccurrences(of: "--begin", with: "begin"))
                }
            case "partition", "qos", "account":
                guard !value.isEmpty, !value.contains(where: \.isWhitespace) else { throw CLIError("\(key) must be a name, got '\(value)'") }
                switch key {
                case "partition": update.partition = value
                case "qos": update.qos = value
                default: update.account = value
                }
            case "nodelist", "reqnodelist", "exclude", "excnodelist":
                if !value.isEmpty {
                    do { _ = try HostList.expand(value) } catch { throw CLIError("\(key): \(error)") }
                }
                if key == "nodelist" || key == "reqnodelist" { update.nodelist = value } else { update.exclude = value }
            default:
                throw CLIError("unknown key '\(change[..<eq])'; keys: time_limit, name, priority, nice, dependency, begin, array_throttle, partition, qos, account, nodelist, exclude")
            }
        }
        return update
    }
}
