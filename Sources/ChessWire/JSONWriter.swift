/// A small JSON writer for the requests on hot paths (`chessctl submit`): the generic
/// `JSONEncoder` instantiates type metadata on first use, which costs a short-lived process more
/// than the whole request. Output is compact with keys in the order written.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init() { bytes.reserveCapacity(1024) }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    private mutating func separator() {
        guard let last = needsComma.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func key(_ k: String) {
        separator()
        string(k)
        bytes.append(UInt8(ascii: ":"))
        // The value that follows must not write another separator.
        needsComma.append(false)
    }

    private mutating func endValue() { needsComma.removeLast() }

    /// Starts `"k": [` whose elements are objects written with `beginObject`/`endObject`.
    public mutating func beginArrayField(_ k: String) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        needsComma[needsComma.count - 1] = false
    }

    public mutating func endArrayField() {
        bytes.append(UInt8(ascii: "]"))
        endValue()
    }

    /// Starts `"k": {` whose members are written with the `field` calls, up to `endObjectField`.
    public mutating func beginObjectField(_ k: String) {
        key(k)
        bytes.append(UInt8(ascii: "{"))
        needsComma[needsComma.count - 1] = false
    }

    public mutating func endObjectField() {
        bytes.append(UInt8(ascii: "}"))
        endValue()
    }

    /// `"k": <json>`, where `json` is one complete JSON value written elsewhere.
    public mutating func rawField(_ k: String, _ json: [UInt8]) {
        key(k)
        bytes.append(contentsOf: json)
        endValue()
    }

    public mutating func field(_ k: String, _ v: String?) {
        guard let v else { return }
        key(k)
        string(v)
        endValue()
    }

    public mutating func field(_ k: String, _ v: Int?) {
        guard let v else { return }
        key(k)
        bytes.append(contentsOf: String(v).utf8)
        endValue()
    }

    public mutating func field(_ k: String, _ v: Bool?) {
        guard let v else { return }
        key(k)
        bytes.append(contentsOf: (v ? "true" : "false").utf8)
        endValue()
    }

    public mutating func field(_ k: String, _ v: [String: String]?) {
        guard let v else { return }
        key(k)
        Self.appendObject(v, to: &bytes)
        endValue()
    }

    public mutating func field(_ k: String, _ v: [String]?) {
        guard let v else { return }
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, item) in v.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(item)
        }
        bytes.append(UInt8(ascii: "]"))
        endValue()
    }

    /// `dictionary` as one JSON object, keys sorted (a job's environment as the store keeps it).
    public static func object(_ dictionary: [String: String]) -> [UInt8] {
        var bytes: [UInt8] = []
        appendObject(dictionary, to: &bytes)
        return bytes
    }

    private static func appendObject(_ dictionary: [String: String], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (name, value) in dictionary.sorted(by: { $0.key < $1.key }) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            appendString(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendString(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func string(_ s: String) { Self.appendString(s, to: &bytes) }

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest
    /// copied as UTF-8 (what JSONEncoder writes with `.withoutEscapingSlashes`).
    public static func appendString(_ s: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copy them whole.
        let utf8 = s.utf8
        if utf8.withContiguousStorageIfAvailable({ buffer in
            !buffer.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }) == true {
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
