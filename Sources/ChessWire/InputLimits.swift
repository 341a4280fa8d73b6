/// The largest values CHESS takes from outside: users, agents, the marketplace, the network.
///
/// Every number that reaches the scheduler from a request is checked against these before any
/// arithmetic is done with it, so that the products and sums the planner forms (tasks × CPUs
/// per task × memory per CPU × nodes, a start plus a time limit) stay far inside `Int`: a
/// value past a bound is refused with a 4xx that names the field, never a trap. They are set
/// well above any real machine (docs/security.md lists them with the reasons).
public enum InputLimits {
    /// Nesting of JSON arrays and objects in a request body (CHESS's own bodies nest 4 deep).
    public static let jsonDepth = 64
    /// The largest integer a JSON body may hold: 2^53 − 1, the integers every JSON reader
    /// represents exactly (RFC 7493, I-JSON).
    public static let jsonInteger = (1 << 53) - 1

    /// Nodes of one job (`--nodes`), and the length of a node list.
    public static let nodes = 1 << 20
    /// Tasks of one job (`--ntasks`, `--ntasks-per-node`): 16,777,216.
    public static let tasks = 1 << 24
    /// CPUs per task, CPUs per GPU (no node has more than 4,096 CPUs in one system image).
    public static let cpusPerTask = 1 << 12
    /// GPUs per node or per task.
    public static let gpus = 1 << 10
    /// Memory per node, per CPU or per GPU, in MiB: 16 TiB.
    public static let memoryMB = 1 << 24
    /// Durations in seconds (time limits, reservation lengths): 100 years.
    public static let seconds = 100 * 366 * 86_400
    /// Unix timestamps (`--begin`, report periods): up to the end of year 9999.
    public static let timestamp = 253_402_300_799
    /// Licenses of one kind a job may ask for.
    public static let licenses = 1 << 24
    /// An array task index (Slurm's MaxArraySize is at most 4,000,001).
    public static let arrayIndex = 4_000_000
    /// A job's priority set by an administrator (Slurm's is a 32-bit value).
    public static let priority = Int(UInt32.max)

    /// A value outside its bounds, named for the client.
    public struct Violation: Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// `value` if it lies in `range` (or is absent); else a violation naming `field`.
    @discardableResult
    public static func check(_ value: Int?, _ range: ClosedRange<Int>, _ field: String) throws(Violation) -> Int? {
        guard let value else { return nil }
        guard range.contains(value) else {
            throw Violation("\(field) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }
}

/// A pass over a JSON body before any decoder sees it: the nesting depth stays within
/// `InputLimits.jsonDepth` (the decoders recurse, on threads with small stacks) and every
/// integer within `InputLimits.jsonInteger`. Strings are skipped with their escapes; anything
/// else is the decoder's to judge. Linear in the body, no allocation but the field name of a
/// failure.
public enum JSONBodyCheck {
    public static func check(_ bytes: [UInt8]) throws(InputLimits.Violation) {
        var depth = 0
        var i = 0
        let n = bytes.count
        var lastKeyStart = -1, lastKeyEnd = -1
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                while i < n, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                (lastKeyStart, lastKeyEnd) = (start, min(i, n))
                i += 1
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                guard depth <= InputLimits.jsonDepth else {
                    throw InputLimits.Violation("the JSON body nests deeper than \(InputLimits.jsonDepth) levels")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                // An integer part longer than 16 digits, or one past 2^53 − 1.
                var j = c == UInt8(ascii: "-") ? i + 1 : i
                var value = 0
                var digits = 0
                while j < n, bytes[j] >= UInt8(ascii: "0") && bytes[j] <= UInt8(ascii: "9") {
                    if digits < 17 { value = value * 10 + Int(bytes[j] - UInt8(ascii: "0")) }
                    digits += 1
                    j += 1
                }
                if digits > 16 || value > InputLimits.jsonInteger {
                    let field = lastKeyStart >= 0 ? String(decoding: bytes[lastKeyStart..<lastKeyEnd].prefix(64), as: UTF8.self) : "a value"
                    throw InputLimits.Violation("\(field): the number is too large (at most \(InputLimits.jsonInteger))")
                }
                i = max(j, i + 1)
                continue
            default:
                break
            }
            i += 1
        }
    }
}
