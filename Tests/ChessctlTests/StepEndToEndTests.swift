import ChessAPI
import Foundation
import Glibc
import Spawning
import Testing

/// srun inside real jobs: chessd, a real agent (this host and an emulated node), the agent's
/// step socket and real step supervisors.
@Suite("End to end: srun job steps", .serialized)
struct StepEndToEndTests {
    typealias Running = EndToEndTests.Running

    /// The cluster of `EndToEndTests`, once both its nodes are idle.
    func idleCluster() throws -> Running {
        let c = try Running()
        try c.wait("both nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("2      idle") }
        return c
    }

    func write(_ c: Running, _ name: String, _ text: String) throws -> String {
        let path = c.cluster.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func srunRunsTasksOnTheJobsNodesWithSlurmsVariables() throws {
        let c = try idleCluster()
        let script = try write(c, "steps.sh", """
            #!/bin/bash
            #SBATCH -N 2 -n 4
            command -v srun
            srun -l bash -c 'echo $SLURM_PROCID $SLURM_LOCALID $SLURMD_NODENAME $SLURM_NODEID step=$SLURM_STEP_ID of=$SLURM_STEP_NUM_TASKS'
            srun -n 2 sh -c 'exit $((SLURM_PROCID + 3))'; echo "rc=$?"
            srun -n 99 true; echo "rc=$?"
            srun -N 1 bash -c 'echo one=$SLURM_STEP_ID tasks=$SLURM_NTASKS nodes=$SLURM_STEP_NODELIST'
            srun no-such-command-here; echo "rc=$?"
            srun -n 1 python3 -c 'x = bytearray(80 << 20); x[::4096] = b"1" * len(x[::4096])'
            """)
        let job = try c.submit(["-o", "steps.out", script])
        try c.wait("the job to end", within: 60) { try c.jobs().isEmpty }
        let out = c.output("steps.out")
        let lines = out.split(separator: "\n").map(String.init)
        // CHESS's srun, first in the job's PATH (before a Slurm installation on the machine).
        #expect(lines.first == builtBinary("srun").resolvingSymlinksInPath().path, "\(out)")
        // Four tasks in blocks over the two nodes, labelled.
        #expect(lines.filter { $0.contains("step=0 of=4") }.sorted() == [
            "0: 0 0 host 0 step=0 of=4", "1: 1 1 host 0 step=0 of=4", "2: 2 0 emu1 1 step=0 of=4", "3: 3 1 emu1 1 step=0 of=4",
        ], "\(out)")
        // The worst task's status, and which task it was.
        #expect(out.contains("srun: error: emu1: task 1: Exited with exit code 4"), "\(out)")
        #expect(lines.contains("rc=4"))
        // More than the job holds: refused, nothing run, and a step number is not spent on it.
        #expect(out.contains("srun: error: more processors requested than permitted: 99 tasks"), "\(out)")
        #expect(lines.contains("rc=1"))
        #expect(lines.contains("one=2 tasks=1 nodes=host"), "\(out)")
        #expect(out.contains("cannot execute no-such-command-here: No such file or directory"), "\(out)")
        #expect(lines.contains("rc=127"), "\(out)")
        let record = try c.accounting().first { $0["id"] as? Int == job }
        #expect(record?["state"] as? String == "COMPLETED")
        // sacct's step rows: how each step ended, under the job (the refused one is none).
        let acct = try c.cluster.ctl(["acct", "-j", "\(job)", "-o", "jobid,jobname,state,exitcode,nodelist,ncpus", "-P", "-n"])
        let rows = acct.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 6, "\(acct.stdout)")
        #expect(rows.contains { $0.hasPrefix("\(job).0|bash|COMPLETED|0:0|") && $0.hasSuffix("|4") }, "\(acct.stdout)")
        #expect(rows.contains { $0.hasPrefix("\(job).1|sh|FAILED|4:0|") && $0.hasSuffix("|2") }, "\(acct.stdout)")
        #expect(rows.contains("\(job).2|bash|COMPLETED|0:0|host|1"), "\(acct.stdout)")
        #expect(rows.contains { $0.hasPrefix("\(job).3|no-such-command-here|FAILED|127:0|") }, "\(acct.stdout)")
        // A step's peak memory, measured (80 MiB touched).
        let rss = try c.cluster.ctl(["acct", "-j", "\(job)", "-o", "jobid,maxrss", "-P", "-n"]).stdout
        let peak = rss.split(separator: "\n").first { $0.hasPrefix("\(job).4|") }.flatMap { Int($0.split(separator: "|").last?.dropLast() ?? "") }
        #expect((peak ?? 0) >= 80, "\(rss)")
        let jobsOnly = try c.cluster.ctl(["acct", "-j", "\(job)", "-X", "-o", "jobid", "-P", "-n"])
        #expect(jobsOnly.stdout == "\(job)\n", "\(jobsOnly.stdout)")
    }

    /// A second agent on this host, presenting the emulated node `emu2` (its own spool and step
    /// socket); stopped by PID by the caller.
    func startSecondAgent(_ c: Running) throws -> ChildProcess {
        let arguments = ["--controller", c.cluster.listen!, "--key", c.cluster.directory.appendingPathComponent("cluster.key").path,
                       "--id", "agent-b", "--emulate", "emu2=\(EndToEndTests.synthetic)",
                       "--spool", c.cluster.directory.appendingPathComponent("spool-b").path, "--kill-wait", "2"]
        let log = c.cluster.directory.appendingPathComponent("agent-b.log").path
        return try ChildProcess(builtBinary("chess-nodeagent").path, arguments, stdout: .append(log), stderr: .append(log))
    }

    @Test func aStepSpansAgentsThroughTheController() throws {
        let c = try Running(extra: """
            [[nodes]]
            names = "emu2"
            agent = "agent-b"
            sockets = 2
            cores_per_socket = 16
            memory_mb = 100000
            [[partitions]]
            name = "wide"
            nodes = "host,emu1,emu2"
            """)
        let ring = try buildMPIProgram(c)
        let second = try startSecondAgent(c)
        defer {
            second.terminate()
            second.waitUntilExit()
        }
        try c.wait("the three nodes to be idle") { try c.cluster.ctl(["nodes", "-p", "wide"]).stdout.contains("3      idle") }
        // This run's own: tasks another run left behind (a test process killed) are not counted.
        let token = "run\(UInt32.random(in: 100_000...999_999))"
        let script = try write(c, "wide.sh", """
            #!/bin/bash
            #SBATCH -p wide -N 3 -n 6 -w host,emu1,emu2
            srun -l bash -c 'echo "$SLURM_PROCID $SLURM_LOCALID $SLURMD_NODENAME $SLURM_NODEID of=$SLURM_STEP_NUM_TASKS"'
            srun -n 3 sh -c 'echo "err $SLURM_PROCID" >&2; exit $SLURM_PROCID'; echo "rc=$?"
            srun \(ring)
            trap 'echo batch got USR1' USR1
            srun bash -c 'trap "echo task $SLURM_PROCID on $SLURMD_NODENAME got USR1; exit 5" USR1; while :; do sleep 0.1; done # \(token)'
            echo "srun=$?"
            srun sleep \(Int.random(in: 100_000...999_999))
            """)
        let job = try c.submit(["-o", "wide.out", script])
        try c.wait("the signal step's tasks on all three nodes") {
            processes(token).count >= 7  // srun and six tasks
        }
        usleep(300_000)
        _ = try c.cluster.ctl(["cancel", "--signal", "USR1", "\(job)"])
        try c.wait("the last step to run") { c.output("wide.out").contains("srun=") }
        let sleeper = try String(contentsOfFile: script, encoding: .utf8).split(separator: "\n").last.map { String($0.dropFirst(5)) } ?? ""
        try c.wait("its three tasks") { processes(sleeper).count >= 4 }
        _ = try c.cluster.ctl(["cancel", "\(job)"])
        try c.wait("every task to go, on both agents", within: 15) { processes(sleeper).isEmpty }
        try c.wait("the job to end") { try c.jobs().isEmpty }

        let out = c.output("wide.out")
        let lines = out.split(separator: "\n").map(String.init)
        // Two tasks on each node, the third node's through the second agent.
        #expect(lines.filter { $0.contains("of=6") }.sorted() == [
            "0: 0 0 host 0 of=6", "1: 1 1 host 0 of=6", "2: 2 0 emu1 1 of=6", "3: 3 1 emu1 1 of=6",
            "4: 4 0 emu2 2 of=6", "5: 5 1 emu2 2 of=6",
        ], "\(out)")
        // MPI ranks on both agents' nodes in one world: PMI through the hub.
        #expect(ranks(out) == (0..<6).map { "rank \($0) of 6 sum 21" }, "\(out)")
        // The far tasks' standard error and exit status come back.
        #expect(out.contains("err 2\n"), "\(out)")
        #expect(out.contains("srun: error: emu2: task 2: Exited with exit code 2"), "\(out)")
        #expect(lines.contains("rc=2"), "\(out)")
        // scancel --signal reaches the tasks on the other agent's node too.
        #expect(out.contains("task 4 on emu2 got USR1") && out.contains("task 5 on emu2 got USR1"), "\(out)")
        #expect(lines.contains("srun=5"), "\(out)")
        #expect(processes(sleeper).isEmpty)
        // The member's folder is gone with it.
        let members = (try? FileManager.default.contentsOfDirectory(atPath: c.cluster.directory.appendingPathComponent("spool-b/steps").path)) ?? []
        #expect(members.isEmpty, "\(members)")
    }

    /// sstat's view of a job whose work runs in steps: their tasks count (they are in process
    /// groups of their own, apart from the batch script's).
    @Test func statCountsAJobsSteps() throws {
        let c = try idleCluster()
        let busy = try c.submit(["-n", "1", "--wrap",
                                 "srun python3 -c 'x = bytearray(60 << 20); x[::4096] = b\"1\" * len(x[::4096]); import time; time.sleep(60)'"])
        var usage: [String: Any]?
        try c.wait("the step's memory to be measured", within: 20) {
            let r = try c.cluster.ctl(["stat", "--json", "\(busy)"])
            usage = ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any])?["jobs"].flatMap { ($0 as? [[String: Any]])?.first }
            return (usage?["memory_mb"] as? Int ?? 0) >= 60
        }
        // The batch shell, srun and the step's python.
        #expect((usage?["processes"] as? Int ?? 0) >= 3, "\(String(describing: usage))")
        #expect((usage?["memory_mb"] as? Int ?? 0) >= 60, "\(String(describing: usage))")
        _ = try c.cluster.ctl(["cancel", "\(busy)"])
        try c.wait("the job to end") { try c.jobs().isEmpty }
    }

    /// An agent restarted while a step runs still reports the step's end (`queue -s` drops it).
    @Test func aRestartedAgentReportsTheEndOfAStepItFound() throws {
        let c = try idleCluster()
        let job = try c.submit(["-n", "1", "--wrap", "srun sleep 4; sleep 60"])
        try c.wait("the step in queue -s") { try c.cluster.ctl(["queue", "-s", "-h"]).stdout.contains("\(job).0 ") }
        c.stopAgent()
        try c.startAgent()
        try c.wait("the ended step to leave queue -s", within: 20) { try c.cluster.ctl(["queue", "-s", "-h"]).stdout.isEmpty }
        #expect(try c.cluster.ctl(["queue", "-s", "-h"]).stdout.isEmpty)
        #expect(try c.jobs().contains { $0["id"] as? Int == job && $0["state"] as? String == "RUNNING" })
        _ = try c.cluster.ctl(["cancel", "\(job)"])
        try c.wait("the job to end") { try c.jobs().isEmpty }
    }

    @Test func srunOutsideAJobMakesOneAndFollowsItToItsEnd() throws {
        let c = try idleCluster()
        let dir = c.cluster.directory.path
        let env = ["SLURM_JOB_ID": "", "CHESS_JOB_ID": "", "CHESS_SOCKET": c.cluster.socket]
        // Job options (sbatch's: -N, -n, -D) and srun's own (-l) together, as with Slurm.
        let run = try runBinary("srun", ["-N", "2", "-n", "2", "-D", dir, "-l", "bash", "-c",
                                         "echo \"on $SLURMD_NODENAME\"; echo \"err $SLURM_PROCID\" >&2"], environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").sorted() == ["0: on host", "1: on emu1"], "\(run.stdout)")
        #expect(run.stderr.contains("0: err 0") && run.stderr.contains("1: err 1"), "\(run.stderr)")
        // The exit status is the step's; the job's output files are gone.
        let failing = try runBinary("srun", ["-D", dir, "sh", "-c", "exit 6"], environment: env)
        #expect(failing.status == 6, "\(failing.stderr)")
        #expect(failing.stderr.contains("task 0: Exited with exit code 6"), "\(failing.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".srun-") }
        #expect(left.isEmpty, "\(left)")
        // The jobs are in accounting, each with its step.
        let acct = try c.cluster.ctl(["acct", "-o", "jobid,jobname,state,exitcode", "-P", "-n"])
        #expect(acct.stdout.contains("|bash|COMPLETED|0:0") && acct.stdout.contains(".0|sh|FAILED|6:0"), "\(acct.stdout)")
        // An option srun cannot honour is refused before any job is made.
        let refused = try runBinary("srun", ["--pty", "bash"], environment: env)
        #expect(refused.status == 1 && refused.stderr.contains("--pty"), "\(refused.stderr)")
    }

    @Test func concurrentStepsEachHoldTheirOwnCoresAndWaitForThem() throws {
        let c = try idleCluster()
        // Task farming: three one-task steps in a two-CPU job; the third waits for a core.
        let script = try write(c, "farm.sh", """
            #!/bin/bash
            #SBATCH -n 2 -w host
            for i in 1 2 3; do
                srun -n1 bash -c 'echo "step $SLURM_STEP_ID cpus=$(grep Cpus_allowed_list /proc/self/status | cut -f2)"; sleep 1' &
            done
            wait
            srun -n 2 -l bash -c 'echo "cpus=$(grep Cpus_allowed_list /proc/self/status | cut -f2)"'
            srun -n 2 --overlap -l bash -c 'echo "shared=$(grep Cpus_allowed_list /proc/self/status | cut -f2)"'
            """)
        _ = try c.submit(["-o", "farm.out", script])
        try c.wait("the job to end", within: 60) { try c.jobs().isEmpty }
        let out = c.output("farm.out")
        let lines = out.split(separator: "\n").map(String.init)
        let steps = lines.filter { $0.hasPrefix("step ") }
        #expect(steps.count == 3, "\(out)")
        // Each step on one core of its own (a single CPU, not the job's two).
        #expect(steps.allSatisfy { $0.range(of: #"cpus=\d+$"#, options: .regularExpression) != nil }, "\(out)")
        #expect(out.components(separatedBy: "srun: Job step creation temporarily disabled, retrying").count == 2, "\(out)")
        #expect(out.contains("srun: Step created for StepId="), "\(out)")
        // Each task of a step on its own core; --overlap tasks on all the job's.
        let own = lines.filter { $0.contains(": cpus=") }.map { $0.split(separator: "=").last.map(String.init) ?? "" }
        #expect(own.count == 2 && Set(own).count == 2, "\(out)")
        let shared = lines.filter { $0.contains(": shared=") }.map { $0.split(separator: "=").last.map(String.init) ?? "" }
        #expect(shared.count == 2 && shared.allSatisfy { $0.contains("-") || $0.contains(",") }, "\(out)")
    }

    @Test func aUsersJobRunsItsScriptAndStepsAsThatUserAndOthersAreKeptOut() throws {
        let c = try idleCluster()
        let script = try write(c, "mine.sh", """
            #!/bin/bash
            #SBATCH -n 2
            echo "batch=$(id -un)"
            srun -l id -un
            sleep 30
            """)
        // The output goes where nobody may write (it is opened as the job's user).
        let home = c.cluster.directory.appendingPathComponent("home-nobody").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        chown(home, JobFilesEndToEndTests.nobody.uid, JobFilesEndToEndTests.nobody.gid)
        let submitted = try runBinary("chessctl", ["submit", "--parsable", "-D", home, "-o", "mine.out", script],
                                      environment: ["CHESS_SOCKET": c.cluster.socket], user: "nobody")
        let job = try #require(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(submitted.stderr)")
        try c.wait("the step's output") { c.output("home-nobody/mine.out").contains("1: nobody") }
        let out = c.output("home-nobody/mine.out")
        #expect(out.contains("batch=nobody\n"), "\(out)")
        #expect(out.contains("0: nobody\n"), "\(out)")
        // Another user may not start steps in it; root may.
        let socket = ["CHESS_STEP_SOCKET": "\(c.spool)/srun.sock"]
        let other = try runBinary("srun", ["--jobid=\(job)", "--overlap", "true"], environment: socket, user: "daemon")
        #expect(other.status == 1)
        #expect(other.stderr.contains("steps run only in your own jobs"), "\(other.stderr)")
        let root = try runBinary("srun", ["--jobid=\(job)", "--overlap", "-n1", "id", "-un"], environment: socket)
        #expect(root.status == 0 && root.stdout == "nobody\n", "\(root.stdout) \(root.stderr)")
        // Outside a job srun makes one, through chessd: none there, a clear error.
        let outside = try runBinary("srun", ["true"], environment: ["SLURM_JOB_ID": "", "CHESS_JOB_ID": "",
                                                                   "CHESS_SOCKET": "/nonexistent/chessd.sock"])
        #expect(outside.status == 1 && outside.stderr.contains("cannot reach chessd"), "\(outside.stderr)")
        _ = try c.cluster.ctl(["cancel", "\(job)"])
        try c.wait("the job to end") { try c.jobs().isEmpty }
    }

    /// An MPI program (MPICH's `mpicc`, which `make test` installs): each rank prints its rank,
    /// the size, and the sum of rank + 1 over all ranks (an allreduce: the ranks found each other).
    func buildMPIProgram(_ c: Running) throws -> String {
        let source = c.cluster.directory.appendingPathComponent("ring.c").path
        try """
            #include <mpi.h>
            #include <stdio.h>
            int main(int argc, char **argv) {
                int rank, size, one, sum = 0;
                MPI_Init(&argc, &argv);
                MPI_Comm_rank(MPI_COMM_WORLD, &rank);
                MPI_Comm_size(MPI_COMM_WORLD, &size);
                one = rank + 1;
                MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
                printf("rank %d of %d sum %d\\n", rank, size, sum);
                MPI_Finalize();
                return 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let binary = c.cluster.directory.appendingPathComponent("ring").path
        let mpicc = try ChildProcess.run("/usr/bin/mpicc", ["-o", binary, source], timeout: 120, mergeErrors: true)
        guard mpicc.status == 0 else {
            throw TestCluster.Failure("mpicc failed (install mpich and libmpich-dev: make test does): \(mpicc.stdoutText)")
        }
        return binary
    }

    /// The ranks' lines of `out`, sorted.
    func ranks(_ out: String) -> [String] { out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("rank ") }.sorted() }

    @Test func mpiRanksFindEachOtherThroughTheStepsPMI() throws {
        let c = try idleCluster()
        let ring = try buildMPIProgram(c)
        let script = try write(c, "mpi.sh", """
            #!/bin/bash
            #SBATCH -N 2 -n 4
            srun \(ring); echo "rc=$?"
            srun --mpi=none -n 2 \(ring) | grep -c "of 1 "
            """)
        _ = try c.submit(["-o", "mpi.out", script])
        try c.wait("the job to end", within: 60) { try c.jobs().isEmpty }
        let out = c.output("mpi.out")
        // Four ranks of one world over two nodes; without PMI each is a world of its own.
        #expect(ranks(out) == ["rank 0 of 4 sum 10", "rank 1 of 4 sum 10", "rank 2 of 4 sum 10", "rank 3 of 4 sum 10"], "\(out)")
        #expect(out.contains("rc=0\n2\n"), "\(out)")
    }

    /// Processes whose command line contains `marker`.
    func processes(_ marker: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.filter { pid in
            let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
                .map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) } ?? ""
            return cmd.contains(marker)
        }
    }

    @Test func signalsReachStepTasksAndStepsEndWithTheirJob() throws {
        let c = try idleCluster()
        // scancel --signal reaches the step's tasks (in a process group of their own).
        let trapping = try write(c, "trap.sh", """
            #!/bin/bash
            #SBATCH -N 2 -n 2
            trap 'echo batch got USR1' USR1
            srun bash -c 'trap "echo task $SLURM_PROCID got USR1; exit 7" USR1; while :; do sleep 0.1; done'
            echo "srun=$?"
            """)
        let trapped = try c.submit(["-o", "trap.out", trapping])
        try c.wait("the step's tasks to run") { processes("got USR1; exit 7").count >= 3 }  // srun and two tasks
        usleep(300_000)  // the tasks' traps set
        let sent = try c.cluster.ctl(["cancel", "--signal", "USR1", "\(trapped)"])
        #expect(sent.status == 0, "\(sent.stderr)")
        try c.wait("the job to end") { try c.jobs().allSatisfy { $0["id"] as? Int != trapped } }
        let out = c.output("trap.out")
        #expect(out.contains("task 0 got USR1") && out.contains("task 1 got USR1"), "\(out)")
        #expect(out.contains("srun=7"), "\(out)")

        // A cancelled job's steps go with it, on both nodes.
        let marker = "\(Int.random(in: 100_000...999_999))"
        let sleeper = try c.submit(["-N", "2", "-n", "2", "-o", "sleep.out", "--wrap", "srun -n 1 true; srun sleep \(marker); echo never"])
        try c.wait("the step's two sleeps") { processes("sleep \(marker)").count >= 3 }  // srun and two tasks
        // While its tasks run quietly the step's supervisor sleeps: no wake-ups (it polled every
        // 50 ms before session 18: some forty in two seconds).
        let stepSupervisor = try #require(processes("/jobs/\(sleeper).0/steps/").first { pid in
            (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()).split(separator: 0).first.map {
                String(decoding: $0, as: UTF8.self).hasSuffix("chess-supervisor")
            } ?? false
        })
        func switches() -> Int {
            let status = String(decoding: FileManager.default.contents(atPath: "/proc/\(stepSupervisor)/status") ?? Data(), as: UTF8.self)
            return status.split(separator: "\n").filter { $0.contains("ctxt_switches:") }
                .compactMap { $0.split(separator: "\t").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.reduce(0, +)
        }
        let before = switches()
        usleep(2_000_000)
        #expect(switches() - before <= 5, "the step's supervisor woke \(switches() - before) times in two quiet seconds")
        // squeue -s: the running step, not the one that ended.
        try c.wait("the running step in queue -s") { try c.cluster.ctl(["queue", "-s", "-h"]).stdout.contains("\(sleeper).1 ") }
        let listed = try c.cluster.ctl(["queue", "-s", "-h"]).stdout
        #expect(listed.contains("\(sleeper).1 ") && listed.contains("sleep") && listed.contains("host,emu1"), "\(listed)")
        #expect(!listed.contains("\(sleeper).0 "), "\(listed)")
        _ = try c.cluster.ctl(["cancel", "\(sleeper)"])
        try c.wait("the step's processes to go", within: 15) { processes("sleep \(marker)").isEmpty }
        #expect(processes("sleep \(marker)").isEmpty)
        #expect(!c.output("sleep.out").contains("never"))
        try c.wait("the job to end") { try c.jobs().isEmpty }
        let acct = try c.cluster.ctl(["acct", "-j", "\(sleeper)", "-o", "jobid,state", "-P", "-n"])
        #expect(acct.stdout == "\(sleeper)|CANCELLED\n\(sleeper).0|COMPLETED\n\(sleeper).1|CANCELLED\n", "\(acct.stdout)")
        #expect(try c.cluster.ctl(["queue", "-s", "-h"]).stdout.isEmpty)
    }
}
