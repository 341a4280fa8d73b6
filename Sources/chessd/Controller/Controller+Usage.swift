import ChessAPI
import ControllerCore
import SchedulerCore

/// `chessctl stat` (sstat): what running jobs use, as their agents measured it at their last
/// heartbeat.
extension Controller {
    /// The running jobs `refs` name (an array's running tasks for `1234`), measured or not yet.
    func runningUsage(of refs: [JobReference]) throws(APIError) -> JobUsageList {
        lock.lock()
        defer { lock.unlock() }
        return try state.runningUsage(of: refs)
    }
}
