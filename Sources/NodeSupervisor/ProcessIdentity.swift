import Glibc

/// Which process a pid names, beyond the number: the machine's boot and the process's start
/// time (`/proc/PID/stat`, clock ticks since boot). The kernel hands pids out again — after a
/// reboot, from the same low numbers — so a pid kept in the spool names the job only while both
/// still match. The agent signals job groups as root: it checks this first (`JobSpool.jobGroup`).
public struct ProcessIdentity: Equatable, Sendable {
    public let boot: String
    public let startTicks: UInt64

    /// The identity of the live process `pid`, or nil when there is none.
    public static func of(_ pid: Int32) -> ProcessIdentity? {
        guard let boot = bootID, let start = startTicks(pid) else { return nil }
        return ProcessIdentity(boot: boot, startTicks: start)
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`).
    static var bootID: String? {
        guard let bytes = JobSpool.readBytes("/proc/sys/kernel/random/boot_id") else { return nil }
        let id = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init)
        return id?.isEmpty == false ? id : nil
    }

    /// Field 22 of `/proc/PID/stat`, counted after the command's closing parenthesis (the
    /// command itself may hold spaces and parentheses).
    static func startTicks(_ pid: Int32) -> UInt64? {
        guard pid > 0, let stat = JobSpool.readBytes("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ") ": state is field 3, so the start time (22) is the 20th word.
        let words = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard words.count >= 20 else { return nil }
        return UInt64(String(decoding: words[19], as: UTF8.self))
    }

    /// As the spool keeps it: `BOOT START`.
    public var text: String { "\(boot) \(startTicks)" }

    public init(boot: String, startTicks: UInt64) {
        self.boot = boot
        self.startTicks = startTicks
    }

    /// Reads `text`'s form back.
    public init?(text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 2, let start = UInt64(parts[1]) else { return nil }
        self.init(boot: String(parts[0]), startTicks: start)
    }
}
