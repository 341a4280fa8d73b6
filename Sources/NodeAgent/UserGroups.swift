import Glibc

/// A job's user's groups, read from the system's user database (`getgrouplist`, through NSS in
/// this long-running, dynamically linked process) for the plans the agent writes: the static
/// supervisor only calls `setgroups` (`LaunchPlan.groups` says why).
enum UserGroups {
    /// The groups a job's processes take: nil when they keep this process's (the agent is not
    /// root, or the job is root's), else `user`'s with `gid` first, as `initgroups` would set.
    static func forJob(user: String, uid: UInt32?, gid: UInt32?) -> [UInt32]? {
        guard getuid() == 0, let uid, uid != 0 else { return nil }
        return of(user: user, gid: gid ?? uid)
    }

    /// `user`'s groups with `gid` among them (a user the database does not know has only
    /// `gid`).
    static func of(user: String, gid: UInt32) -> [UInt32] {
        var capacity: Int32 = 64
        // getgrouplist says how many there are when the list is too short; a user's groups can
        // change between two calls, so it is asked a few times at most.
        for _ in 0..<4 {
            var list = [gid_t](repeating: 0, count: Int(capacity))
            var count = capacity
            if getgrouplist(user, gid, &list, &count) >= 0 { return Array(list.prefix(Int(max(count, 0)))) }
            guard count > capacity, count <= 1 << 16 else { break }
            capacity = count
        }
        return [gid]
    }
}
