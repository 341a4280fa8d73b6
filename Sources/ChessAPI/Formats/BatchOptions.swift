import Foundation
import SchedulerCore

/// Slurm's `sbatch` options, understood the same way in `#SBATCH`/`#CHESS` directives and on
/// `chessctl submit`'s command line. Applying options to a `JobSubmission` in order gives
/// Slurm's precedence: directives first, then the command line over them.
public enum BatchOptions {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ d: String) { description = d }
    }

    /// Options that only steer `chessctl` itself, not the job.
    public struct ClientOptions: Equatable, Sendable {
        public var parsable = false
        public var wrap: String?
        public var json = false
        /// `--wait`/`-W`: return when the job has ended, with its exit code.
        public var wait = false
        /// `--test-only`: check the job and say when it would start, without submitting it.
        public var testOnly = false
        public init() {}
    }

    /// What applying options produced: the job, client switches, and warnings for options that
    /// are understood but have no effect here (`--mail-type`, …).
    public struct Result: Sendable {
        public var submission: JobSubmission
        public var client: ClientOptions
        public var warnings: [String]
        /// Arguments left over (the script path and its arguments).
        public var operands: [String]
    }

    enum Kind: Sendable {
        case value(@Sendable (inout JobSubmission, String, Int) throws -> Void)
        case flag(@Sendable (inout JobSubmission) -> Void)
        /// `--name` alone or `--name=VALUE` (never a separate word: what follows may be the script).
        case optionalValue(@Sendable (inout JobSubmission, String?) throws -> Void)
    }

    /// Long name → (short name, kind).
    static let table: [String: (short: Character?, kind: Kind)] = [
        "job-name": ("J", .value { s, v, _ in s.name = v }),
        "partition": ("p", .value { s, v, _ in s.partition = v }),
        "qos": ("q", .value { s, v, _ in s.qos = v }),
        "account": ("A", .value { s, v, _ in s.account = v }),
        "nodes": ("N", .value { s, v, _ in
            // N or MIN-MAX: the minimum is what is allocated.
            let first = v.split(separator: "-").first.map(String.init) ?? v
            s.nodes = try count(first, "--nodes")
        }),
        "ntasks": ("n", .value { s, v, _ in s.ntasks = try count(v, "--ntasks") }),
        "ntasks-per-node": (nil, .value { s, v, _ in s.ntasksPerNode = try count(v, "--ntasks-per-node") }),
        "cpus-per-task": ("c", .value { s, v, _ in s.cpusPerTask = try count(v, "--cpus-per-task") }),
        "cpus-per-gpu": (nil, .value { s, v, _ in s.cpusPerGPU = try count(v, "--cpus-per-gpu") }),
        // The three forms of memory replace each other, the last given winning.
        "mem": (nil, .value { s, v, _ in
            s.memMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memPerCPUMB, s.memPerGPUMB) = (nil, nil)
        }),
        "mem-per-cpu": (nil, .value { s, v, _ in
            s.memPerCPUMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memMB, s.memPerGPUMB) = (nil, nil)
        }),
        "mem-per-gpu": (nil, .value { s, v, _ in
            s.memPerGPUMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memMB, s.memPerCPUMB) = (nil, nil)
        }),
        "gpus": ("G", .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus")
            s.gpus = n
            s.gpusPerTask = nil
            s.gpuType = type ?? s.gpuType
        }),
        "gpus-per-node": (nil, .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus-per-node")
            s.gpus = n
            s.gpusPerTask = nil
            s.gpuType = type ?? s.gpuType
        }),
        "gpus-per-task": (nil, .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus-per-task")
            s.gpusPerTask = n
            s.gpus = nil
            s.gpuType = type ?? s.gpuType
        }),
        "gres": (nil, .value { s, v, _ in
            // gpu:N or gpu:TYPE:N (per node); other GRES are refused rather than ignored.
            for item in v.split(separator: ",") {
                let parts = item.split(separator: ":").map(String.init)
                guard parts.first == "gpu", (1...3).contains(parts.count) else {
                    throw Error("--gres=\(v): only gpu[:TYPE][:COUNT] is supported")
                }
                let n = parts.count == 1 ? 1 : try count(parts[parts.count - 1], "--gres")
                s.gpus = n
                s.gpusPerTask = nil
                if parts.count == 3 { s.gpuType = parts[1] }
            }
        }),
        "time": ("t", .value { s, v, _ in s.timeLimit = try syntax { try JobSpecSyntax.timeLimit(v) } }),
        "exclusive": (nil, .flag { s in s.exclusive = true }),
        "oversubscribe": ("s", .flag { s in s.exclusive = false }),
        "constraint": ("C", .value { s, v, _ in s.constraint = v }),
        "reservation": (nil, .value { s, v, _ in s.reservation = v }),
        "nice": (nil, .optionalValue { s, v in
            // sbatch: --nice alone is 100.
            guard let v else { s.nice = 100; return }
            guard let n = Int(v) else { throw Error("--nice=\(v): expected a whole number, such as 100 or -50") }
            s.nice = n
        }),
        "licenses": ("L", .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.licenses(v) }
            s.licenses = v
        }),
        "nodelist": ("w", .value { s, v, _ in s.nodelist = try hostList(v, "--nodelist") }),
        "exclude": ("x", .value { s, v, _ in s.exclude = try hostList(v, "--exclude") }),
        "begin": ("b", .value { s, v, now in s.begin = try beginTime(v, now: now) }),
        "hold": ("H", .flag { s in s.hold = true }),
        "requeue": (nil, .flag { s in s.requeue = true }),
        "no-requeue": (nil, .flag { s in s.requeue = false }),
        "dependency": ("d", .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.dependencies(v) }
            s.dependency = v
        }),
        "array": ("a", .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.array(v) }
            s.array = v
        }),
        "output": ("o", .value { s, v, _ in s.output = v }),
        "error": ("e", .value { s, v, _ in s.error = v }),
        "chdir": ("D", .value { s, v, _ in s.workdir = v }),
        "priority": (nil, .value { s, v, _ in s.priority = try count(v, "--priority", min: 0) }),
        "export": (nil, .value { s, v, _ in
            _ = try syntax { try ExportSpec.apply(v, to: [:]) }
            s.export = v
        }),
        "open-mode": (nil, .value { s, v, _ in
            guard v == "append" || v == "truncate" else { throw Error("--open-mode: '\(v)' is not append or truncate") }
            s.openMode = v
        }),
        "signal": (nil, .value { s, v, _ in
            _ = try syntax { try WarningSignal(parsing: v) }
            s.signal = v
        }),
    ]

    static let aliases: [String: String] = ["gpus-per-node": "gpus-per-node", "workdir": "chdir", "cpus": "cpus-per-task"]

    /// Understood, accepted, and without effect here: a warning each, never an error, so that
    /// existing scripts run unchanged.
    static let ignoredWithValue: Set<String> = ["mail-type", "mail-user", "comment",
                                                "distribution", "wckey", "cluster", "clusters", "M",
                                                "propagate", "profile", "acctg-freq", "get-user-env",
                                                "threads-per-core", "cores-per-socket", "sockets-per-node", "mcs-label",
                                                "gpu-bind", "cpu-freq", "mem-bind", "hint", "tmp", "kill-on-invalid-dep"]
    static let ignoredFlags: Set<String> = ["contiguous", "overcommit", "spread-job", "quiet",
                                            "verbose", "no-kill", "use-min-nodes", "wait"]
    static let ignoredShort: [Character: Bool] = ["M": true, "Q": false, "v": false, "W": false, "k": false, "O": false]

    static let shortToLong: [Character: String] = {
        var m: [Character: String] = [:]
        for (long, entry) in table { if let s = entry.short { m[s] = long } }
        return m
    }()

    /// Applies `arguments` (as on a command line) to `submission`. `clientOptions` allows
    /// `--parsable`, `--wrap` and `--json` (command line only). Stops at the first operand when
    /// `stopAtOperand` (the script path: what follows are the script's own arguments).
    public static func apply(_ arguments: [String], to submission: JobSubmission, now: Int,
                             clientOptions: Bool, stopAtOperand: Bool) throws -> Result {
        var s = submission
        var client = ClientOptions()
        var warnings: [String] = []
        var operands: [String] = []
        var i = 0
        func value(for name: String, inline: String?) throws -> String {
            if let inline { return inline }
            i += 1
            guard i < arguments.count else { throw Error("option --\(name) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" {
                operands += arguments[(i + 1)...]
                break
            }
            if arg.hasPrefix("--") {
                var (name, inline) = longOption(arg)
                name = aliases[name] ?? name
                if clientOptions {
                    switch name {
                    case "parsable": client.parsable = true; i += 1; continue
                    case "json": client.json = true; i += 1; continue
                    case "wrap": client.wrap = try value(for: name, inline: inline); i += 1; continue
                    case "wait": client.wait = true; i += 1; continue
                    case "test-only": client.testOnly = true; i += 1; continue
                    default: break
                    }
                }
                if name == "test-only" {
                    throw Error("--test-only goes on the command line (chessctl submit --test-only SCRIPT): a directive would submit the job")
                }
                if name == "uid" || name == "gid" {
                    // Ignoring it would run the job as the submitter (root) rather than that user.
                    throw Error("--\(name) is not supported: submit as the job's user (runuser -u USER -- chessctl submit …)")
                }
                if let entry = table[name] {
                    switch entry.kind {
                    case .flag(let set):
                        // --exclusive may carry a value (=user, =mcs): whole nodes either way.
                        set(&s)
                    case .value(let set):
                        try set(&s, try value(for: name, inline: inline), now)
                    case .optionalValue(let set):
                        try set(&s, inline)
                    }
                } else if ignoredWithValue.contains(name) {
                    _ = try value(for: name, inline: inline)
                    warnings.append("--\(name) is accepted and has no effect in CHESS")
                } else if ignoredFlags.contains(name) {
                    warnings.append("--\(name) is accepted and has no effect in CHESS")
                } else {
                    throw Error("unrecognized option --\(name)\(suggestion(for: name))")
                }
            } else if arg.hasPrefix("-") && arg.count > 1 {
                let flag = arg[arg.index(after: arg.startIndex)]
                let rest = String(arg.dropFirst(2))
                if let long = shortToLong[flag], let entry = table[long] {
                    switch entry.kind {
                    case .flag(let set):
                        guard rest.isEmpty else { throw Error("option -\(flag) takes no value") }
                        set(&s)
                    case .value(let set):
                        let v = rest.isEmpty ? try value(for: long, inline: nil) : (rest.hasPrefix("=") ? String(rest.dropFirst()) : rest)
                        try set(&s, v, now)
                    case .optionalValue(let set):
                        try set(&s, rest.isEmpty ? nil : String(rest.drop { $0 == "=" }))
                    }
                } else if flag == "W" && clientOptions && rest.isEmpty {
                    client.wait = true
                } else if let takesValue = ignoredShort[flag] {
                    if takesValue && rest.isEmpty { _ = try value(for: String(flag), inline: nil) }
                    warnings.append("-\(flag) is accepted and has no effect in CHESS")
                } else {
                    throw Error("unrecognized option -\(flag)")
                }
            } else {
                operands.append(arg)
                if stopAtOperand {
                    operands += arguments[(i + 1)...]
                    break
                }
            }
            i += 1
        }
        return Result(submission: s, client: client, warnings: warnings, operands: operands)
    }

    /// `--name=value` → (name, value); `--name` → (name, nil).
    static func longOption(_ arg: String) -> (name: String, inline: String?) {
        let word = arg.dropFirst(2)
        guard let eq = word.firstIndex(of: "=") else { return (String(word), nil) }
        return (String(word[..<eq]), String(word[word.index(after: eq)...]))
    }

    /// The `#SBATCH` and `#CHESS` directives of a script, read as Slurm reads them: from the top,
    /// up to the first line that is neither blank nor a comment. Text after ` #` on a directive
    /// line is a comment. Errors name the line.
    public static func directives(in script: String) throws -> [(line: Int, arguments: [String])] {
        var out: [(Int, [String])] = []
        for (n, raw) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingBlanks
            if line.isEmpty { continue }
            guard line.hasPrefix("#") else { break }
            var body: Substring
            if line.hasPrefix("#SBATCH") { body = line.dropFirst(7) } else if line.hasPrefix("#CHESS") { body = line.dropFirst(6) } else { continue }
            guard body.isEmpty || body.first == " " || body.first == "\t" else { continue }
            do {
                out.append((n + 1, try shellWords(String(body))))
            } catch let e as Error {
                throw Error("line \(n + 1): \(e.description)")
            }
        }
        return out
    }

    /// Applies a script's directives; errors name the script line.
    public static func applyDirectives(of script: String, to submission: JobSubmission, now: Int) throws -> (JobSubmission, [String]) {
        var s = submission
        var warnings: [String] = []
        for (line, args) in try directives(in: script) {
            do {
                let r = try apply(args, to: s, now: now, clientOptions: false, stopAtOperand: false)
                guard r.operands.isEmpty else { throw Error("unexpected '\(r.operands[0])' (directives take options only)") }
                s = r.submission
                warnings += r.warnings.map { "line \(line): \($0)" }
            } catch let e as Error {
                throw Error("line \(line): \(e.description)")
            } catch let e as JobSpecSyntax.Error {
                throw Error("line \(line): \(e.description)")
            }
        }
        return (s, warnings)
    }

    /// Splits a directive's text into words: quotes group, `#` after whitespace starts a comment.
    static func shellWords(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var previousWasSpace = true
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            switch c {
            case "\"", "'":
                quote = c
                inWord = true
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
                previousWasSpace = true
                continue
            case "#" where previousWasSpace && !inWord:
                return words
            default:
                current.append(c)
                inWord = true
            }
            previousWasSpace = false
        }
        if quote != nil { throw Error("unterminated quote") }
        if inWord { words.append(current) }
        return words
    }

    // MARK: Value syntax

    static func count(_ v: String, _ option: String, min: Int = 1) throws -> Int {
        guard let n = Int(v), n >= min else { throw Error("\(option)=\(v): expected a whole number of at least \(min)") }
        return n
    }

    /// A host list (`n[01-04],gpu01`), checked here and sent as written. Slurm also reads a
    /// node list from a file when the value has a `/`; that is refused with the alternative.
    static func hostList(_ v: String, _ option: String) throws -> String {
        if v.contains("/") {
            throw Error("\(option)=\(v): a file of node names is not read; give the nodes as a host list, e.g. \(option)=\"$(paste -sd, FILE)\"")
        }
        do {
            guard !(try HostList.expand(v)).isEmpty else { throw Error("\(option): no node named") }
        } catch let e as HostList.Error {
            throw Error("\(option): \(e.description)")
        }
        return v
    }

    static func syntax<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as JobSpecSyntax.Error { throw Error(e.description) }
    }

    /// `[TYPE:]N`.
    static func gpuSpec(_ v: String, _ option: String) throws -> (String?, Int) {
        let parts = v.split(separator: ":").map(String.init)
        switch parts.count {
        case 1: return (nil, try count(parts[0], option, min: 0))
        case 2: return (parts[0], try count(parts[1], option, min: 0))
        default: throw Error("\(option)=\(v): expected [TYPE:]COUNT, as in a100:2")
        }
    }

    /// `--begin`: `now+60` (seconds), `now+2hours`, `now-1day`, `16:00`, `2026-12-01T08:00[:00]`,
    /// or Unix time. Also the time syntax of `acct --starttime/--endtime`.
    public static func beginTime(_ v: String, now: Int) throws -> Int {
        let lower = v.lowercased()
        if lower == "now" { return now }
        if lower.hasPrefix("now-") {
            let back = try beginTime("now+" + lower.dropFirst(4), now: now) - now
            return now - back
        }
        if lower.hasPrefix("now+") {
            let rest = lower.dropFirst(4)
            let digits = rest.prefix { $0.isNumber }
            guard let n = Int(digits), n <= InputLimits.seconds else {
                throw Error("--begin=\(v): expected now+N[seconds|minutes|hours|days], at most 100 years ahead")
            }
            let unit = rest.dropFirst(digits.count)
            let factor: Int
            switch unit {
            case "", "s", "sec", "second", "seconds": factor = 1
            case "m", "min", "minute", "minutes": factor = 60
            case "h", "hour", "hours": factor = 3600
            case "d", "day", "days": factor = 86400
            default: throw Error("--begin=\(v): unknown unit '\(unit)'")
            }
            // Checked: N is any number a user typed.
            let (offset, overflow) = n.multipliedReportingOverflow(by: factor)
            guard !overflow, offset <= InputLimits.seconds else { throw Error("--begin=\(v): more than 100 years ahead") }
            return now + offset
        }
        if let epoch = Int(v), epoch > 100_000_000 { return epoch }
        // Only digits and the separators reach the date parser (Foundation's traps on some
        // combining characters).
        guard v.utf8.count <= 32, v.unicodeScalars.allSatisfy({ $0.isASCII && ("0"..."9" ~= $0 || "-:T".unicodeScalars.contains($0)) }) else {
            throw Error("--begin=\(v): expected now+N, HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]] or a Unix time")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let d = formatter.date(from: v) { return Int(d.timeIntervalSince1970) }
        }
        for format in ["HH:mm:ss", "HH:mm"] {
            formatter.dateFormat = format
            if let d = formatter.date(from: v) {
                // Today at that time, or tomorrow if it has passed (as Slurm does).
                let c = Calendar.current.dateComponents([.hour, .minute, .second], from: d)
                let today = Calendar.current.startOfDay(for: Date(timeIntervalSince1970: TimeInterval(now)))
                var t = Int(today.timeIntervalSince1970) + (c.hour ?? 0) * 3600 + (c.minute ?? 0) * 60 + (c.second ?? 0)
                if t < now { t += 86400 }
                return t
            }
        }
        throw Error("--begin=\(v): expected now+N, HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]] or a Unix time")
    }

    static func suggestion(for name: String) -> String {
        let all = Array(table.keys) + ["parsable", "wrap", "json"]
        let close = all.filter { $0.hasPrefix(String(name.prefix(3))) }.sorted()
        return close.isEmpty ? "" : " (did you mean --\(close[0])?)"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs. Plain Swift: Foundation's
    /// `trimmingCharacters` bridges through NSString, which shows in `chessctl submit`'s start-up.
    var trimmingBlanks: Substring {
        let s = Substring(self)
        let start = s.firstIndex { $0 != " " && $0 != "\t" } ?? s.endIndex
        let end = s.lastIndex { $0 != " " && $0 != "\t" }.map { s.index(after: $0) } ?? start
        return start < end ? s[start..<end] : s[start..<start]
    }
}
