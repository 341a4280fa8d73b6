/// A TOML 1.0 reader for the configuration file (`/etc/chess/chess.toml`).
///
/// Written here rather than taken from a package: the configuration needs the line of every key
/// for its error messages ("line 12: partitions[1].max_time: …"), and the whole format is a few
/// hundred lines. Dates and times are kept as their text; nothing in the configuration uses them.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    /// Offset/local date-times, dates and times, as written.
    case datetime(String)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML type name, for error messages.
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .datetime: return "date-time"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

/// A table that remembers its key order and the line each key was defined on.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]
    /// 1-based line of each key's definition.
    public private(set) var lines: [String: Int] = [:]
    /// Line of the `[header]` that opened this table (0 for the root and inline tables' parent).
    public var headerLine: Int = 0
    /// Defined by a `[header]` (may not be defined twice) rather than implicitly by a dotted key.
    var explicitlyDefined = false
    /// Inline tables are closed: later headers and dotted keys may not add to them.
    var sealed = false
    /// Created by dotted keys (`a.b = 1`): a later `[a]` header may not define it again.
    var definedByDottedKeys = false
    /// Keys whose array was made by `[[header]]` lines (and so may grow by more of them).
    var arrayTableKeys: Set<String> = []

    public init() {}

    public subscript(key: String) -> TOMLValue? { values[key] }

    mutating func set(_ key: String, _ value: TOMLValue, line: Int) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
        lines[key] = line
    }
}

public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "line \(line), column \(column): \(message)" }
}

public enum TOMLParser {
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

private struct Parser {
    let bytes: [UInt8]
    var pos = 0
    var line = 1
    var lineStart = 0
    /// Arrays and inline tables open around the current value (bounded: the parser recurses).
    var depth = 0

    mutating func enter() throws(TOMLError) {
        depth += 1
        guard depth <= InputLimits.jsonDepth else { throw error("arrays and inline tables nest deeper than \(InputLimits.jsonDepth) levels") }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // A UTF-8 byte order mark is allowed.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3; lineStart = 3 }
    }

    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }
    func peek(_ offset: Int) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    func error(_ message: String) -> TOMLError {
        TOMLError(line: line, column: pos - lineStart + 1, message: message)
    }

    mutating func advance() {
        if bytes[pos] == UInt8(ascii: "\n") {
            line += 1
            lineStart = pos + 1
        }
        pos += 1
    }

    mutating func skipSpaces() {
        while let c = peek, c == 0x20 || c == 0x09 { pos += 1 }
    }

    mutating func skipComment() throws(TOMLError) {
        guard peek == UInt8(ascii: "#") else { return }
        while let c = peek, c != UInt8(ascii: "\n") {
            if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { break }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character in comment") }
            pos += 1
        }
    }

