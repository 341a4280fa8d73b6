// chess-nodeagent is not built yet (issue 4). Until it is, it says so plainly instead of
// pretending to run.
import Foundation

FileHandle.standardError.write(Data("""
    chess-nodeagent: the node agent is not implemented yet in this build.
    What works today: `chessctl simulate` (trace replay); see docs/architecture.md.

    """.utf8))
exit(2)
