import ChessWire
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

    /// What CHESS does with each sbatch option it honours, by the option's canonical name in
    /// `SlurmOptions.sbatch` (short letters and prefixes come from there).
    static let table: [String: Kind] = [
        "job-name": .value { s, v, _ in s.name = v },
        "partition": .value { s, v, _ in s.partition = v },
        "qos": .value { s, v, _ in s.qos = v },
        "account": .value { s, v, _ in s.account = v },
        "nodes": .value { s, v, _ in
            // N or MIN-MAX: the minimum is what is allocated.
            let first = v.split(separator: "-").first.map(String.init) ?? v
            s.nodes = try count(first, "--nodes")
        },
        "ntasks": .value { s, v, _ in s.ntasks = try count(v, "--ntasks") },
        "ntasks-per-node": .value { s, v, _ in s.ntasksPerNode = try count(v, "--ntasks-per-node") },
        "cpus-per-task": .value { s, v, _ in s.cpusPerTask = try count(v, "--cpus-per-task") },
        "cpus-per-gpu": .value { s, v, _ in s.cpusPerGPU = try count(v, "--cpus-per-gpu") },
        // The three forms of memory replace each other, the last given winning.
        "mem": .value { s, v, _ in
            s.memMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memPerCPUMB, s.memPerGPUMB) = (nil, nil)
        },
        "mem-per-cpu": .value { s, v, _ in
            s.memPerCPUMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memMB, s.memPerGPUMB) = (nil, nil)
        },
        "mem-per-gpu": .value { s, v, _ in
            s.memPerGPUMB = try syntax { try JobSpecSyntax.memoryMB(v) }
            (s.memMB, s.memPerCPUMB) = (nil, nil)
        },
        "gpus": .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus")
            (s.gpusPerJob, s.gpus, s.gpusPerTask) = (n, nil, nil)
            s.gpuType = type ?? s.gpuType
        },
        "gpus-per-node": .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus-per-node")
            (s.gpus, s.gpusPerTask, s.gpusPerJob) = (n, nil, nil)
            s.gpuType = type ?? s.gpuType
        },
        "gpus-per-task": .value { s, v, _ in
            let (type, n) = try gpuSpec(v, "--gpus-per-task")
            (s.gpusPerTask, s.gpus, s.gpusPerJob) = (n, nil, nil)
            s.gpuType = type ?? s.gpuType
        },
        "gres": .value { s, v, _ in
            // gpu:N or gpu:TYPE:N (per node); other GRES are refused rather than ignored.
            for item in v.split(separator: ",") {
                let parts = item.split(separator: ":").map(String.init)
                guard parts.first == "gpu", (1...3).contains(parts.count) else {
                    throw Error("--gres=\(v): only gpu[:TYPE][:COUNT] is supported")
                }
                let n = parts.count == 1 ? 1 : try count(parts[parts.count - 1], "--gres")
                (s.gpus, s.gpusPerTask, s.gpusPerJob) = (n, nil, nil)
                if parts.count == 3 { s.gpuType = parts[1] }
            }
        },
        // Slurm's time limits are whole minutes: seconds round up (`00:00:10` is a minute), and
        // 0 is no limit. (The API takes seconds.)
        "time": .value { s, v, _ in
            let seconds = try syntax { try JobSpecSyntax.timeLimit(v) }
            s.timeLimit = seconds.flatMap { $0 == 0 ? nil : ($0 + 59) / 60 * 60 }
        },
        "exclusive": .flag { s in s.exclusive = true },
        "oversubscribe": .flag { s in s.exclusive = false },
        "constraint": .value { s, v, _ in s.constraint = v },
        "reservation": .value { s, v, _ in s.reservation = v },
        "nice": .optionalValue { s, v in
            // sbatch: --nice alone is 100.
            guard let v else { s.nice = 100; return }
            guard let n = Int(v) else { throw Error("--nice=\(v): expected a whole number, such as 100 or -50") }
            s.nice = n
        },
        "licenses": .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.licenses(v) }
            s.licenses = v
        },
        "nodelist": .value { s, v, _ in s.nodelist = try hostList(v, "--nodelist") },
        "exclude": .value { s, v, _ in s.exclude = try hostList(v, "--exclude") },
        "begin": .value { s, v, now in s.begin = try beginTime(v, now: now) },
        "hold": .flag { s in s.hold = true },
        "requeue": .flag { s in s.requeue = true },
        "no-requeue": .flag { s in s.requeue = false },
        "dependency": .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.dependencies(v) }
            s.dependency = v
        },
        "array": .value { s, v, _ in
            _ = try syntax { try JobSpecSyntax.array(v) }
            s.array = v
        },
        "output": .value { s, v, _ in s.output = v },
        "error": .value { s, v, _ in s.error = v },
        "chdir": .value { s, v, _ in s.workdir = v },
        "priority": .value { s, v, _ in s.priority = try count(v, "--priority", min: 0) },
        "export": .value { s, v, _ in
            _ = try syntax { try ExportSpec.apply(v, to: [:]) }
            s.export = v
        },
        "open-mode": .value { s, v, _ in
            guard v == "append" || v == "truncate" else { throw Error("--open-mode: '\(v)' is not append or truncate") }
            s.openMode = v
        },
        // Each --mail-type adds to those before it, as in Slurm (NONE adds nothing).
        "mail-type": .value { s, v, _ in
            var types: MailType
            do throws(MailType.Error) { types = try MailType(parsing: v) } catch { throw Error(error.description) }
            if let earlier = s.mailType, let before = try? MailType(parsing: earlier) { types.formUnion(before) }
            s.mailType = types.description
        },
        "mail-user": .value { s, v, _ in s.mailUser = v },
        "signal": .value { s, v, _ in
            _ = try syntax { try WarningSignal(parsing: v) }
            s.signal = v
        },
    ]

    /// Understood, accepted, and without effect here: a warning each, never an error, so that
    /// existing scripts run unchanged. Whether they take a value is Slurm's table's business.
    static let ignored: Set<String> = ["comment", "distribution", "wckey", "cluster", "clusters", "propagate", "profile",
                                       "acctg-freq", "get-user-env", "threads-per-core", "cores-per-socket",
                                       "sockets-per-node", "mcs-label", "gpu-bind", "cpu-freq", "mem-bind", "hint", "tmp",
                                       "kill-on-invalid-dep", "contiguous", "overcommit", "spread-job", "quiet", "verbose",
                                       "no-kill", "use-min-nodes", "gres-flags", "ntasks-per-core", "ntasks-per-socket",
                                       "ignore-pbs", "delay-boot"]

    /// Applies `arguments` (as on a command line) to `submission`. `clientOptions` allows
    /// `--parsable`, `--wrap`, `--wait`, `--test-only` and `--json` (command line only). Stops at
    /// the first operand when `stopAtOperand` (the script path: what follows are the script's own
    /// arguments).
    ///
    /// Option names are read as Slurm 22.05's sbatch reads them (glibc's getopt_long over its
    /// table): exact names, unambiguous prefixes (`--tasks` is `--tasks-per-node`), aliases,
    /// grouped short flags (`-Hv`), a short option's value attached (`-N2`) or next.
    public static func apply(_ arguments: [String], to submission: JobSubmission, now: Int,
                             clientOptions: Bool, stopAtOperand: Bool) throws -> Result {
        var s = submission
        var client = ClientOptions()
        var warnings: [String] = []
        var operands: [String] = []
        var i = 0
        func next(_ shown: String) throws -> String {
            i += 1
            guard i < arguments.count else { throw Error("option \(shown) needs a value") }
            return arguments[i]
        }
        /// One option, by canonical name, with its value when it has one.
        func handle(_ name: String, _ value: String?, shown: String) throws {
            if clientOptions {
                switch name {
                case "parsable": client.parsable = true; return
                case "wrap": client.wrap = value; return
                case "wait": client.wait = true; return
                case "test-only": client.testOnly = true; return
                default: break
                }
            }
            switch name {
            case "test-only":
                throw Error("--test-only goes on the command line (chessctl submit --test-only SCRIPT): a directive would submit the job")
            case "uid", "gid":
                // Ignoring it would run the job as the submitter (root) rather than that user.
                throw Error("--\(name) is not supported: submit as the job's user (runuser -u USER -- chessctl submit …)")
            case "parsable", "wrap", "wait":
                warnings.append("\(shown) only means something on the command line; ignored here")
                return
            default:
                break
            }
            if let kind = table[name] {
                switch kind {
                case .flag(let set):
                    // --exclusive may carry a value (=user, =mcs): whole nodes either way.
                    set(&s)
                case .value(let set):
                    guard let value else { throw Error("option \(shown) needs a value") }
                    try set(&s, value, now)
                case .optionalValue(let set):
                    try set(&s, value)
                }
            } else if ignored.contains(name) {
                warnings.append("\(shown) is accepted and has no effect in CHESS")
            } else {
                throw Error("\(shown) (--\(name)) is a Slurm option that CHESS does not support")
            }
        }

        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" {
                operands += arguments[(i + 1)...]
                break
            }
            if arg.hasPrefix("--") {
                let (typed, inline) = longOption(arg)
                if clientOptions, typed == "json" {
                    // CHESS's own, by its full name only: it must not change what a prefix means.
                    client.json = true
                    i += 1
                    continue
                }
                switch SlurmOptions.resolve(typed, in: SlurmOptions.sbatch) {
                case .unknown:
                    throw Error("unrecognized option --\(typed)\(suggestion(for: typed))")
                case .ambiguous(let candidates):
                    throw Error("option --\(typed) is ambiguous: it could be \(candidates.map { "--\($0)" }.joined(separator: ", "))")
                case .option(let name, let argument):
                    var value = inline
                    switch argument {
                    case .none:
                        guard inline == nil else { throw Error("option --\(typed) takes no value") }
                    case .required:
                        if value == nil { value = try next("--\(typed)") }
                    case .optional:
                        break  // only as --name=value: what follows may be the script
                    }
                    try handle(name, value, shown: "--\(typed)")
                }
            } else if arg.hasPrefix("-") && arg.count > 1 {
                // Short options, grouped as getopt groups them: flags first, a value last.
                var rest = Substring(arg.dropFirst())
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    guard let (name, argument) = SlurmOptions.short(letter, in: SlurmOptions.sbatch) else {
                        throw Error("unrecognized option -\(letter)")
                    }
                    var value: String?
                    switch argument {
                    case .none:
                        break
                    case .required:
                        value = rest.isEmpty ? try next("-\(letter)") : String(rest)
                        rest = ""
                    case .optional:
                        value = rest.isEmpty ? nil : String(rest)
                        rest = ""
                    }
                    try handle(name, value, shown: "-\(letter)")
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
        // Only digits and the separators reach the date parser.
        guard v.utf8.count <= 32, v.unicodeScalars.allSatisfy({ $0.isASCII && ("0"..."9" ~= $0 || "-:T".unicodeScalars.contains($0)) }) else {
            throw Error("--begin=\(v): expected now+N, HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]] or a Unix time")
        }
        if let t = SlurmTime.localTime(v, now: now) { return t }
        throw Error("--begin=\(v): expected now+N, HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]] or a Unix time")
    }

    static func suggestion(for name: String) -> String {
        let all = SlurmOptions.sbatch.map(\.name) + ["json"]
        let close = all.filter { $0.hasPrefix(String(name.prefix(3))) }.sorted()
        return close.isEmpty ? "" : " (did you mean --\(close[0])?)"
    }
}
