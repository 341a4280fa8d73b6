import ChessAPI
import ControllerCore
import Foundation
import SchedulerCore

/// `chessctl priority` (sprio) and `chessctl share` (sshare), read from the state
/// (`ControllerState.priorities`, `.shares`) with the configured weights at the clock's now.
extension Controller {
    func priorities(users: Set<String>?, ids: Set<JobID>?) -> JobPriorityList {
        let now = clock.now()
        let weights = configuration.planner.effectiveWeights
        lock.lock()
        defer { lock.unlock() }
        return state.priorities(users: users, ids: ids, weights: weights, now: now)
    }

    func shares() -> AccountShareList {
        let now = clock.now()
        let weights = configuration.planner.effectiveWeights
        lock.lock()
        defer { lock.unlock() }
        return state.shares(weights: weights, now: now)
    }
}
