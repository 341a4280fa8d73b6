import SchedulerCore

/// Who a request acts for.
package struct Identity: Sendable, Hashable {
    package var user: String
    package var uid: UInt32?
    package var gid: UInt32?
    /// Root and configured operators.
    package var admin: Bool

    package init(user: String, uid: UInt32?, gid: UInt32?, admin: Bool) {
        self.user = user
        self.uid = uid
        self.gid = gid
        self.admin = admin
    }

    /// May this identity change that job?
    package func owns(_ record: JobRecord) -> Bool { admin || record.job.user == user }
}
