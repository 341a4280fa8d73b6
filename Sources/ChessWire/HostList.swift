/// Slurm-style hostlist expressions: `node[01-16,20]`, `gpu[1-2]-ib[0-1]`, `a,b,c[1-3]`.
///
/// Sysadmins write node sets this way in configuration and read them back in `nodes` output, so
/// expansion keeps zero padding (`node[01-03]` → node01, node02, node03) and compression
/// inverts it.
public enum HostList {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let expression: String
        public let reason: String
        public var description: String { "bad hostlist '\(expression)': \(reason)" }
    }

    /// Expands an expression into host names, in order, without duplicates removed.
    public static func expand(_ expression: String) throws -> [String] {
        var hosts: [String] = []
        for item in try splitTopLevel(expression) where !item.isEmpty {
            hosts += try expandItem(Substring(item), expression, budget: maxHosts - hosts.count)
        }
        return hosts
    }

    /// Compresses names into the shortest usual form: runs of a common prefix with numeric
    /// suffixes of equal width become ranges. Order of first appearance is kept per prefix.
    public static func compress(_ hosts: [String]) -> String {
        var groups: [(key: String, width: Int, numbers: [Int])] = []
        var plain: [(Int, String)] = []
        var order: [String: Int] = [:]
        for (position, host) in hosts.enumerated() {
            let digits = host.reversed().prefix { $0.isASCII && $0.isNumber }.count
            guard digits > 0, let number = Int(host.suffix(digits)) else {
                plain.append((position, host))
                continue
            }
            let prefix = String(host.dropLast(digits))
            let key = "\(prefix)\u{0}\(digits)"
            if let g = order[key] {
                groups[g].numbers.append(number)
            } else {
                order[key] = groups.count
                groups.append((key, digits, [number]))
            }
        }
        var parts: [String] = plain.map(\.1)
        for group in groups {
            let prefix = String(group.key.split(separator: "\u{0}", omittingEmptySubsequences: false)[0])
            let numbers = Array(Set(group.numbers)).sorted()
            func pad(_ n: Int) -> String {
                let s = String(n)
                return String(repeating: "0", count: max(0, group.width - s.count)) + s
            }
            if numbers.count == 1 {
                parts.append(prefix + pad(numbers[0]))
                continue
            }
            var ranges: [String] = []
            var i = 0
            while i < numbers.count {
                var j = i
                while j + 1 < numbers.count && numbers[j + 1] == numbers[j] + 1 { j += 1 }
                ranges.append(i == j ? pad(numbers[i]) : "\(pad(numbers[i]))-\(pad(numbers[j]))")
                i = j + 1
            }
            parts.append("\(prefix)[\(ranges.joined(separator: ","))]")
        }
        return parts.joined(separator: ",")
    }

    // MARK: - Expansion

    /// Splits on commas that are not inside brackets.
    private static func splitTopLevel(_ s: String) throws -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        for c in s {
            switch c {
            case "[": depth += 1
            case "]":
                depth -= 1
                if depth < 0 { throw Error(expression: s, reason: "']' without '['") }
            case "," where depth == 0:
                items.append(current)
                current = ""
                continue
            case " ", "\t", "\n":
                throw Error(expression: s, reason: "white space is not allowed")
            default: break
            }
            current.append(c)
        }
        if depth != 0 { throw Error(expression: s, reason: "'[' without ']'") }
        items.append(current)
        return items
    }

    /// One item: text with zero or more bracket groups; the product of all groups, at most
    /// `budget` names (expanded group by group, without recursion: an item may hold any number
    /// of groups).
    private static func expandItem(_ item: Substring, _ whole: String, budget: Int) throws -> [String] {
        var result = [""]
        var rest = item
        while let open = rest.firstIndex(of: "[") {
            guard let close = rest[open...].firstIndex(of: "]") else { throw Error(expression: whole, reason: "'[' without ']'") }
            let prefix = rest[..<open]
            let values = try expandRanges(rest[rest.index(after: open)..<close], whole)
            let (count, overflow) = result.count.multipliedReportingOverflow(by: values.count)
            guard !overflow, count <= budget else { throw Error(expression: whole, reason: "more than \(maxHosts) hosts") }
            // And their text within 64 MiB (each name is at most as long as the item).
            let (bytes, tooMany) = count.multipliedReportingOverflow(by: item.utf8.count)
            guard !tooMany, bytes <= maxBytes else {
                throw Error(expression: whole, reason: "the names would take more than \(maxBytes >> 20) MiB")
            }
            result = result.flatMap { head in values.map { head + prefix + $0 } }
            rest = rest[rest.index(after: close)...]
        }
        return rest.isEmpty ? result : result.map { $0 + rest }
    }

    private static let maxHosts = 1_000_000
    private static let maxBytes = 64 << 20

    private static func expandRanges(_ body: Substring, _ whole: String) throws -> [String] {
        guard !body.isEmpty else { throw Error(expression: whole, reason: "empty brackets") }
        var values: [String] = []
        for part in body.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]) else {
                throw Error(expression: whole, reason: "'\(part)' is not a number or a range like 01-16")
            }
            guard low <= high else { throw Error(expression: whole, reason: "range '\(part)' runs backwards") }
            guard high - low < maxHosts, values.count + (high - low) < maxHosts else {
                throw Error(expression: whole, reason: "more than \(maxHosts) hosts")
            }
            let width = bounds[0].count
            for n in low...high {
                let s = String(n)
                values.append(String(repeating: "0", count: max(0, width - s.count)) + s)
            }
        }
        return values
    }

    /// Sorted integers as ranges, the way hostlists write their numbers: `[1,2,3,5,7,8]` →
    /// `1-3,5,7-8` (array tasks, core lists).
    public static func ranges(_ indexes: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < indexes.count {
            var j = i
            while j + 1 < indexes.count && indexes[j + 1] == indexes[j] + 1 { j += 1 }
            parts.append(i == j ? "\(indexes[i])" : "\(indexes[i])-\(indexes[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
