import Testing
@testable import ChessAPI

/// srun's options as Slurm spells them, up to the command; what CHESS's srun cannot do is
/// refused with the way around it.
@Suite("srun options")
struct StepOptionsTests {
    @Test func slurmSpellingsUpToTheCommand() throws {
        let o = try StepOptions.parse(["-n4", "-N", "2", "--ntasks-per-node=2", "-c2", "-l", "-K", "--overlap", "-J", "step",
                                       "--chdir=/tmp", "--export=NONE,FOO=1", "python3", "-n", "x.py"])
        #expect(o.tasks == 4)
        #expect(o.nodes == 2)
        #expect(o.tasksPerNode == 2)
        #expect(o.cpusPerTask == 2)
        #expect(o.label && o.killOnBadExit && o.overlap)
        #expect(o.name == "step")
        #expect(o.workdir == "/tmp")
        #expect(o.export == "NONE,FOO=1")
        // The command's own options are its own.
        #expect(o.command == ["python3", "-n", "x.py"])
        #expect(o.warnings.isEmpty)
    }

    @Test func separateAndInlineValuesAndTheDoubleDash() throws {
        let o = try StepOptions.parse(["--ntasks", "3", "--nodes=1-4", "--kill-on-bad-exit=0", "--jobid=42", "--", "-weird"])
        #expect(o.tasks == 3)
        #expect(o.nodes == 1)
        #expect(!o.killOnBadExit)
        #expect(o.jobID == 42)
        #expect(o.command == ["-weird"])
    }

    @Test func stepTuningIsAcceptedWithAWarningAndMPINamesTheWayOut() throws {
        let o = try StepOptions.parse(["--mem=4G", "-t", "10", "--cpu-bind=cores", "--mpi=pmix", "-u", "--exclusive", "a.out"])
        #expect(o.command == ["a.out"])
        #expect(o.warnings.count == 4)
        // PMI-1 is served; PMIx (Open MPI's) is not, and the warning says what to do.
        #expect(o.warnings.contains { $0.contains("--mpi=pmix") && $0.contains("mpirun") })
        let none = try StepOptions.parse(["--mpi=none", "a.out"])
        #expect(none.warnings.isEmpty && none.pmi == false)
        #expect(try StepOptions.parse(["--mpi=pmi2", "a.out"]).warnings.isEmpty)
    }

    @Test func whatItCannotDoIsRefusedWithTheWayAround() {
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["-o", "out.txt", "hostname"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["--pty", "bash"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["-w", "n01", "hostname"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["--frobnicate", "hostname"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["-n", "0", "hostname"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["-n"]) }
        #expect(throws: StepOptions.Error.self) { try StepOptions.parse(["--export=1BAD", "x"]) }
        do {
            _ = try StepOptions.parse(["--output=%t.out", "x"])
            Issue.record("--output was accepted")
        } catch {
            #expect("\(error)".contains("srun CMD > FILE"))
        }
    }

    @Test func outsideAJobTheJobsOptionsAndTheStepsAreSplit() throws {
        let (job, step, command) = try StepOptions.splitForAllocation(
            ["-p", "debug", "-n4", "-l", "--mpi", "none", "-t", "10", "--mem", "4G", "-K", "--exclusive", "a.out", "-x", "-l"])
        // The job's options go on under their full names (srun's prefixes are not sbatch's).
        #expect(job == ["--partition=debug", "--ntasks=4", "--time=10", "--mem=4G", "--exclusive"])
        #expect(step == ["-l", "--mpi", "none", "-K"])
        // Step tuning srun has and sbatch has not goes to the step, which accepts it with a warning.
        let tuned = try StepOptions.splitForAllocation(["--cpu_bind=cores", "-n2", "a.out"])
        #expect(tuned.job == ["--ntasks=2"])
        #expect(tuned.step == ["--cpu_bind=cores"])
        #expect(command == ["a.out", "-x", "-l"])
        #expect(try StepOptions.splitForAllocation(["-N2", "--", "-weird"]).command == ["-weird"])
        #expect(throws: StepOptions.Error.self) { try StepOptions.splitForAllocation(["-o", "f", "a.out"]) }
    }

    @Test func exitStatusIsTheWorstTask() {
        let end = StepEnd(step: 0, tasks: [.init(task: 0, node: "a", exitCode: 0, signal: nil),
                                           .init(task: 1, node: "a", exitCode: 3, signal: nil),
                                           .init(task: 2, node: "b", exitCode: 0, signal: 9)], reason: nil)
        #expect(end.exitStatus == 137)
        #expect(StepEnd(step: 0, tasks: [.init(task: 0, node: "a", exitCode: 2, signal: nil)], reason: nil).exitStatus == 2)
    }
}
