import Glibc
import NodeSupervisor

// chess-supervisor SPOOL/jobs/ID: runs one job to its end and writes its result to the spool.
// chess-supervisor step SPOOL/jobs/ID/steps/N: runs one job step (srun's) to its end.
// Started by chess-nodeagent in a session of its own; not meant to be run by hand.
let arguments = CommandLine.arguments
signal(SIGPIPE, SIG_IGN)
if arguments.count == 3, arguments[1] == "step" {
    exit(StepSupervisor.main(directory: arguments[2]))
}
guard arguments.count == 2, !arguments[1].hasPrefix("-") else {
    let usage = "usage: chess-supervisor SPOOL/jobs/ID | step SPOOL/jobs/ID/steps/N (started by chess-nodeagent)\n"
    _ = usage.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}
exit(Supervisor.main(directory: arguments[1]))
