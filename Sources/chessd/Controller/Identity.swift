import ControllerCore
import Foundation
import Glibc

/// Who a request acts for, as the system's password database says (see `Identity` in
/// ControllerCore).
extension Identity {
    /// The identity of a Unix-socket peer: its uid, as the kernel reported it.
    static func local(uid: UInt32, gid: UInt32, operators: Set<String>) -> Identity {
        let name = userName(uid: uid) ?? "\(uid)"
        return Identity(user: name, uid: uid, gid: gid, admin: uid == 0 || operators.contains(name))
    }

    /// uid and primary gid of a user name (every marketplace submit asks), cached like names.
    static func lookUp(user: String) -> (uid: UInt32, gid: UInt32)? {
        if let ids = idCache.get(user) { return ids }
        let ids = lookUpIDs(user: user)
        if let ids { idCache.set(user, ids) }
        return ids
    }

    private static let idCache = ExpiringCache<String, (uid: UInt32, gid: UInt32)>()

    private static func lookUpIDs(user: String) -> (uid: UInt32, gid: UInt32)? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(user, &pwd, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (pwd.pw_uid, pwd.pw_gid)
    }

    /// Names by uid: looking a user up reads the password database, too slow for every request.
    /// Entries are kept for a minute so that renamed accounts are seen.
    private static let cache = ExpiringCache<UInt32, String>()

    static func userName(uid: UInt32) -> String? {
        if let name = cache.get(uid) { return name }
        let name = lookUpUserName(uid: uid)
        if let name { cache.set(uid, name) }
        return name
    }

    private static func lookUpUserName(uid: UInt32) -> String? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: pwd.pw_name)
    }
}

/// Password-database answers kept for a minute, so that renamed or changed accounts are seen.
private final class ExpiringCache<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Key: (Value, Date)] = [:]

    func get(_ key: Key) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        guard let (value, at) = entries[key], at.timeIntervalSinceNow > -60 else { return nil }
        return value
    }

    func set(_ key: Key, _ value: Value) {
        lock.lock()
        entries[key] = (value, Date())
        lock.unlock()
    }
}
