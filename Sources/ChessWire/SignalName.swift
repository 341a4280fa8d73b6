import Glibc

/// A signal as users name it to `scancel --signal`: `USR1`, `SIGUSR1` or its number, case
/// ignored. Only the signals a job may be sent are known: not STOP and CONT, which would
/// suspend and resume it behind the controller's back (that is `suspend`/`resume`).
public struct SignalName: Sendable, Hashable, CustomStringConvertible {
    /// Without `SIG`: `USR1`.
    public let name: String
    public let number: Int32

    static let known: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ABRT", SIGABRT), ("KILL", SIGKILL), ("USR1", SIGUSR1),
        ("SEGV", SIGSEGV), ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM),
        ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM), ("PROF", SIGPROF),
        ("WINCH", SIGWINCH), ("IO", SIGIO), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    public init?(_ text: String) {
        var t = text.uppercased()
        if t.hasPrefix("-") { t.removeFirst() }
        if t.hasPrefix("SIG") { t.removeFirst(3) }
        if let n = Int32(t), let found = Self.known.first(where: { $0.1 == n }) {
            (name, number) = found
        } else if let found = Self.known.first(where: { $0.0 == t }) {
            (name, number) = found
        } else {
            return nil
        }
    }

    public var description: String { "SIG\(name)" }

    /// For messages: the names accepted.
    public static var names: String { known.map(\.0).joined(separator: ", ") }
}
