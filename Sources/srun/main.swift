import BatchSubmission
import ChessWire
import Glibc

// srun: runs a job step — a command as tasks on the nodes of the job it is started in — through
// the node agent's step socket ($CHESS_STEP_SOCKET, set in every job). The tasks write straight
// to srun's own output (its descriptors are handed over), get Slurm's step variables
// (SLURM_PROCID, SLURM_LOCALID, SLURM_STEP_ID, …), and srun exits with the highest task exit
// status. Protocol: ChessWire's `StepRequest`. No Foundation (`StepsJSON`, `CallingProcess`), so
// that each step pays less start-up.

let defaultSocket = "/var/spool/chess/srun.sock"

func fail(_ message: String, status: Int32 = 1) -> Never {
    CallingProcess.writeError("srun: error: \(message)\n")
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--help" || arguments.first == "-h" {
    print("""
        usage: srun [-n TASKS] [-N NODES] [--ntasks-per-node N] [-c CPUS] [-l] [-K] [--overlap] [-D DIR]
                    [--export=ALL|NONE|VARS] [-J NAME] [--jobid=ID] COMMAND [ARGS...]

        Runs COMMAND as the tasks of a job step on the nodes of the job srun is started in (or of
        --jobid, beside a running job of yours on its node). Without -n: the job's own task count,
        or one task per node. Output goes to srun's; srun exits with the highest task exit status.
        Tasks get PMI-1 (MPICH, Intel MPI). Outside a job, srun makes one for the command (sbatch's
        options: -p, -t, --mem, …), runs it there as a step and follows it to its end. See
        docs/srun.md.
        """)
    exit(0)
}
let environment = CallingProcess.environment
// Outside a job (and not --jobid): a job of its own, as Slurm's srun makes one.
let inJob = !(environment["SLURM_JOB_ID"] ?? environment["CHESS_JOB_ID"] ?? "").isEmpty
if !inJob, !arguments.contains(where: { $0.hasPrefix("--jobid") }) {
    Allocation.run(arguments, environment: environment)
}
let options: StepOptions
// srun's input variables (SLURM_CPU_BIND, SLURM_MPI_TYPE, SLURM_LABELIO, …) under the command line.
do { options = try StepOptions.parse(StepOptions.environmentArguments(environment) + arguments) } catch { fail("\(error)") }
guard !options.command.isEmpty else { fail("no command given (srun --help)") }
if !options.quiet { for w in options.warnings { CallingProcess.writeError("srun: warning: \(w)\n") } }

guard let job = options.jobID ?? (environment["SLURM_JOB_ID"] ?? environment["CHESS_JOB_ID"]).flatMap({ Int($0) }) else {
    fail("no job: give --jobid=ID")
}
var taskEnvironment = environment
if let export = options.export {
    do { taskEnvironment = try ExportSpec.apply(export, to: environment) } catch { fail("\(error)") }
}
let cpusPerTask = options.cpusPerTask ?? environment["SRUN_CPUS_PER_TASK"].flatMap { Int($0) }
let request = StepRequest(job: job, argv: options.command, environment: taskEnvironment,
                          workdir: options.workdir ?? CallingProcess.currentDirectory, tasks: options.tasks,
                          nodes: options.nodes, tasksPerNode: options.tasksPerNode, cpusPerTask: cpusPerTask, label: options.label,
                          killOnBadExit: options.killOnBadExit, overlap: options.overlap, name: options.name, pmi: options.pmi)

let socketPath = environment["CHESS_STEP_SOCKET"] ?? defaultSocket
let body = request.jsonBytes + [UInt8(ascii: "\n")]

// Signals for the tasks are taken by a thread of their own and passed on; the main thread
// waits for the step's end.
let signalSet = blockSignals([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM])
signal(SIGPIPE, SIG_IGN)

/// Asks the agent for the step; the connection, its reader and the answer.
func requestStep() -> (Int32, LineReader, StepStart) {
    let connection: Int32
    do {
        connection = try UnixSocket.connect(socketPath)
    } catch {
        let why = "\(error)"
        fail("cannot reach the node agent at \(socketPath): \(why.hasPrefix(socketPath + ": ") ? String(why.dropFirst(socketPath.count + 2)) : why) "
            + "(is chess-nodeagent running on this node?)")
    }
    do {
        try UnixSocket.send(connection, body, descriptors: [0, 1, 2])
    } catch {
        fail("cannot send the step to the node agent: \(error)")
    }
    var reader = LineReader(fd: connection)
    guard let first = try? reader.next(), let start = try? StepStart(scanning: Array(first)) else {
        fail("the node agent did not answer")
    }
    return (connection, reader, start)
}

// While the job's other steps hold its CPUs, the step waits for them, as in Slurm.
var (connection, reader, start) = requestStep()
var waited = false
var pause: useconds_t = 100_000
while start.retry == true {
    if !waited && !options.quiet {
        CallingProcess.writeError("srun: Job step creation temporarily disabled, retrying (\(start.error ?? "busy"))\n")
    }
    waited = true
    close(connection)
    usleep(pause)
    pause = min(pause * 2, 1_000_000)
    (connection, reader, start) = requestStep()
}
if let error = start.error { fail(error) }
let step = start.step ?? 0
if waited && !options.quiet { CallingProcess.writeError("srun: Step created for StepId=\(job).\(step)\n") }
if !options.quiet { for w in start.warnings ?? [] { CallingProcess.writeError("srun: warning: \(w)\n") } }

let control = connection
startThread { [signalSet] in
    var set = signalSet
    var received: Int32 = 0
    while true {
        guard sigwait(&set, &received) == 0 else { continue }
        try? UnixSocket.send(control, Array("signal \(received)\n".utf8))
    }
}

guard let last = try? reader.next(), let end = try? StepEnd(scanning: Array(last)) else {
    fail("step \(job).\(step) ended without a report (its supervisor was lost)")
}
for t in end.tasks where t.exitCode != 0 || t.signal != nil {
    let how = t.signal.map { s in SignalName("\(s)").map { "killed by \($0)" } ?? "killed by signal \(s)" }
        ?? "Exited with exit code \(t.exitCode)"
    CallingProcess.writeError("srun: error: \(t.node): task \(t.task): \(how)\n")
}
if let reason = end.reason {
    CallingProcess.writeError("srun: error: step \(job).\(step): \(reason)\n")
    if end.tasks.isEmpty { exit(1) }
}
exit(end.exitStatus)
