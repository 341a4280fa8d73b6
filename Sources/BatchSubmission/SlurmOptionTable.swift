import ChessWire
/// The long options of Slurm 22.05's `sbatch` and `srun`, as their getopt_long tables have them
/// (`src/common/slurm_opt.c` at tag slurm-22-05-8-1, in its `common_options` order: an option is
/// sbatch's when it has a `set_func` or a `set_func_sbatch`, srun's with `set_func` or
/// `set_func_srun`), so that a name is read as Slurm reads it: exactly, or as an unambiguous
/// prefix (`--tasks` is `--tasks-per-node`, `--mem-per` is ambiguous), aliases included
/// (`--tasks-per-node` and `--ntasks-per-node` share their code).
public enum SlurmOptions {
    public enum Argument: Sendable { case none, required, optional }

    /// Which command's table an option is in.
    enum Commands: Sendable { case sbatch, srun, both }

    public struct Option: Sendable {
        public let name: String
        public let argument: Argument
        public let short: Character?
        /// getopt's `val`: options with the same code are one option under two names.
        public let code: String
        let commands: Commands
        init(_ name: String, _ argument: Argument, _ short: Character?, _ code: String, _ commands: Commands) {
            self.name = name
            self.argument = argument
            self.short = short
            self.code = code
            self.commands = commands
        }
    }

    public static let sbatch: [Option] = all.filter { $0.commands != .srun }
    public static let srun: [Option] = all.filter { $0.commands != .sbatch }

