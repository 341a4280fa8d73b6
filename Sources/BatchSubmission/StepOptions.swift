import ChessWire

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

    /// What CHESS's srun does with each option it honours, by canonical name in
    /// `SlurmOptions.srun` (short letters and prefixes come from there).
    static let table: [String: Kind] = [
        "ntasks": .value { o, v in o.tasks = try count(v, "--ntasks") },
        "nodes": .value { o, v in o.nodes = try count(v.split(separator: "-").first.map(String.init) ?? v, "--nodes") },
        "ntasks-per-node": .value { o, v in o.tasksPerNode = try count(v, "--ntasks-per-node") },
        "cpus-per-task": .value { o, v in o.cpusPerTask = try count(v, "--cpus-per-task") },
        "job-name": .value { o, v in o.name = v },
        "chdir": .value { o, v in o.workdir = v },
        // PMI-1 (MPICH, Intel MPI) unless `none`; PMIx (Open MPI) is not served.
        "mpi": .value { o, v in
            switch v.lowercased() {
            case "none": o.pmi = false
            case "pmi", "pmi1", "pmi2", "list": o.pmi = true
            default:
                o.pmi = true
                o.warnings.append("--mpi=\(v): tasks get PMI-1 (MPICH, Intel MPI), not \(v); start Open MPI programs with mpirun")
            }
        },
        "export": .value { o, v in
            do { _ = try ExportSpec.apply(v, to: [:]) } catch { throw Error("\(error)") }
            o.export = v
        },
        "jobid": .value { o, v in
            guard let id = Int(v.split(separator: ".").first ?? ""), id > 0 else { throw Error("--jobid=\(v): expected a job id") }
            o.jobID = id
        },
        "label": .flag { o in o.label = true },
        "overlap": .flag { o in o.overlap = true },
        "quiet": .flag { o in o.quiet = true },
        "kill-on-bad-exit": .optionalValue { o, v in
            guard let v else { o.killOnBadExit = true; return }
            guard v == "0" || v == "1" else { throw Error("--kill-on-bad-exit=\(v): expected 0 or 1") }
            o.killOnBadExit = v == "1"
        },
        // A step's CPUs are its own unless --overlap: what --exclusive asks of a step.
        "exclusive": .flag { _ in },
        // Output is passed straight through: unbuffered already.
        "unbuffered": .flag { _ in },
    ]

    /// Tune a step in Slurm; accepted with a warning (the job's limits apply to its steps).
    static let ignored: Set<String> = ["mem", "mem-per-cpu", "mem-per-gpu", "time", "cpu-bind", "distribution", "gres", "gpus",
                                       "gpus-per-task", "gpus-per-node", "gpu-bind", "hint", "partition", "account", "qos",
                                       "propagate", "signal", "wait", "threads-per-core", "mem-bind", "cpu-freq", "comment",
                                       "profile", "acctg-freq", "slurmd-debug", "time-min", "constraint", "verbose", "no-kill",
                                       "overcommit", "oversubscribe", "whole", "exact", "spread-job", "gres-flags",
                                       "ntasks-per-core", "ntasks-per-socket", "cores-per-socket", "sockets-per-node"]
    /// Not available: why, and what to do instead.
    static let refused: [String: String] = [
        "pty": "--pty is not supported yet: an interactive shell on a node needs a terminal the agent does not provide",
        "output": "-o/--output is not supported yet: redirect instead (srun CMD > FILE)",
        "error": "-e/--error is not supported yet: redirect instead (srun CMD 2> FILE)",
        "input": "-i/--input is not supported yet: tasks read srun's standard input (srun CMD < FILE)",
        "multi-prog": "--multi-prog is not supported yet: branch on $SLURM_PROCID in a script instead",
        "nodelist": "-w/--nodelist is not supported in a step yet: a step runs on the job's first nodes",
        "exclude": "-x/--exclude is not supported in a step yet: a step runs on the job's first nodes",
        "het-group": "heterogeneous jobs are not supported",
    ]

    /// One option as srun's getopt_long reads it: its canonical name, its value, and how it was
    /// written (for messages).
    struct Word {
        var name: String
        var value: String?
        var shown: String
        /// The argument words it took (one, or two with a separate value).
        var words: [String]
    }

    /// Reads the options at `arguments[i...]` up to the first operand (or `--`), as Slurm 22.05's
    /// srun reads them: exact long names, unambiguous prefixes, aliases (`--cpu_bind`,
    /// `--tasks-per-node`), grouped short flags, short values attached or next.
    static func words(_ arguments: [String]) throws -> (options: [Word], rest: [String], sawDashDash: Bool) {
        var out: [Word] = []
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" { return (out, Array(arguments[(i + 1)...]), true) }
            guard arg.hasPrefix("-"), arg.count > 1 else { return (out, Array(arguments[i...]), false) }
            if arg.hasPrefix("--") {
                let (typed, inline) = BatchOptions.longOption(arg)
                switch SlurmOptions.resolve(typed, in: SlurmOptions.srun) {
                case .unknown:
                    throw Error("unrecognized option --\(typed)")
                case .ambiguous(let candidates):
                    throw Error("option --\(typed) is ambiguous: it could be \(candidates.map { "--\($0)" }.joined(separator: ", "))")
                case .option(let name, let argument):
                    var word = Word(name: name, value: inline, shown: "--\(typed)", words: [arg])
                    switch argument {
                    case .none:
                        guard inline == nil else { throw Error("option --\(typed) takes no value") }
                    case .required where inline == nil:
                        i += 1
                        guard i < arguments.count else { throw Error("option --\(typed) needs a value") }
                        word.value = arguments[i]
                        word.words.append(arguments[i])
                    default:
                        break
                    }
                    out.append(word)
                }
            } else {
                var rest = Substring(arg.dropFirst())
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    guard let (name, argument) = SlurmOptions.short(letter, in: SlurmOptions.srun) else {
                        throw Error("unrecognized option -\(letter)")
                    }
                    var word = Word(name: name, value: nil, shown: "-\(letter)", words: ["-\(letter)"])
                    switch argument {
                    case .none:
                        break
                    case .required:
                        if rest.isEmpty {
                            i += 1
                            guard i < arguments.count else { throw Error("option -\(letter) needs a value") }
                            word.value = arguments[i]
                            word.words.append(arguments[i])
                        } else {
                            word.value = String(rest)
                            word.words = ["-\(letter)\(rest)"]
                        }
                        rest = ""
                    case .optional:
                        if !rest.isEmpty { word.value = String(rest); word.words = ["-\(letter)\(rest)"] }
                        rest = ""
                    }
                    out.append(word)
                }
            }
            i += 1
        }
        return (out, [], false)
    }

    public static func parse(_ arguments: [String]) throws -> StepOptions {
        var o = StepOptions()
        let (options, rest, _) = try words(arguments)
        for w in options {
            if let why = refused[w.name] { throw Error(why) }
            if let kind = table[w.name] {
                switch kind {
                case .flag(let set): set(&o)
                case .value(let set):
                    guard let v = w.value else { throw Error("option \(w.shown) needs a value") }
                    try set(&o, v)
                case .optionalValue(let set): try set(&o, w.value)
                }
            } else if ignored.contains(w.name) {
                o.warnings.append("\(w.shown) is accepted and has no effect on a step in CHESS")
            } else {
                throw Error("\(w.shown) (--\(w.name)) is a Slurm option that CHESS's srun does not support")
            }
        }
        o.command = rest
        return o
    }

    /// srun's own options, which go to the step when srun makes the job itself.
    static let stepOnly: Set<String> = ["label", "kill-on-bad-exit", "overlap", "mpi", "unbuffered", "quiet"]

    /// srun outside a job, as Slurm runs it: a job is made for the command and the step runs
    /// in it. The arguments split into the job's options (sbatch's: `-n`, `-p`, `-t`, `--mem`,
    /// …, passed on under their full names), srun's own (`-l`, `-K`, `--mpi`, …, and step
    /// tuning such as `--cpu-bind`, for the step inside) and the command. What srun cannot do
    /// (`--pty`, `-o`, …) is refused here too.
    public static func splitForAllocation(_ arguments: [String]) throws -> (job: [String], step: [String], command: [String]) {
        var job: [String] = [], step: [String] = []
        let (options, rest, _) = try words(arguments)
        for w in options {
            if let why = refused[w.name] { throw Error(why) }
            let forJob = !stepOnly.contains(w.name)
                && (BatchOptions.table[w.name] != nil || BatchOptions.ignored.contains(w.name))
            if forJob {
                job.append(w.value.map { "--\(w.name)=\($0)" } ?? "--\(w.name)")
            } else {
                step += w.words
            }
        }
        return (job, step, rest)
    }

    static func count(_ v: String, _ option: String) throws -> Int {
        guard let n = Int(v), n >= 1 else { throw Error("\(option)=\(v): expected a whole number of at least 1") }
        return n
    }
}

