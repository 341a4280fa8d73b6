import ChessAPI
import ControllerCore
import Foundation
import SchedulerCore

/// `chessctl update` (scontrol update job): a live job's time limit, name or priority, a pending
/// job's partition, QoS or account.
extension Controller {
    /// Applies `update` with Slurm's rules (owners shorten time limits, administrators also
    /// lengthen them and set priorities), stores it with an event, and sends a running job's new
    /// limit to the agent that supervises it (the supervisor enforces limits on its own, for when
    /// the controller is away).
    func updateJob(_ ref: JobReference, _ update: JobUpdate, identity: Identity,
                   completion: @escaping @Sendable (Result<JobInfo, APIError>) -> Void) {
        guard update.timeLimit != nil || update.name != nil || update.priority != nil || update.nice != nil || update.movesJob
            || update.dependency != nil || update.begin != nil || update.arrayThrottle != nil else {
            return completion(.failure(.badRequest("nothing to change: give time_limit, name, priority, nice, dependency, begin, array_throttle, partition, qos, account, nodelist or exclude")))
        }
        let now = clock.now()
        lock.lock()
        let updated: [(JobRecord, String)]
        do {
            updated = try state.update(ref, update, identity, now: now, defaultPartition: configuration.defaultPartition,
                                       mailDomain: effective.mailDomain)
        } catch {
            lock.unlock()
            return completion(.failure(error))
        }
        let index = self.index
        lock.unlock()
        store.write({ db in
            for (record, change) in updated {
                try self.saveJob(record, in: db)
                try JobTable.event(record.id, time: now, state: record.job.state, reason: "\(change) by \(identity.user)", in: db)
            }
        }, completion: { [self] error in
            if let error { return completion(.failure(.unavailable("the change could not be stored: \(error)"))) }
            dispatchCommands()
            requestPass()
            completion(.success(updated[0].0.info(index)))
        })
    }
}