    static let all: [Option] = [
        .init("accel-bind", .required, nil, "LONG_OPT_ACCEL_BIND", .srun),
        .init("account", .required, "A", "A", .both),
        .init("acctg-freq", .required, nil, "LONG_OPT_ACCTG_FREQ", .both),
        .init("array", .required, "a", "a", .sbatch),
        .init("batch", .required, nil, "LONG_OPT_BATCH", .sbatch),
        .init("bcast", .optional, nil, "LONG_OPT_BCAST", .srun),
        .init("bcast-exclude", .required, nil, "LONG_OPT_BCAST_EXCLUDE", .srun),
        .init("begin", .required, "b", "b", .both),
        .init("bb", .required, nil, "LONG_OPT_BURST_BUFFER_SPEC", .both),
        .init("bbf", .required, nil, "LONG_OPT_BURST_BUFFER_FILE", .both),
        .init("cluster-constraint", .required, nil, "LONG_OPT_CLUSTER_CONSTRAINT", .both),
        .init("chdir", .required, "D", "D", .both),
        .init("cluster", .required, nil, "LONG_OPT_CLUSTER", .both),
        .init("clusters", .required, "M", "M", .both),
        .init("comment", .required, nil, "LONG_OPT_COMMENT", .both),
        .init("compress", .optional, nil, "LONG_OPT_COMPRESS", .srun),
        .init("container", .required, nil, "LONG_OPT_CONTAINER", .both),
        .init("context", .required, nil, "LONG_OPT_CONTEXT", .both),
        .init("contiguous", .none, nil, "LONG_OPT_CONTIGUOUS", .both),
        .init("constraint", .required, "C", "C", .both),
        .init("core-spec", .required, "S", "S", .both),
        .init("cores-per-socket", .required, nil, "LONG_OPT_CORESPERSOCKET", .both),
        .init("cpu-bind", .required, nil, "LONG_OPT_CPU_BIND", .srun),
        .init("cpu_bind", .required, nil, "LONG_OPT_CPU_BIND", .srun),
        .init("cpu-freq", .required, nil, "LONG_OPT_CPU_FREQ", .both),
        .init("cpus-per-gpu", .required, nil, "LONG_OPT_CPUS_PER_GPU", .both),
        .init("cpus-per-task", .required, "c", "c", .both),
        .init("deadline", .required, nil, "LONG_OPT_DEADLINE", .both),
        .init("debugger-test", .none, nil, "LONG_OPT_DEBUGGER_TEST", .srun),
        .init("delay-boot", .required, nil, "LONG_OPT_DELAY_BOOT", .both),
        .init("dependency", .required, "d", "d", .both),
        .init("disable-status", .none, "X", "X", .srun),
        .init("distribution", .required, "m", "m", .both),
        .init("epilog", .required, nil, "LONG_OPT_EPILOG", .srun),
        .init("error", .required, "e", "e", .both),
        .init("exact", .none, nil, "LONG_OPT_EXACT", .srun),
        .init("exclude", .required, "x", "x", .both),
        .init("exclusive", .optional, nil, "LONG_OPT_EXCLUSIVE", .both),
        .init("export", .required, nil, "LONG_OPT_EXPORT", .both),
        .init("export-file", .required, nil, "LONG_OPT_EXPORT_FILE", .sbatch),
        .init("extra-node-info", .required, "B", "B", .both),
        .init("get-user-env", .optional, nil, "LONG_OPT_GET_USER_ENV", .sbatch),
        .init("gid", .required, nil, "LONG_OPT_GID", .both),
        .init("gpu-bind", .required, nil, "LONG_OPT_GPU_BIND", .both),
        .init("gpu-freq", .required, nil, "LONG_OPT_GPU_FREQ", .both),
        .init("gpus", .required, "G", "G", .both),
        .init("gpus-per-node", .required, nil, "LONG_OPT_GPUS_PER_NODE", .both),
        .init("gpus-per-socket", .required, nil, "LONG_OPT_GPUS_PER_SOCKET", .both),
        .init("gpus-per-task", .required, nil, "LONG_OPT_GPUS_PER_TASK", .both),
        .init("gres", .required, nil, "LONG_OPT_GRES", .both),
        .init("gres-flags", .required, nil, "LONG_OPT_GRES_FLAGS", .both),
        .init("help", .none, "h", "h", .both),
        .init("het-group", .required, nil, "LONG_OPT_HET_GROUP", .srun),
        .init("hint", .required, nil, "LONG_OPT_HINT", .both),
        .init("hold", .none, "H", "H", .both),
        .init("ignore-pbs", .none, nil, "LONG_OPT_IGNORE_PBS", .sbatch),
        .init("immediate", .optional, "I", "I", .srun),
        .init("input", .required, "i", "i", .both),
        .init("interactive", .none, nil, "LONG_OPT_INTERACTIVE", .srun),
        .init("jobid", .required, nil, "LONG_OPT_JOBID", .srun),
        .init("job-name", .required, "J", "J", .both),
        .init("kill-on-bad-exit", .optional, "K", "K", .srun),
        .init("kill-on-invalid-dep", .required, nil, "LONG_OPT_KILL_INV_DEP", .sbatch),
        .init("label", .none, "l", "l", .srun),
        .init("licenses", .required, "L", "L", .both),
        .init("mail-type", .required, nil, "LONG_OPT_MAIL_TYPE", .both),
        .init("mail-user", .required, nil, "LONG_OPT_MAIL_USER", .both),
        .init("threads", .required, "T", "T", .srun),
        .init("mcs-label", .required, nil, "LONG_OPT_MCS_LABEL", .both),
        .init("mem", .required, nil, "LONG_OPT_MEM", .both),
        .init("mem-bind", .required, nil, "LONG_OPT_MEM_BIND", .both),
        .init("mem-per-cpu", .required, nil, "LONG_OPT_MEM_PER_CPU", .both),
        .init("mem-per-gpu", .required, nil, "LONG_OPT_MEM_PER_GPU", .both),
        .init("mincpus", .required, nil, "LONG_OPT_MINCPUS", .both),
        .init("mpi", .required, nil, "LONG_OPT_MPI", .srun),
        .init("msg-timeout", .required, nil, "LONG_OPT_MSG_TIMEOUT", .srun),
        .init("multi-prog", .none, nil, "LONG_OPT_MULTI", .srun),
        .init("network", .required, nil, "LONG_OPT_NETWORK", .both),
        .init("nice", .optional, nil, "LONG_OPT_NICE", .both),
        .init("no-allocate", .none, "Z", "Z", .srun),
        .init("no-kill", .optional, "k", "k", .both),
        .init("no-requeue", .none, nil, "LONG_OPT_NO_REQUEUE", .sbatch),
        .init("nodefile", .required, "F", "F", .both),
        .init("nodelist", .required, "w", "w", .both),
        .init("nodes", .required, "N", "N", .both),
        .init("ntasks", .required, "n", "n", .both),
        .init("ntasks-per-core", .required, nil, "LONG_OPT_NTASKSPERCORE", .both),
        .init("ntasks-per-gpu", .required, nil, "LONG_OPT_NTASKSPERGPU", .both),
        .init("ntasks-per-node", .required, nil, "LONG_OPT_NTASKSPERNODE", .both),
        .init("ntasks-per-socket", .required, nil, "LONG_OPT_NTASKSPERSOCKET", .both),
        .init("ntasks-per-tres", .required, nil, "LONG_OPT_NTASKSPERTRES", .both),
        .init("open-mode", .required, nil, "LONG_OPT_OPEN_MODE", .both),
        .init("output", .required, "o", "o", .both),
        .init("overcommit", .none, "O", "O", .both),
        .init("overlap", .optional, nil, "LONG_OPT_OVERLAP", .srun),
        .init("oversubscribe", .none, "s", "s", .both),
        .init("pack-group", .required, nil, "LONG_OPT_HET_GROUP", .srun),
        .init("parsable", .none, nil, "LONG_OPT_PARSABLE", .sbatch),
        .init("partition", .required, "p", "p", .both),
        .init("power", .required, nil, "LONG_OPT_POWER", .both),
        .init("prefer", .required, nil, "LONG_OPT_PREFER", .both),
        .init("preserve-env", .none, "E", "E", .srun),
        .init("priority", .required, nil, "LONG_OPT_PRIORITY", .both),
        .init("profile", .required, nil, "LONG_OPT_PROFILE", .both),
        .init("prolog", .required, nil, "LONG_OPT_PROLOG", .srun),
        .init("propagate", .optional, nil, "LONG_OPT_PROPAGATE", .both),
        .init("pty", .none, nil, "LONG_OPT_PTY", .srun),
        .init("qos", .required, "q", "q", .both),
        .init("quiet", .none, "Q", "Q", .both),
        .init("quit-on-interrupt", .none, nil, "LONG_OPT_QUIT_ON_INTR", .srun),
        .init("reboot", .none, nil, "LONG_OPT_REBOOT", .both),
        .init("relative", .required, "r", "r", .srun),
        .init("requeue", .none, nil, "LONG_OPT_REQUEUE", .sbatch),
        .init("reservation", .required, nil, "LONG_OPT_RESERVATION", .both),
        .init("resv-ports", .optional, nil, "LONG_OPT_RESV_PORTS", .srun),
        .init("send-libs", .optional, nil, "LONG_OPT_SEND_LIBS", .srun),
        .init("signal", .required, nil, "LONG_OPT_SIGNAL", .both),
        .init("slurmd-debug", .required, nil, "LONG_OPT_SLURMD_DEBUG", .srun),
        .init("sockets-per-node", .required, nil, "LONG_OPT_SOCKETSPERNODE", .both),
        .init("spread-job", .none, nil, "LONG_OPT_SPREAD_JOB", .both),
        .init("switches", .required, nil, "LONG_OPT_SWITCHES", .both),
        .init("task-epilog", .required, nil, "LONG_OPT_TASK_EPILOG", .srun),
        .init("task-prolog", .required, nil, "LONG_OPT_TASK_PROLOG", .srun),
        .init("tasks-per-node", .required, nil, "LONG_OPT_NTASKSPERNODE", .both),
        .init("test-only", .none, nil, "LONG_OPT_TEST_ONLY", .both),
        .init("thread-spec", .required, nil, "LONG_OPT_THREAD_SPEC", .both),
        .init("threads-per-core", .required, nil, "LONG_OPT_THREADSPERCORE", .both),
        .init("time", .required, "t", "t", .both),
        .init("time-min", .required, nil, "LONG_OPT_TIME_MIN", .both),
        .init("tmp", .required, nil, "LONG_OPT_TMP", .both),
        .init("uid", .required, nil, "LONG_OPT_UID", .both),
        .init("unbuffered", .none, "u", "u", .srun),
        .init("use-min-nodes", .none, nil, "LONG_OPT_USE_MIN_NODES", .both),
        .init("verbose", .none, "v", "v", .both),
        .init("version", .none, "V", "V", .both),
        .init("usage", .none, nil, "LONG_OPT_USAGE", .both),
        .init("wait", .none, "W", "W", .sbatch),
        .init("wait-all-nodes", .required, nil, "LONG_OPT_WAIT_ALL_NODES", .sbatch),
        .init("wait", .required, "W", "W", .srun),
        .init("wckey", .required, nil, "LONG_OPT_WCKEY", .both),
        .init("whole", .none, nil, "LONG_OPT_WHOLE", .srun),
        .init("wrap", .required, nil, "LONG_OPT_WRAP", .sbatch),
        .init("x11", .optional, nil, "LONG_OPT_X11", .srun),
    ]
}
