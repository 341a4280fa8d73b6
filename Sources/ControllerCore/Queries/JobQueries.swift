import ChessAPI
import SchedulerCore

extension ControllerState {
    /// `sstat`: what the running jobs `refs` name (an array's running tasks for `1234`) use, as
    /// their agents measured it at their last heartbeat, and those not measured yet.
    package func runningUsage(of refs: [JobReference]) throws(APIError) -> JobUsageList {
        var measured: [JobLiveUsage] = []
        var unmeasured: [String] = []
        for ref in refs {
            let named = liveRecords(ref)
            guard let first = named.first else {
                if finished[ref.id] != nil { throw .conflict("job \(ref) has ended: its use is in its accounting record (chessctl eff \(ref))") }
                throw .notFound("job \(ref) does not exist")
            }
            let running = named.filter { $0.job.state.isActive }
            guard !running.isEmpty else { throw .conflict("job \(ref) is \(first.job.state.rawValue): it uses nothing yet") }
            for r in running {
                if var u = liveUsage[r.id], u.run == r.requeueCount {
                    u.displayID = r.displayID
                    measured.append(u)
                } else {
                    unmeasured.append(r.displayID)
                }
            }
        }
        return JobUsageList(jobs: measured, unmeasured: unmeasured)
    }
}
