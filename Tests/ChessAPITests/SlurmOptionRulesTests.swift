import ChessAPI
import Foundation
import Testing

/// Option names read as Slurm 22.05's sbatch and srun read them: glibc's getopt_long over their
/// own tables (`SlurmOptions`, from `src/common/slurm_opt.c` at slurm-22-05-8-1).
@Suite("Slurm's option rules")
struct SlurmOptionRulesTests {
    func submit(_ args: [String]) throws -> BatchOptions.Result {
        try BatchOptions.apply(args, to: JobSubmission(), now: 1_700_000_000, clientOptions: true, stopAtOperand: true)
    }

    func refusal(_ args: [String]) -> String {
        do {
            _ = try submit(args)
            return ""
        } catch {
            return "\(error)"
        }
    }

    /// `--tasks` is an unambiguous prefix of `--tasks-per-node` (no sbatch option is named
    /// `--tasks`): Slurm reads it as that, and so does CHESS.
    @Test func prefixesAreReadAsGetoptReadsThem() throws {
        #expect(try submit(["--tasks=4"]).submission.ntasksPerNode == 4)
        #expect(try submit(["--tasks-per-node", "3"]).submission.ntasksPerNode == 3)
        #expect(try submit(["--ntasks-per-n=2"]).submission.ntasksPerNode == 2)
        #expect(try submit(["--job=x"]).submission.name == "x")
        #expect(try submit(["--part", "gpu"]).submission.partition == "gpu")
        #expect(try submit(["--mem-per-c=2G"]).submission.memPerCPUMB == 2048)
        #expect(try submit(["--time=1:00"]).submission.timeLimit == 60)
        // An exact name wins over the longer names it begins (--mem, --mem-per-cpu, …).
        #expect(try submit(["--mem=1G"]).submission.memMB == 1024)
        #expect(try submit(["--gpus=2"]).submission.gpusPerJob == 2)
        #expect(try submit(["--gpus-per-n=2"]).submission.gpus == 2)
    }

    /// Slurm's limits are whole minutes: seconds round up; 0 is no limit.
    @Test func timeLimitsAreWholeMinutes() throws {
        #expect(try submit(["--time=00:00:10"]).submission.timeLimit == 60)
        #expect(try submit(["--time=1:30"]).submission.timeLimit == 120)
        #expect(try submit(["-t", "2"]).submission.timeLimit == 120)
        #expect(try submit(["--time=1-00:00:00"]).submission.timeLimit == 86400)
        #expect(try submit(["--time=0"]).submission.timeLimit == nil)
        #expect(try submit(["--time=UNLIMITED"]).submission.timeLimit == nil)
    }

    @Test func ambiguousPrefixesAreRefusedWithTheCandidates() {
        let mem = refusal(["--mem-per=1G"])
        #expect(mem.contains("ambiguous") && mem.contains("--mem-per-cpu") && mem.contains("--mem-per-gpu"), "\(mem)")
        #expect(refusal(["--cpus=4"]).contains("--cpus-per-task"))
        #expect(refusal(["--n=1"]).contains("ambiguous"))
    }

    /// What Slurm 22.05 refuses is refused: `--share` (gone since 16.05's --oversubscribe),
    /// `--workdir` (now --chdir), unknown names.
    @Test func namesSlurmDoesNotHaveAreRefused() {
        #expect(refusal(["--share"]).contains("unrecognized option --share"))
        #expect(refusal(["--workdir=/tmp"]).contains("unrecognized option --workdir"))
        #expect(refusal(["--frobnicate"]).contains("unrecognized option"))
        #expect(refusal(["--hold=yes"]).contains("takes no value"))
        // A Slurm option CHESS does not carry out is named as such, not as unknown.
        #expect(refusal(["--deadline=now+1hour"]).contains("CHESS does not support"))
    }

    @Test func shortOptionsGroupAndTakeAttachedValues() throws {
        let r = try submit(["-HN2", "-n8", "-J", "name", "-pgpu", "script.sh"])
        #expect(r.submission.hold == true)
        #expect(r.submission.nodes == 2)
        #expect(r.submission.ntasks == 8)
        #expect(r.submission.name == "name")
        #expect(r.submission.partition == "gpu")
        #expect(r.operands == ["script.sh"])
        #expect(refusal(["-y"]).contains("unrecognized option -y"))
    }