    /// After a key/value pair or a header: spaces, a comment, then the end of the line.
    mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        try skipComment()
        guard let c = peek else { return }
        if c == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { pos += 1 }
        guard peek == UInt8(ascii: "\n") else { throw error("expected the end of the line, found \(describe(peek))") }
        advance()
    }

    /// Whitespace, newlines and comments (inside arrays).
    mutating func skipBlank() throws(TOMLError) {
        while let c = peek {
            if c == 0x20 || c == 0x09 || c == 0x0A { advance() } else if c == 0x0D, peek(1) == 0x0A { pos += 1 } else if c == UInt8(ascii: "#") {
                try skipComment()
            } else {
                return
            }
        }
    }

    func describe(_ c: UInt8?) -> String {
        guard let c else { return "the end of the file" }
        if c == 0x0A { return "a line break" }
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    // MARK: Document structure

    mutating func document() throws(TOMLError) -> TOMLTable {
        var root = TOMLTable()
        /// The path of the table that key/value lines currently go to (through arrays of tables,
        /// their last element).
        var current: [String] = []
        while true {
            try skipBlank()
            guard let c = peek else { break }
            if c == UInt8(ascii: "[") {
                let headerLine = line
                pos += 1
                let isArray = peek == UInt8(ascii: "[")
                if isArray { pos += 1 }
                skipSpaces()
                let path = try key()
                skipSpaces()
                guard peek == UInt8(ascii: "]") else { throw error("expected ']' to close the table header") }
                pos += 1
                if isArray {
                    guard peek == UInt8(ascii: "]") else { throw error("expected ']]' to close the array of tables header") }
                    pos += 1
                }
                try endOfLine()
                if isArray {
                    try appendArrayTable(&root, path: path, line: headerLine)
                } else {
                    try defineTable(&root, path: path, line: headerLine)
                }
                current = path
            } else {
                let keyLine = line
                let keyColumn = pos - lineStart + 1
                let path = try key()
                skipSpaces()
                guard peek == UInt8(ascii: "=") else { throw error("expected '=' after the key '\(path.joined(separator: "."))'") }
                pos += 1
                skipSpaces()
                let v = try value()
                try endOfLine()
                try insert(into: &root, tablePath: current, keyPath: path, value: v, line: keyLine, column: keyColumn)
            }
        }
        return root
    }

    /// Runs `body` on the table at `path` (descending into the last element of arrays of tables),
    /// creating implicit tables on the way.
    func withTable(_ table: inout TOMLTable, _ path: ArraySlice<String>, line: Int, allowSealed: Bool,
                   _ body: (inout TOMLTable) throws(TOMLError) -> Void) throws(TOMLError) {
        guard let first = path.first else { return try body(&table) }
        switch table[first] {
        case nil:
            var sub = TOMLTable()
            sub.headerLine = line
            try withTable(&sub, path.dropFirst(), line: line, allowSealed: allowSealed, body)
            table.set(first, .table(sub), line: line)
        case .table(var sub):
            if sub.sealed && !allowSealed {
                throw TOMLError(line: line, column: 1, message: "'\(first)' is an inline table and cannot be extended")
            }
            try withTable(&sub, path.dropFirst(), line: line, allowSealed: allowSealed, body)
            table.set(first, .table(sub), line: table.lines[first] ?? line)
        case .array(var items) where isArrayOfTables(items, in: table, key: first):
            guard case .table(var last) = items[items.count - 1] else { fatalError("checked above") }
            try withTable(&last, path.dropFirst(), line: line, allowSealed: allowSealed, body)
            items[items.count - 1] = .table(last)
            table.set(first, .array(items), line: table.lines[first] ?? line)
        case let other?:
            throw TOMLError(line: line, column: 1,
                            message: "'\(first)' is already defined as \(other.typeName) on line \(table.lines[first] ?? 0)")
        }
    }

    /// Arrays made by `[[header]]` are extendable; static arrays (`key = [...]`) are not.
    func isArrayOfTables(_ items: [TOMLValue], in table: TOMLTable, key: String) -> Bool {
        table.arrayTableKeys.contains(key) && !items.isEmpty
    }

    mutating func defineTable(_ root: inout TOMLTable, path: [String], line: Int) throws(TOMLError) {
        try withTable(&root, path.dropLast(), line: line, allowSealed: false) { (parent: inout TOMLTable) throws(TOMLError) in
            let name = path[path.count - 1]
            switch parent[name] {
            case nil:
                var t = TOMLTable()
                t.headerLine = line
                t.explicitlyDefined = true
                parent.set(name, .table(t), line: line)
            case .table(var t):
                if t.explicitlyDefined || t.sealed {
                    throw TOMLError(line: line, column: 1,
                                    message: "table [\(path.joined(separator: "."))] is defined twice (first on line \(t.headerLine))")
                }
                if t.definedByDottedKeys {
                    throw TOMLError(line: line, column: 1,
                                    message: "table [\(path.joined(separator: "."))] was already defined by dotted keys")
                }
                t.explicitlyDefined = true
                t.headerLine = line
                parent.set(name, .table(t), line: parent.lines[name] ?? line)
            case let other?:
                throw TOMLError(line: line, column: 1,
                                message: "'\(path.joined(separator: "."))' is already defined as \(other.typeName) on line \(parent.lines[name] ?? 0)")
            }
        }
    }

    mutating func appendArrayTable(_ root: inout TOMLTable, path: [String], line: Int) throws(TOMLError) {
        try withTable(&root, path.dropLast(), line: line, allowSealed: false) { (parent: inout TOMLTable) throws(TOMLError) in
            let name = path[path.count - 1]
            var t = TOMLTable()
            t.headerLine = line
            t.explicitlyDefined = true
            switch parent[name] {
            case nil:
                parent.arrayTableKeys.insert(name)
                parent.set(name, .array([.table(t)]), line: line)
            case .array(var items) where parent.arrayTableKeys.contains(name):
                items.append(.table(t))
                parent.set(name, .array(items), line: parent.lines[name] ?? line)
            case let other?:
                throw TOMLError(line: line, column: 1,
                                message: "'\(path.joined(separator: "."))' is already defined as \(other.typeName) on line \(parent.lines[name] ?? 0)")
            }
        }
    }

    mutating func insert(into root: inout TOMLTable, tablePath: [String], keyPath: [String], value: TOMLValue,
                         line: Int, column: Int) throws(TOMLError) {
        try withTable(&root, tablePath[...], line: line, allowSealed: false) { (table: inout TOMLTable) throws(TOMLError) in
            try Parser.assign(&table, keyPath[...], value, line: line, column: column)
        }
    }

    /// Sets a (possibly dotted) key inside `table`; dotted keys create or extend implicit tables.
    static func assign(_ table: inout TOMLTable, _ keyPath: ArraySlice<String>, _ value: TOMLValue,
                       line: Int, column: Int) throws(TOMLError) {
        let first = keyPath.first!
        if keyPath.count == 1 {
            if let existing = table[first] {
                throw TOMLError(line: line, column: column,
                                message: "'\(first)' is defined twice (first on line \(table.lines[first] ?? 0), as \(existing.typeName))")
            }
            table.set(first, value, line: line)
            return
        }
        var sub: TOMLTable
        switch table[first] {
        case nil:
            sub = TOMLTable()
            sub.definedByDottedKeys = true
        case .table(let t) where !t.sealed && !t.explicitlyDefined && t.definedByDottedKeys:
            sub = t
        case let other?:
            throw TOMLError(line: line, column: column,
                            message: "'\(first)' is already defined as \(other.typeName) on line \(table.lines[first] ?? 0)")
        }
        try assign(&sub, keyPath.dropFirst(), value, line: line, column: column)
        table.set(first, .table(sub), line: table.lines[first] ?? line)
    }

    // MARK: Keys

    mutating func key() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            parts.append(try simpleKey())
            skipSpaces()
            guard peek == UInt8(ascii: ".") else { return parts }
            pos += 1
        }
    }

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    mutating func simpleKey() throws(TOMLError) -> String {
        switch peek {
        case UInt8(ascii: "\""):
            return try basicString()
        case UInt8(ascii: "'"):
            return try literalString()
        case let c? where Parser.isBareKeyByte(c):
            let start = pos
            while let c = peek, Parser.isBareKeyByte(c) { pos += 1 }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        default:
            throw error("expected a key, found \(describe(peek))")
        }
    }

    // MARK: Values

    mutating func value() throws(TOMLError) -> TOMLValue {
        guard let c = peek else { throw error("expected a value, found the end of the file") }
        switch c {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { return .string(try multilineBasicString()) }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { return .string(try multilineLiteralString()) }
            return .string(try literalString())
        case UInt8(ascii: "["):
            return try array()
        case UInt8(ascii: "{"):
            return try inlineTable()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if matches("true") { pos += 4; return .bool(true) }
            if matches("false") { pos += 5; return .bool(false) }
            throw error("expected a value, found \(describe(c)) (strings need quotes)")
        default:
            return try numberOrDate()
        }
    }

    func matches(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { return false }
        if let next = peek(w.count), Parser.isBareKeyByte(next) { return false }
        return true
    }

    mutating func array() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlank()
            if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
            items.append(try value())
            try skipBlank()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return .array(items)
            default: throw error("expected ',' or ']' in the array, found \(describe(peek))")
            }
        }
    }

    mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var table = TOMLTable()
        skipSpaces()
        if peek == UInt8(ascii: "}") {
            pos += 1
            table.sealed = true
            return .table(table)
        }
        while true {
            skipSpaces()
            let keyLine = line
            let column = pos - lineStart + 1
            let path = try key()
            skipSpaces()
            guard peek == UInt8(ascii: "=") else { throw error("expected '=' in the inline table") }
            pos += 1
            skipSpaces()
            let v = try value()
            try Parser.assign(&table, path[...], v, line: keyLine, column: column)
            skipSpaces()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                table.sealed = true
                return .table(table)
            default: throw error("expected ',' or '}' in the inline table, found \(describe(peek))")
            }
        }
    }

    // MARK: Strings

    mutating func basicString() throws(TOMLError) -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c == 0x0A || c == 0x0D { throw error("line break inside a single-line string") }
            if c == UInt8(ascii: "\\") {
                try escape(into: &out)
                continue
            }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character in a string") }
            out.append(c)
            pos += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        pos += 1
        guard let e = peek else { throw error("unterminated escape") }
        pos += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "e"): out.append(0x1B)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = e == UInt8(ascii: "u") ? 4 : 8
            guard pos + n <= bytes.count,
                  let code = UInt32(String(decoding: bytes[pos..<pos + n], as: UTF8.self), radix: 16),
                  let scalar = Unicode.Scalar(code) else {
                throw error("invalid unicode escape")
            }
            pos += n
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            pos -= 1
            throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
        }
    }

    mutating func literalString() throws(TOMLError) -> String {
        pos += 1
        let start = pos
        while true {
            guard let c = peek else { throw error("unterminated string") }
            if c == UInt8(ascii: "'") { break }
            if c == 0x0A || c == 0x0D { throw error("line break inside a single-line string") }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw error("control character in a string") }
            pos += 1
        }
        let s = String(decoding: bytes[start..<pos], as: UTF8.self)
        pos += 1
        return s
    }

    /// Skips the line break that may follow an opening `"""` or `'''`.
    mutating func skipFirstNewline() {
        if peek == 0x0D, peek(1) == 0x0A { pos += 1 }
        if peek == 0x0A { advance() }
    }

    mutating func multilineBasicString() throws(TOMLError) -> String {
        pos += 3
        skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated multi-line string") }
            if c == UInt8(ascii: "\""), peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                pos += 3
                // Up to two more quotes belong to the string.
                var extra = 0
                while peek == UInt8(ascii: "\""), extra < 2 { out.append(0x22); pos += 1; extra += 1 }
                break
            }
            if c == UInt8(ascii: "\\") {
                // A line-ending backslash trims the break and the following whitespace.
                var look = pos + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look < bytes.count, bytes[look] == 0x0A || bytes[look] == 0x0D {
                    pos = look
                    while let w = peek, w == 0x20 || w == 0x09 || w == 0x0A || w == 0x0D { advance() }
                    continue
                }
                try escape(into: &out)
                continue
            }
            if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || c == 0x7F {
                throw error("control character in a string")
            }
            out.append(c)
            advance()
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func multilineLiteralString() throws(TOMLError) -> String {
        pos += 3
        skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw error("unterminated multi-line string") }
            if c == UInt8(ascii: "'"), peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                pos += 3
                var extra = 0
                while peek == UInt8(ascii: "'"), extra < 2 { out.append(0x27); pos += 1; extra += 1 }
                break
            }
            if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) || c == 0x7F {
                throw error("control character in a string")
            }
            out.append(c)
            advance()
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Numbers and dates

    mutating func numberOrDate() throws(TOMLError) -> TOMLValue {
        let start = pos
        let startColumn = pos - lineStart + 1
        // A token runs to whitespace, ',', ']', '}', '#' or the end of the line; a date-time may
        // contain one space between its date and time.
        while let c = peek, !(c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ",")
                              || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") || c == UInt8(ascii: "#")) {
            pos += 1
        }
        var token = String(decoding: bytes[start..<pos], as: UTF8.self)
        if Parser.looksLikeDate(token), peek == 0x20, let d = peek(1), d >= 0x30 && d <= 0x39 {
            pos += 1
            let timeStart = pos
            while let c = peek, !(c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ",")
                                  || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") || c == UInt8(ascii: "#")) {
                pos += 1
            }
            token += " " + String(decoding: bytes[timeStart..<pos], as: UTF8.self)
        }
        if token.isEmpty { throw error("expected a value, found \(describe(peek))") }
        if let v = Parser.number(token) { return v }
        if Parser.looksLikeDate(token) || Parser.looksLikeTime(token) { return .datetime(token) }
        throw TOMLError(line: line, column: startColumn,
                        message: "'\(token)' is not a valid value (strings need quotes)")
    }

    static func looksLikeDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 10 else { return false }
        let digits = [0, 1, 2, 3, 5, 6, 8, 9]
        return digits.allSatisfy { b[$0] >= 0x30 && b[$0] <= 0x39 } && b[4] == 0x2D && b[7] == 0x2D
    }

    static func looksLikeTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 8 else { return false }
        return b[2] == 0x3A && b[5] == 0x3A && [0, 1, 3, 4, 6, 7].allSatisfy { b[$0] >= 0x30 && b[$0] <= 0x39 }
    }

    static func number(_ token: String) -> TOMLValue? {
        switch token {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        // Underscores must sit between digits.
        let b = Array(token.utf8)
        for (i, c) in b.enumerated() where c == UInt8(ascii: "_") {
            guard i > 0, i < b.count - 1, isHexDigit(b[i - 1]), isHexDigit(b[i + 1]) else { return nil }
        }
        let clean = token.replacingUnderscores()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where clean.hasPrefix(prefix) {
            guard let v = Int(clean.dropFirst(2), radix: radix), !clean.dropFirst(2).hasPrefix("+"),
                  !clean.dropFirst(2).hasPrefix("-") else { return nil }
            return .integer(v)
        }
        let unsigned = clean.hasPrefix("+") || clean.hasPrefix("-") ? clean.dropFirst() : Substring(clean)
        guard let first = unsigned.first, first.isASCII, first.isNumber else { return nil }
        // No leading zeros on integers or the integer part of floats.
        let intPart = unsigned.prefix { $0.isNumber }
        if intPart.count > 1 && intPart.hasPrefix("0") { return nil }
        if unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = Int(clean) else { return nil }
            return .integer(v)
        }
        // Floats: digits, then a fraction with digits and/or an exponent.
        let chars = Array(unsigned)
        var i = intPart.count
        if i < chars.count, chars[i] == "." {
            i += 1
            let fracStart = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if i == fracStart { return nil }
        }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            i += 1
            if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
            let expStart = i
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            if i == expStart { return nil }
        }
        guard i == chars.count, let d = Double(clean) else { return nil }
        return .float(d)
    }

    static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}

private extension String {
    func replacingUnderscores() -> String { String(self.filter { $0 != "_" }) }
}
