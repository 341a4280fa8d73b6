import ChessWire
import SchedulerCore

/// Parsers for the values of Slurm's job options, shared by batch-script directives, the CLI and
/// scenario files, so that each is understood the same way everywhere.
public enum JobSpecSyntax {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// `--array`: `1-10`, `1,3,5`, `0-15:4` (step), with an optional `%N` cap on running tasks.
    /// sbatch's `--licenses`: `matlab:2,ansys` (a count of 1 when none is given).
    public static func licenses(_ text: String) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty, !parts[0].contains(where: \.isWhitespace) else {
                throw Error("--licenses=\(text): expected NAME[:COUNT],…, as in matlab:2,ansys")
            }
            let count = parts.count == 2 ? Int(parts[1]) : 1
            guard let count, count >= 1, count <= InputLimits.licenses - out[String(parts[0]), default: 0] else {
                throw Error("--licenses=\(text): '\(item)': the count must be a whole number from 1 to \(InputLimits.licenses)")
            }
            out[String(parts[0]), default: 0] += count
        }
        return out
    }

    /// Licenses as Slurm prints them: `ansys:1,matlab:2`, by name.
    public static func licensesText(_ licenses: [String: Int]) -> String {
        licenses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    public static func array(_ text: String) throws -> ArrayTasks {
        var body = Substring(text)
        var cap: Int?
        if let percent = body.firstIndex(of: "%") {
            guard let n = Int(body[body.index(after: percent)...]), n > 0 else {
                throw Error("--array: '\(text)': the running-task cap after % must be a positive number")
            }
            cap = n
            body = body[..<percent]
        }
        var indexes: [Int] = []
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = part.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(stepParts.count) else { throw Error("--array: '\(part)' is not N, N-M or N-M:S") }
            let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
            let bounds = stepParts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard let step, step > 0, (1...2).contains(bounds.count), let low = Int(bounds[0]),
                  let high = Int(bounds[bounds.count - 1]), low >= 0, low <= high, high <= InputLimits.arrayIndex else {
                throw Error("--array: '\(part)' is not N, N-M or N-M:S with 0 <= N <= M <= \(InputLimits.arrayIndex)")
            }
            guard indexes.count + (high - low) / step < 1_000_000 else { throw Error("--array: more than 1000000 tasks") }
            indexes += stride(from: low, through: high, by: step)
        }
        guard !indexes.isEmpty else { throw Error("--array: no task indexes in '\(text)'") }
        return ArrayTasks(pending: Array(Set(indexes)).sorted(), maxRunning: cap)
    }

    /// `--dependency`: `afterok:12:13,afterany:14`, `singleton`. Returns the dependencies and
    /// whether `singleton` was given. The `?` (any-of) form is refused, not guessed at.
    public static func dependencies(_ text: String) throws -> (dependencies: [Dependency], singleton: Bool) {
        guard !text.contains("?") else {
            throw Error("--dependency: '?' (satisfy any) is not supported; use ',' (satisfy all)")
        }
        var result: [Dependency] = []
        var singleton = false
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            if item == "singleton" { singleton = true; continue }
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard let kind = Dependency.Kind(rawValue: String(parts[0])) else {
                throw Error("--dependency: '\(parts[0])' is not one of after, afterany, afterok, afternotok, singleton")
            }
            let ids = parts.dropFirst().map { Int($0.split(separator: "+").first ?? "") }
            guard !ids.isEmpty, ids.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw Error("--dependency: '\(item)' needs job ids, as in \(kind.rawValue):123")
            }
            result.append(Dependency(kind, ids.map { $0! }))
        }
        return (result, singleton)
    }

    /// `--time`: minutes, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`; returns seconds.
    /// `UNLIMITED`/`INFINITE` return nil (no limit of the job's own).
    public static func timeLimit(_ text: String) throws -> Int? {
        let t = text.uppercased()
        if t == "UNLIMITED" || t == "INFINITE" { return nil }
        func number(_ s: Substring) throws -> Int {
            guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(s) else {
                throw Error("--time: '\(text)' is not minutes, MM:SS, HH:MM:SS or D-HH:MM:SS")
            }
            guard n <= InputLimits.seconds else { throw Error("--time: '\(text)' is longer than 100 years") }
            return n
        }
        var days = 0
        var rest = Substring(text)
        let seconds: Int
        if let dash = rest.firstIndex(of: "-") {
            days = try number(rest[..<dash])
            rest = rest[rest.index(after: dash)...]
            let p = try rest.split(separator: ":", omittingEmptySubsequences: false).map(number)
            guard (1...3).contains(p.count) else { throw Error("--time: '\(text)' has too many fields") }
            let h = p[0], m = p.count > 1 ? p[1] : 0, s = p.count > 2 ? p[2] : 0
            seconds = try checked(text) { ((days * 24 + h) * 60 + m) * 60 + s }
        } else {
            let p = try rest.split(separator: ":", omittingEmptySubsequences: false).map(number)
            switch p.count {
            case 1: seconds = try checked(text) { p[0] * 60 }
            case 2: seconds = try checked(text) { p[0] * 60 + p[1] }
            case 3: seconds = try checked(text) { (p[0] * 60 + p[1]) * 60 + p[2] }
            default: throw Error("--time: '\(text)' has too many fields")
            }
        }
        return seconds
    }

    /// A time computed from fields each at most `InputLimits.seconds` (so that the formula
    /// cannot overflow), within that bound itself.
    private static func checked(_ text: String, _ formula: () -> Int) throws -> Int {
        let value = formula()
        guard value <= InputLimits.seconds else { throw Error("--time: '\(text)' is longer than 100 years") }
        return value
    }

    /// `--mem`: a number with an optional unit K, M (default), G or T; returns MiB.
    public static func memoryMB(_ text: String) throws -> Int {
        var digits = Substring(text)
        var factor = 1
        if let last = digits.last, last.isLetter {
            switch last.uppercased() {
            case "K": factor = -1024
            case "M": factor = 1
            case "G": factor = 1024
            case "T": factor = 1024 * 1024
            default: throw Error("--mem: '\(text)': the unit must be K, M, G or T")
            }
            digits = digits.dropLast()
        }
        guard let n = Int(digits), n >= 0 else { throw Error("--mem: '\(text)' is not a size such as 4000, 4G or 512M") }
        let mb = factor < 0 ? n / 1024 + (n % 1024 == 0 ? 0 : 1) : n.multipliedReportingOverflow(by: factor).partialValue
        guard factor < 0 || n <= InputLimits.memoryMB, mb <= InputLimits.memoryMB else {
            throw Error("--mem: '\(text)' is more than \(InputLimits.memoryMB / (1024 * 1024)) TiB")
        }
        return mb
    }
}