    @Test func jsonIsCHESSsOwnAndNeverAPrefix() throws {
        #expect(try submit(["--json"]).client.json)
        // --j is Slurm's --job-name prefix: CHESS's --json must not make it ambiguous.
        #expect(try submit(["--j=x"]).submission.name == "x")
    }

    @Test func mailOptionsAreRead() throws {
        let r = try submit(["--mail-type=end,FAIL", "--mail-user=a@example.org"])
        #expect(r.submission.mailType == "END,FAIL")
        // Each --mail-type adds to the ones before (NONE adds nothing), as in Slurm.
        #expect(try submit(["--mail-type=BEGIN", "--mail-type=end", "--mail-type=NONE"]).submission.mailType == "BEGIN,END")
        #expect(r.submission.mailUser == "a@example.org")
        #expect(r.warnings.isEmpty, "mail is honoured, not ignored: \(r.warnings)")
        #expect(refusal(["--mail-type=SOMETIMES"]).contains("--mail-type=SOMETIMES"))
        #expect(try MailType(parsing: "ALL").description == "INVALID_DEPEND,BEGIN,END,FAIL,REQUEUE,STAGE_OUT")
        #expect(try MailType(parsing: "END,bogus").description == "END")
        #expect(try MailType(parsing: "BEGIN,NONE,END").isEmpty)
        #expect(try MailType(parsing: "time_limit_80,ARRAY_TASKS").description == "ARRAY_TASKS,TIME_LIMIT_80")
    }

    /// Precedence: command line over `SBATCH_*` variables over `#SBATCH` lines.
    @Test func environmentSitsBetweenScriptAndCommandLine() throws {
        let script = "#!/bin/sh\n#SBATCH --partition=script --time=5 --job-name=fromscript\n#SBATCH -A scriptacct\necho\n"
        let env = ["SBATCH_PARTITION": "env", "SBATCH_TIMELIMIT": "7", "SBATCH_ACCOUNT": "envacct", "HOME": "/root",
                   "SBATCH_EXCLUSIVE": "", "SBATCH_REQUEUE": "1"]
        let (s, _) = try BatchOptions.submission(script: script, environment: env, commandLine: ["--partition=cli"], now: 0)
        #expect(s.partition == "cli")
        #expect(s.timeLimit == 7 * 60)
        #expect(s.account == "envacct")
        #expect(s.name == "fromscript")
        #expect(s.exclusive == true)
        #expect(s.requeue == true)
        #expect(BatchOptions.environmentArguments(["SBATCH_BOGUS": "1", "SLURM_JOB_ID": "3"]).isEmpty)
        // A bad value names the variable.
        #expect(throws: BatchOptions.Error.self) {
            try BatchOptions.submission(script: script, environment: ["SBATCH_TIMELIMIT": "soon"], commandLine: [], now: 0)
        }
    }

    @Test func srunReadsItsOwnTable() throws {
        #expect(try StepOptions.parse(["--ntasks-per-n=2", "a.out"]).tasksPerNode == 2)
        #expect(try StepOptions.parse(["--tasks-per-node=3", "a.out"]).tasksPerNode == 3)
        #expect(try StepOptions.parse(["-ln2", "a.out"]).label)
        #expect(try StepOptions.parse(["-ln2", "a.out"]).tasks == 2)
        #expect(try StepOptions.parse(["--cpu_bind=cores", "a.out"]).warnings.count == 1)
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["--task=2", "a.out"]) }  // task-epilog, task-prolog, tasks-per-node
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["--workdir=/tmp", "a.out"]) }
        // Input variables go before the command line, which wins.
        let env = StepOptions.environmentArguments(["SLURM_LABELIO": "1", "SLURM_MPI_TYPE": "none", "SLURM_NTASKS": "8",
                                                     "SLURM_KILL_BAD_EXIT": "1"])
        let o = try StepOptions.parse(env + ["--mpi=pmi2", "a.out"])
        #expect(o.label && o.killOnBadExit && o.pmi == true && o.tasks == nil)
        #expect(StepOptions.environmentArguments(["SLURM_LABELIO": "no"]).isEmpty)
    }
}
