import ArgumentParser
import ChessAPI
import Foundation

/// `chessctl report utilization|topusage`: sreport cluster utilization and user topusage.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "What the cluster delivered over a period (sreport).",
        subcommands: [ReportUtilization.self, ReportTopUsage.self])
}

/// What both reports take: the period and how amounts are shown.
struct ReportOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("S"), .long], help: "Start of the period (default: yesterday at midnight, as sreport).") var starttime: String?
    @Option(name: [.customShort("E"), .long], help: "End of the period (default: midnight today).") var endtime: String?
    @Option(name: [.customShort("t"), .long], help: "Amounts in minutes (default), hours, seconds or percent of the period's CPU time.")
    var timeFormat: String = "minutes"
    @Flag(name: [.customShort("n"), .long], help: "No header.") var noheader = false
    @Flag(help: "Print the report as JSON (CPU-seconds).") var json = false

    enum Unit: String { case minutes, hours, seconds, percent }

    func unit() throws -> Unit {
        guard let u = Unit(rawValue: timeFormat.lowercased()) else {
            throw CLIError("-t \(timeFormat): give minutes, hours, seconds or percent")
        }
        return u
    }

    /// `[start, end)` as Unix seconds.
    func period() throws -> (Int, Int) {
        let now = Int(Date().timeIntervalSince1970)
        let midnight = Int(Calendar.current.startOfDay(for: Date()).timeIntervalSince1970)
        let yesterday = Int(Calendar.current.date(byAdding: .day, value: -1, to: Date(timeIntervalSince1970: TimeInterval(midnight)))!
            .timeIntervalSince1970)
        let start = try TimeOption.parse(starttime, option: "--starttime", now: now, default: yesterday)
        let end = try TimeOption.parse(endtime, option: "--endtime", now: now, default: midnight)
        guard end >= start else { throw CLIError("--endtime is before --starttime") }
        return (start, end)
    }

    /// CPU-seconds in the unit: rounded to whole minutes or hours, percent with two decimals.
    static func amount(_ seconds: Int, of reported: Int, in unit: Unit) -> String {
        switch unit {
        case .seconds: return "\(seconds)"
        case .minutes: return "\((seconds + 30) / 60)"
        case .hours: return "\((seconds + 1800) / 3600)"
        case .percent:
            guard reported > 0 else { return "0.00%" }
            let hundredths = (Int128(seconds) * 10_000 + Int128(reported) / 2) / Int128(reported)
            return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)%"
        }
    }

    /// sreport's banner: the period and the unit.
    func banner(_ title: String, _ start: Int, _ end: Int, _ unit: Unit) {
        guard !noheader else { return }
        let rule = String(repeating: "-", count: 80)
        print(rule)
        print("\(title) \(Time.timestamp(start)) - \(Time.timestamp(end - 1)) (\(end - start) secs)")
        print(unit == .percent ? "Usage reported in Percentage of Total" : "Usage reported in CPU \(unit.rawValue.capitalized)")
        print(rule)
    }
}

struct ReportUtilization: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "utilization",
        abstract: "CPU time allocated, down, idle and reported over the period (sreport cluster utilization).",
        discussion: """
            Reported is every configured node's cores over the period; Down, the cores of nodes that were \
            out (down by an administrator, or with a silent agent) for as long as they were; Allocated, \
            the cores jobs held; Idle, the rest. A requeued job counts its last run.
            """)

    @OptionGroup var options: ReportOptions

    func run() throws {
        let unit = try options.unit()
        let (start, end) = try options.period()
        guard let data = try options.connection.read("/v1/reports/utilization", ["start=\(start)", "end=\(end)"], json: options.json)
        else { return }
        let r = try WireJSON.decode(UtilizationReport.self, from: data)
        options.banner("Cluster Utilization", r.start, r.end, unit)
        func a(_ s: Int) -> String { ReportOptions.amount(s, of: r.reported, in: unit) }
        Table.print(["Allocated", "Down", "Idle", "Reported", "CPUs"], [[a(r.allocated), a(r.down), a(r.idle), a(r.reported), "\(r.cpus)"]],
                    header: !options.noheader)
    }
}

struct ReportTopUsage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topusage",
        abstract: "The users whose jobs held the most CPU time over the period (sreport user topusage).")

    @OptionGroup var options: ReportOptions
    @Option(help: "How many users.") var top = 10

    func run() throws {
        let unit = try options.unit()
        let (start, end) = try options.period()
        guard top >= 1 else { throw CLIError("--top must be at least 1") }
        guard let data = try options.connection.read("/v1/reports/top-usage", ["start=\(start)", "end=\(end)", "top=\(top)"],
                                                     json: options.json) else { return }
        let r = try WireJSON.decode(TopUsageReport.self, from: data)
        options.banner("Top \(top) Users", r.start, r.end, unit)
        Table.print(["Login", "Account", "Used", "GPUUsed", "Jobs"], r.users.map { u in
            [u.user, u.accounts.joined(separator: ","), ReportOptions.amount(u.cpuSeconds, of: r.reported, in: unit),
             ReportOptions.amount(u.gpuSeconds, of: r.reported, in: unit), "\(u.jobs)"]
        }, header: !options.noheader)
    }
}
