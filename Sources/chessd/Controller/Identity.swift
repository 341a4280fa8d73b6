import Foundation
import Glibc

/// Who a request acts for.
struct Identity: Sendable, Hashable {
    var user: String
    var uid: UInt32?
    var gid: UInt32?
    /// Root and configured operators.
    var admin: Bool

    /// The identity of a Unix-socket peer: its uid, as the kernel reported it.
    static func local(uid: UInt32, gid: UInt32, operators: Set<String>) -> Identity {
        let name = userName(uid: uid) ?? "\(uid)"
        return Identity(user: name, uid: uid, gid: gid, admin: uid == 0 || operators.contains(name))
    }

    static func userName(uid: UInt32) -> String? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: pwd.pw_name)
    }

    /// May this identity change that job?
    func owns(_ record: JobRecord) -> Bool { admin || record.job.user == user }
}
