/// A pull parser over JSON bytes, for the large answers on hot paths (`queue` with tens of
/// thousands of jobs): it decodes straight into the wire types, without the generic decoder's
/// containers and dictionaries. Anything unexpected throws; unknown keys are skipped.
public struct JSONScanner {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        /// A document without a key its type requires.
        public static func missing(_ key: String) -> Failure { Failure(description: "invalid JSON: no \"\(key)\"") }
    }

    let bytes: [UInt8]
    var pos = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
    }

    func fail(_ what: String) -> Failure { Failure(description: "invalid JSON at byte \(pos): \(what)") }

    mutating func expect(_ c: UInt8) throws {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        pos += 1
    }

    public mutating func beginObject() throws { try expect(UInt8(ascii: "{")) }

    /// The next key of the current object, or nil at its end. Call after `beginObject` and after
    /// reading each value.
    public mutating func nextKey() throws -> String? {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unterminated object") }
        if bytes[pos] == UInt8(ascii: "}") { pos += 1; return nil }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace() }
        let key = try string()
        try expect(UInt8(ascii: ":"))
        return key
    }

    public mutating func beginArray() throws { try expect(UInt8(ascii: "[")) }

    /// True while the current array has another element.
    public mutating func nextElement() throws -> Bool {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("unterminated array") }
        if bytes[pos] == UInt8(ascii: "]") { pos += 1; return false }
        if bytes[pos] == UInt8(ascii: ",") { pos += 1 }
        return true
    }

    /// Consumes a `null` if one is next.
    public mutating func null() -> Bool {
        skipWhitespace()
        if pos + 4 <= bytes.count, bytes[pos] == UInt8(ascii: "n") { pos += 4; return true }
        return false
    }

    public mutating func string() throws -> String {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        pos += 1
        let start = pos
        var escaped = false
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\"") {
            if bytes[pos] == UInt8(ascii: "\\") { escaped = true; pos += 1 }
            pos += 1
        }
        guard pos < bytes.count else { throw fail("unterminated string") }
        let raw = bytes[start..<pos]
        pos += 1
        return escaped ? try unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    func unescape(_ raw: ArraySlice<UInt8>) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let c = raw[i]
            guard c == UInt8(ascii: "\\"), i + 1 < raw.endIndex else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= raw.endIndex, var code = UInt32(String(decoding: raw[i..<i + 4], as: UTF8.self), radix: 16) else {
                    throw fail("bad \\u escape")
                }
                i += 4
                // A surrogate pair; a lone surrogate (or a high one followed by anything but a
                // low one) becomes U+FFFD, as in the decoders of most languages.
                if code >= 0xD800 && code < 0xDC00, i + 6 <= raw.endIndex, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u"),
                   let low = UInt32(String(decoding: raw[i + 2..<i + 6], as: UTF8.self), radix: 16), low >= 0xDC00 && low < 0xE000 {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public mutating func int() throws -> Int {
        skipWhitespace()
        var negative = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        var v = 0
        let start = pos
        while pos < bytes.count, bytes[pos] >= 0x30 && bytes[pos] <= 0x39 {
            let (times, o1) = v.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(bytes[pos] - 0x30))
            guard !o1 && !o2 else { throw fail("number out of range") }
            v = sum
            pos += 1
        }
        guard pos > start else { throw fail("expected a number") }
        return negative ? -v : v
    }

    /// A number that must fit a `UInt32` (a uid or gid).
    public mutating func uint32() throws -> UInt32 {
        guard let v = UInt32(exactly: try int()) else { throw fail("number out of range") }
        return v
    }

    public mutating func intArray() throws -> [Int] {
        var values: [Int] = []
        try beginArray()
        while try nextElement() { values.append(try int()) }
        return values
    }

    public mutating func uint32Array() throws -> [UInt32] {
        var values: [UInt32] = []
        try beginArray()
        while try nextElement() { values.append(try uint32()) }
        return values
    }

    public mutating func stringArray() throws -> [String] {
        var values: [String] = []
        try beginArray()
        while try nextElement() { values.append(try string()) }
        return values
    }

    public mutating func stringDictionary() throws -> [String: String] {
        var values: [String: String] = [:]
        try beginObject()
        while let k = try nextKey() { values[k] = try string() }
        return values
    }

    /// Throws unless only whitespace is left (a document is one value).
    public mutating func end() throws {
        skipWhitespace()
        guard pos == bytes.count else { throw fail("trailing bytes") }
    }

    public mutating func bool() throws -> Bool {
        skipWhitespace()
        if pos + 4 <= bytes.count, bytes[pos] == UInt8(ascii: "t") { pos += 4; return true }
        if pos + 5 <= bytes.count, bytes[pos] == UInt8(ascii: "f") { pos += 5; return false }
        throw fail("expected true or false")
    }

    public mutating func optionalString() throws -> String? { null() ? nil : try string() }
    public mutating func optionalInt() throws -> Int? { null() ? nil : try int() }

    /// Skips whatever value comes next (nested at most `InputLimits.jsonDepth` deep).
    public mutating func skipValue(depth: Int = 0) throws {
        skipWhitespace()
        guard pos < bytes.count else { throw fail("expected a value") }
        guard depth < InputLimits.jsonDepth else { throw fail("nested deeper than \(InputLimits.jsonDepth) levels") }
        switch bytes[pos] {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"):
            try beginObject()
            while try nextKey() != nil { try skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try beginArray()
            while try nextElement() { try skipValue(depth: depth + 1) }
        default:
            let start = pos
            while pos < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) {
                pos += 1
            }
            // A delimiter where a value belongs (`[}`): refused, or the caller's loop would not move.
            guard pos > start else { throw fail("expected a value") }
        }
    }
}
