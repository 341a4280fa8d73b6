import ChessWire
/// sbatch's input environment variables (`SBATCH_PARTITION`, `SBATCH_TIMELIMIT`, …), read as
/// Slurm 22.05 reads them (`env_vars` in `src/sbatch/opt.c`): each is its option's value. A flag
/// is set by an empty value, `yes` or a non-zero number, and not by anything else.
/// Precedence, as in Slurm: the command line over the environment over `#SBATCH` lines.
extension BatchOptions {
    /// Variable → option (canonical name in `SlurmOptions.sbatch`), in Slurm's order.
    static let environmentVariables: [(variable: String, option: String)] = [
        ("SBATCH_ACCOUNT", "account"), ("SBATCH_ARRAY_INX", "array"), ("SBATCH_ACCTG_FREQ", "acctg-freq"),
        ("SBATCH_BATCH", "batch"), ("SBATCH_BURST_BUFFER", "bb"), ("SBATCH_CLUSTER_CONSTRAINT", "cluster-constraint"),
        ("SBATCH_CLUSTERS", "clusters"), ("SLURM_CLUSTERS", "clusters"), ("SBATCH_CONTAINER", "container"),
        ("SBATCH_CONSTRAINT", "constraint"), ("SBATCH_CORE_SPEC", "core-spec"), ("SBATCH_CPU_FREQ_REQ", "cpu-freq"),
        ("SBATCH_CPUS_PER_GPU", "cpus-per-gpu"), ("SBATCH_DEBUG", "verbose"), ("SBATCH_DELAY_BOOT", "delay-boot"),
        ("SBATCH_DISTRIBUTION", "distribution"), ("SBATCH_EXCLUSIVE", "exclusive"), ("SBATCH_EXPORT", "export"),
        ("SBATCH_GET_USER_ENV", "get-user-env"), ("SBATCH_GRES", "gres"), ("SBATCH_GRES_FLAGS", "gres-flags"),
        ("SBATCH_GPUS", "gpus"), ("SBATCH_GPU_BIND", "gpu-bind"), ("SBATCH_GPU_FREQ", "gpu-freq"),
        ("SBATCH_GPUS_PER_NODE", "gpus-per-node"), ("SBATCH_GPUS_PER_SOCKET", "gpus-per-socket"),
        ("SBATCH_GPUS_PER_TASK", "gpus-per-task"), ("SLURM_HINT", "hint"), ("SBATCH_HINT", "hint"),
        ("SBATCH_JOB_NAME", "job-name"), ("SBATCH_MEM_BIND", "mem-bind"), ("SBATCH_MEM_PER_CPU", "mem-per-cpu"),
        ("SBATCH_MEM_PER_GPU", "mem-per-gpu"), ("SBATCH_MEM_PER_NODE", "mem"), ("SBATCH_NETWORK", "network"),
        ("SBATCH_NO_KILL", "no-kill"), ("SBATCH_NO_REQUEUE", "no-requeue"), ("SBATCH_OPEN_MODE", "open-mode"),
        ("SBATCH_OVERCOMMIT", "overcommit"), ("SBATCH_PARTITION", "partition"), ("SBATCH_POWER", "power"),
        ("SBATCH_PROFILE", "profile"), ("SBATCH_QOS", "qos"), ("SBATCH_REQUEUE", "requeue"),
        ("SBATCH_RESERVATION", "reservation"), ("SBATCH_SIGNAL", "signal"), ("SBATCH_SPREAD_JOB", "spread-job"),
        ("SBATCH_THREAD_SPEC", "thread-spec"), ("SBATCH_THREADS_PER_CORE", "threads-per-core"),
        ("SBATCH_TIMELIMIT", "time"), ("SBATCH_USE_MIN_NODES", "use-min-nodes"), ("SBATCH_WAIT", "wait"),
        ("SBATCH_WAIT_ALL_NODES", "wait-all-nodes"), ("SBATCH_WCKEY", "wckey"), ("SBATCH_ERROR", "error"),
        ("SBATCH_INPUT", "input"), ("SBATCH_OUTPUT", "output"),
    ]

    /// The options the environment sets, as `--name=value` words (with the variable each came
    /// from, for messages).
    public static func environmentArguments(_ environment: [String: String]) -> [(variable: String, argument: String)] {
        SlurmOptions.environmentWords(environmentVariables, in: SlurmOptions.sbatch, environment)
    }

    /// A submission as `sbatch` makes it: the script's `#SBATCH` lines, then the environment's
    /// `SBATCH_*` variables, then the command line (client options such as `--wrap` are read but
    /// left to the caller). Errors name the script line or the variable.
    public static func submission(script: String, environment: [String: String], commandLine: [String],
                                  now: Int) throws -> (JobSubmission, [String]) {
        var (s, warnings) = try applyDirectives(of: script, to: JobSubmission(), now: now)
        for (variable, argument) in environmentArguments(environment) where argument != "--wait" {
            // SBATCH_WAIT steers the client, as --wait does: the caller's business.
            do {
                let r = try apply([argument], to: s, now: now, clientOptions: false, stopAtOperand: false)
                s = r.submission
                warnings += r.warnings.map { "\(variable): \($0)" }
            } catch let e as Error {
                throw Error("\(variable): \(e.description)")
            } catch let e as JobSpecSyntax.Error {
                throw Error("\(variable): \(e.description)")
            }
        }
        s = try apply(commandLine, to: s, now: now, clientOptions: true, stopAtOperand: true).submission
        return (s, warnings)
    }
}
