import ChessAPI
import ControllerCore
import SchedulerCore

/// `private_data` (Slurm's PrivateData=): what a user who is not an administrator may see of
/// other users' work. The routes ask here; the rules live in one place so that a new read
/// route has one thing to call.
extension Controller {
    /// Does `private_data` hide `kind` from this caller? Never from root or an operator.
    func hides(_ kind: PrivateData, from identity: Identity) -> Bool {
        !identity.admin && configuration.privateData.contains(kind)
    }

    /// The users whose jobs the caller may see, within those asked for (nil: all users).
    /// With `jobs` private a user sees only their own, as squeue does with PrivateData=jobs.
    func visibleUsers(_ asked: Set<String>?, for identity: Identity, _ kind: PrivateData = .jobs) -> Set<String>? {
        guard hides(kind, from: identity) else { return asked }
        return (asked ?? [identity.user]).intersection([identity.user])
    }

    /// Refuses a job of another user when `jobs` is private. The refusal names neither the
    /// owner nor anything else of the job.
    func requireVisible(job ref: JobReference, owner: String, for identity: Identity) throws(APIError) {
        guard hides(.jobs, from: identity), owner != identity.user else { return }
        throw .forbidden("job \(ref) is another user's, and private_data hides other users' jobs")
    }

    /// The accounts the caller may submit under (all of them for an administrator).
    func usableAccounts(for identity: Identity) -> Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return usableAccountsLocked(for: identity)
    }

    private func usableAccountsLocked(for identity: Identity) -> Set<String> {
        Set(effective.cluster.accounts.filter { identity.admin || $0.admits(identity.user) }.map(\.name))
    }

    /// The names of the `kind` objects the caller may see: all of them unless `private_data`
    /// hides accounts (those the user may not submit under), partitions (those none of the
    /// user's accounts may use) or reservations (those naming neither the user nor one of
    /// the user's accounts). nil: no filter.
    func visibleObjects(_ kind: ConfigObjectKind, for identity: Identity) -> Set<String>? {
        let hidden: PrivateData = switch kind {
        case .accounts: .accounts
        case .partitions: .partitions
        case .reservations: .reservations
        case .qos: []
        }
        guard !hidden.isEmpty, hides(hidden, from: identity) else { return nil }
        lock.lock()
        defer { lock.unlock() }
        let accounts = usableAccountsLocked(for: identity)
        let cluster = effective.cluster
        switch kind {
        case .accounts:
            return accounts
        case .partitions:
            return Set(cluster.partitions.filter { $0.allowedAccounts.map { !$0.isDisjoint(with: accounts) } ?? true }.map(\.name))
        case .reservations:
            return Set(cluster.reservations.filter { $0.users.contains(identity.user) || !$0.accounts.isDisjoint(with: accounts) }.map(\.name))
        case .qos:
            return nil
        }
    }
}
