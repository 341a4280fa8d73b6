/// `srun`'s options, as Slurm spells them (`-n4`, `-n 4`, `--ntasks=4`, `--ntasks 4`), up to
/// the command. What CHESS's srun does not do is refused with the way around it, rather than
/// ignored with a different outcome (`-o FILE` writing to the job's output instead); options
/// that only tune a step (`--mem`, `--time`, `--cpu-bind`, …) are accepted with a warning.
public struct StepOptions: Equatable, Sendable {
    public var tasks: Int?
    public var nodes: Int?
    public var tasksPerNode: Int?
    public var cpusPerTask: Int?
    public var label = false
    public var killOnBadExit = false
    public var overlap = false
    public var name: String?
    public var workdir: String?
    public var export: String?
    public var jobID: Int?
    public var quiet = false
    /// `--mpi`: nil (PMI-1, the default), false for `none`.
    public var pmi: Bool?
    /// The command and its arguments.
    public var command: [String] = []
    public var warnings: [String] = []

    public init() {}

    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ d: String) { description = d }
    }

    enum Kind: Sendable {
        case value(@Sendable (inout StepOptions, String) throws -> Void)
        case flag(@Sendable (inout StepOptions) -> Void)
        /// `-K` alone or `--kill-on-bad-exit=0|1`.
        case optionalValue(@Sendable (inout StepOptions, String?) throws -> Void)
    }

    static let table: [String: (short: Character?, kind: Kind)] = [
        "ntasks": ("n", .value { o, v in o.tasks = try count(v, "--ntasks") }),
        "nodes": ("N", .value { o, v in o.nodes = try count(v.split(separator: "-").first.map(String.init) ?? v, "--nodes") }),
        "ntasks-per-node": (nil, .value { o, v in o.tasksPerNode = try count(v, "--ntasks-per-node") }),
        "cpus-per-task": ("c", .value { o, v in o.cpusPerTask = try count(v, "--cpus-per-task") }),
        "job-name": ("J", .value { o, v in o.name = v }),
        "chdir": ("D", .value { o, v in o.workdir = v }),
        // PMI-1 (MPICH, Intel MPI) unless `none`; PMIx (Open MPI) is not served.
        "mpi": (nil, .value { o, v in
            switch v.lowercased() {
            case "none": o.pmi = false
            case "pmi", "pmi1", "pmi2", "list": o.pmi = true
            default:
                o.pmi = true
                o.warnings.append("--mpi=\(v): tasks get PMI-1 (MPICH, Intel MPI), not \(v); start Open MPI programs with mpirun")
            }
        }),
        "export": (nil, .value { o, v in
            do { _ = try ExportSpec.apply(v, to: [:]) } catch { throw Error("\(error)") }
            o.export = v
        }),
        "jobid": (nil, .value { o, v in
            guard let id = Int(v.split(separator: ".").first ?? ""), id > 0 else { throw Error("--jobid=\(v): expected a job id") }
            o.jobID = id
        }),
        "label": ("l", .flag { o in o.label = true }),
        "overlap": (nil, .flag { o in o.overlap = true }),
        "quiet": ("Q", .flag { o in o.quiet = true }),
        "kill-on-bad-exit": ("K", .optionalValue { o, v in
            guard let v else { o.killOnBadExit = true; return }
            guard v == "0" || v == "1" else { throw Error("--kill-on-bad-exit=\(v): expected 0 or 1") }
            o.killOnBadExit = v == "1"
        }),
        // A step's CPUs are its own unless --overlap: what --exclusive asks of a step.
        "exclusive": (nil, .flag { _ in }),
        // Output is passed straight through: unbuffered already.
        "unbuffered": ("u", .flag { _ in }),
    ]

    static let aliases: [String: String] = ["workdir": "chdir", "cpus": "cpus-per-task"]

    /// Tune a step in Slurm; accepted with a warning (the job's limits apply to its steps).
    static let ignoredWithValue: Set<String> = ["mem", "mem-per-cpu", "mem-per-gpu", "time", "t", "cpu-bind", "distribution", "m",
                                                "gres", "gpus", "gpus-per-task", "gpu-bind", "hint", "partition", "p",
                                                "account", "A", "qos", "q", "propagate", "signal", "wait", "W", "threads-per-core",
                                                "mem-bind", "cpu-freq", "comment", "profile", "acctg-freq", "slurmd-debug",
                                                "time-min", "constraint", "C"]
    static let ignoredFlags: Set<String> = ["verbose", "v", "no-kill", "k", "overcommit", "O", "oversubscribe", "s",
                                            "whole", "exact", "spread-job", "multi-prog-check"]
    /// Not available: why, and what to do instead.
    static let refused: [String: String] = [
        "pty": "--pty is not supported yet: an interactive shell on a node needs a terminal the agent does not provide",
        "output": "-o/--output is not supported yet: redirect instead (srun CMD > FILE)",
        "o": "-o/--output is not supported yet: redirect instead (srun CMD > FILE)",
        "error": "-e/--error is not supported yet: redirect instead (srun CMD 2> FILE)",
        "e": "-e/--error is not supported yet: redirect instead (srun CMD 2> FILE)",
        "input": "-i/--input is not supported yet: tasks read srun's standard input (srun CMD < FILE)",
        "i": "-i/--input is not supported yet: tasks read srun's standard input (srun CMD < FILE)",
        "multi-prog": "--multi-prog is not supported yet: branch on $SLURM_PROCID in a script instead",
        "nodelist": "-w/--nodelist is not supported in a step yet: a step runs on the job's first nodes",
        "w": "-w/--nodelist is not supported in a step yet: a step runs on the job's first nodes",
        "exclude": "-x/--exclude is not supported in a step yet: a step runs on the job's first nodes",
        "x": "-x/--exclude is not supported in a step yet: a step runs on the job's first nodes",
        "het-group": "heterogeneous jobs are not supported",
    ]

    static let shortToLong: [Character: String] = {
        var m: [Character: String] = [:]
        for (long, entry) in table { if let s = entry.short { m[s] = long } }
        return m
    }()

    public static func parse(_ arguments: [String]) throws -> StepOptions {
        var o = StepOptions()
        var i = 0
        func value(_ name: String, inline: String?) throws -> String {
            if let inline { return inline }
            i += 1
            guard i < arguments.count else { throw Error("option \(name) needs a value") }
            return arguments[i]
        }
        func ignore(_ name: String, display: String, inline: String?) throws -> Bool {
            if let why = refused[name] { throw Error(why) }
            if ignoredWithValue.contains(name) {
                let v = try value(display, inline: inline)
                o.warnings.append("\(display) is accepted and has no effect on a step in CHESS")
                return true
            }
            if ignoredFlags.contains(name) { return true }
            return false
        }
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" {
                o.command = Array(arguments[(i + 1)...])
                break
            }
            if arg.hasPrefix("--") {
                var (name, inline) = BatchOptions.longOption(arg)
                name = aliases[name] ?? name
                if let entry = table[name] {
                    switch entry.kind {
                    case .flag(let set): set(&o)
                    case .value(let set): try set(&o, try value("--\(name)", inline: inline))
                    case .optionalValue(let set): try set(&o, inline)
                    }
                } else if try !ignore(name, display: "--\(name)", inline: inline) {
                    throw Error("unrecognized option --\(name)")
                }
            } else if arg.hasPrefix("-") && arg.count > 1 {
                let flag = arg[arg.index(after: arg.startIndex)]
                let rest = String(arg.dropFirst(2))
                let inline = rest.isEmpty ? nil : (rest.hasPrefix("=") ? String(rest.dropFirst()) : rest)
                if let long = shortToLong[flag], let entry = table[long] {
                    switch entry.kind {
                    case .flag(let set):
                        guard rest.isEmpty else { throw Error("option -\(flag) takes no value") }
                        set(&o)
                    case .value(let set): try set(&o, try value("-\(flag)", inline: inline))
                    case .optionalValue(let set): try set(&o, inline)
                    }
                } else if try !ignore(String(flag), display: "-\(flag)", inline: inline) {
                    throw Error("unrecognized option -\(flag)")
                }
            } else {
                o.command = Array(arguments[i...])
                break
            }
            i += 1
        }
        return o
    }

    /// srun's own options, which go to the step when srun makes the job itself.
    static let stepOnly: Set<String> = ["label", "l", "kill-on-bad-exit", "K", "overlap", "mpi", "unbuffered", "u", "quiet", "Q"]
    static let stepOnlyWithValue: Set<String> = ["mpi"]

    /// srun outside a job, as Slurm runs it: a job is made for the command and the step runs
    /// in it. The arguments split into the job's options (sbatch's: `-n`, `-p`, `-t`, `--mem`,
    /// …), srun's own (`-l`, `-K`, `--mpi`, …, for the step inside) and the command. What srun
    /// cannot do (`--pty`, `-o`, …) is refused here too.
    public static func splitForAllocation(_ arguments: [String]) throws -> (job: [String], step: [String], command: [String]) {
        var job: [String] = [], step: [String] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" { return (job, step, Array(arguments[(i + 1)...])) }
            guard arg.hasPrefix("-"), arg.count > 1 else { return (job, step, Array(arguments[i...])) }
            let long = arg.hasPrefix("--")
            let (name, inline): (String, String?) = long
                ? BatchOptions.longOption(arg)
                : (String(arg[arg.index(after: arg.startIndex)]), arg.count > 2 ? String(arg.dropFirst(2)) : nil)
            if let why = refused[name] { throw Error(why) }
            // Does it take the next word as its value?
            let takesValue: Bool
            if stepOnly.contains(name) {
                takesValue = stepOnlyWithValue.contains(name)
            } else if let entry = BatchOptions.table[long ? (BatchOptions.aliases[name] ?? name) : (BatchOptions.shortToLong[Character(name)] ?? "")] {
                if case .value = entry.kind { takesValue = true } else { takesValue = false }
            } else {
                takesValue = BatchOptions.ignoredWithValue.contains(name) || (!long && BatchOptions.ignoredShort[Character(name)] == true)
            }
            var words = [arg]
            if takesValue && inline == nil && i + 1 < arguments.count {
                words.append(arguments[i + 1])
                i += 1
            }
            if stepOnly.contains(name) { step += words } else { job += words }
            i += 1
        }
        return (job, step, [])
    }

    static func count(_ v: String, _ option: String) throws -> Int {
        guard let n = Int(v), n >= 1 else { throw Error("\(option)=\(v): expected a whole number of at least 1") }
        return n
    }
}
