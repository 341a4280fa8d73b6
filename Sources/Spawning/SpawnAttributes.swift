import Glibc

/// `posix_spawn` attributes for the processes the agent and supervisors start: nothing blocked
/// in the child, whatever the spawning thread blocks (the agent blocks its stop signals in every
/// thread to take them with `sigwait`), plus the flags asked for.
public final class SpawnAttributes {
    public var raw = posix_spawnattr_t()

    /// glibc's POSIX_SPAWN_* values (Swift does not import the macros).
    public static let setProcessGroup: Int16 = 0x02
    public static let setSignalDefaults: Int16 = 0x04
    public static let setSignalMask: Int16 = 0x08
    public static let setSession: Int16 = 0x80

    /// `flags` among `setSession` (a session of its own: outlives the spawner's),
    /// `setProcessGroup` (a group of its own, killable whole) and `setSignalDefaults` (every
    /// signal's action back to default).
    public init(flags: Int16) {
        posix_spawnattr_init(&raw)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&raw, &none)
        if flags & Self.setProcessGroup != 0 { posix_spawnattr_setpgroup(&raw, 0) }
        if flags & Self.setSignalDefaults != 0 {
            var all = sigset_t()
            sigfillset(&all)
            posix_spawnattr_setsigdefault(&raw, &all)
        }
        posix_spawnattr_setflags(&raw, flags | Self.setSignalMask)
    }

    deinit { posix_spawnattr_destroy(&raw) }
}
