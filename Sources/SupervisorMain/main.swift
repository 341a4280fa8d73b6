import Foundation
import Glibc
import NodeSupervisor

// chess-supervisor SPOOL/jobs/ID: runs one job to its end and writes its result to the spool.
// Started by chess-nodeagent in a session of its own; not meant to be run by hand.
let arguments = CommandLine.arguments
guard arguments.count == 2, !arguments[1].hasPrefix("-") else {
    FileHandle.standardError.write(Data("usage: chess-supervisor SPOOL/jobs/ID (started by chess-nodeagent)\n".utf8))
    exit(2)
}
signal(SIGPIPE, SIG_IGN)
exit(Supervisor.main(directory: arguments[1]))