/// srun's input environment variables, read as Slurm 22.05's srun reads them (`env_vars` in
/// `src/srun/libsrun/opt.c`), below the command line. Only those a user sets to steer steps are
/// read: the counts a job's environment carries (`SLURM_NTASKS`, `SLURM_JOB_NUM_NODES`, …) are the
/// job's, and a step's defaults come from its allocation, as the agent plans it.
extension StepOptions {
    static let environmentVariables: [(variable: String, option: String)] = [
        ("SLURM_CPU_BIND", "cpu-bind"), ("SLURM_DISTRIBUTION", "distribution"), ("SLURM_EXACT", "exact"),
        ("SLURM_EXPORT_ENV", "export"), ("SRUN_EXPORT_ENV", "export"), ("SLURM_GPU_BIND", "gpu-bind"), ("SLURM_HINT", "hint"),
        ("SLURM_KILL_BAD_EXIT", "kill-on-bad-exit"), ("SLURM_LABELIO", "label"), ("SLURM_MEM_BIND", "mem-bind"),
        ("SLURM_MPI_TYPE", "mpi"), ("SLURM_OVERLAP", "overlap"), ("SLURM_UNBUFFEREDIO", "unbuffered"),
        ("SLURM_WORKING_DIR", "chdir"), ("SLURM_CPU_FREQ_REQ", "cpu-freq"), ("SLURM_SPREAD_JOB", "spread-job"),
    ]

    /// The options the environment sets, as `--name[=value]` words to go before the command line's.
    public static func environmentArguments(_ environment: [String: String]) -> [String] {
        SlurmOptions.environmentWords(environmentVariables, in: SlurmOptions.srun, environment).map(\.argument)
    }
}
