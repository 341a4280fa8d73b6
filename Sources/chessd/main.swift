// chessd, the controller daemon, is not built yet (issue 3). Until it is, it says so plainly
// instead of pretending to run, so that no script mistakes it for a working controller.
import Foundation

FileHandle.standardError.write(Data("""
    chessd: the controller is not implemented yet in this build.
    What works today: `chessctl simulate` (trace replay); see docs/architecture.md.

    """.utf8))
exit(2)
