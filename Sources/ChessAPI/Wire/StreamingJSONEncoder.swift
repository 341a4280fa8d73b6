/// A JSON `Encoder` that writes straight into one byte buffer as values encode themselves: no
/// tree of intermediate values, no boxing.
///
/// Why: the controller stores a job's record as JSON with every change of its state, and
/// Foundation's `JSONEncoder` spent tens of microseconds on each (a marketplace job's terms and
/// settlement most of all). This writes the same JSON — keys in the order the type encodes
/// them, UTF-8 as is, `/` unescaped — for types that encode each container in one go, in order,
/// as synthesized `Codable` does. `Data`, `Date` and `URL` get no special forms: use it for
/// value types without them (the store's records), not as a general replacement.
public struct StreamingJSONEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONStreamWriter()
        try writer.encodeValue(value)
        writer.close(downTo: 0)
        return writer.out
    }
}

/// An encoder that takes a value's JSON as finished bytes. A value that never changes but is
/// stored again with every change around it (a marketplace job's funding terms, in each save of
/// its record) encodes once and hands its bytes over from then on; under other encoders it
/// encodes itself as usual.
public protocol PreEncodedJSONSink: Encoder {
    /// Writes `json`, one complete JSON value, as the value being encoded.
    func appendPreEncoded(_ json: [UInt8])
}

final class JSONStreamWriter {
    var out: [UInt8] = []
    /// Open containers, innermost last: an object or an array, and whether it has an element yet.
    private var open: [(object: Bool, hasElement: Bool)] = []

    init() { out.reserveCapacity(1024) }

    var depth: Int { open.count }

    /// Opens an object or array; returns its depth (what its container writes at).
    func begin(object: Bool) -> Int {
        out.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        open.append((object, false))
        return open.count
    }

    /// Closes every container deeper than `depth`.
    func close(downTo depth: Int) {
        while open.count > depth {
            out.append(open.removeLast().object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// Before the next element of the container at `depth`: what was opened inside the previous
    /// element is closed, and a comma separates.
    func element(at depth: Int) {
        precondition(depth <= open.count, "StreamingJSONEncoder: a container was written to after a later sibling (encode containers in order)")
        close(downTo: depth)
        if open[depth - 1].hasElement { out.append(UInt8(ascii: ",")) } else { open[depth - 1].hasElement = true }
    }

    func key(_ key: some CodingKey, at depth: Int) {
        element(at: depth)
        string(key.stringValue)
        out.append(UInt8(ascii: ":"))
    }

    func encodeValue<T: Encodable>(_ value: T) throws {
        let start = open.count
        try value.encode(to: StreamEncoder(writer: self))
        close(downTo: start)
    }

    func null() { out.append(contentsOf: "null".utf8) }

    func bool(_ b: Bool) { out.append(contentsOf: b ? "true".utf8 : "false".utf8) }

    func integer<I: FixedWidthInteger>(_ n: I) {
        if let small = Int(exactly: n) {
            SlurmTime.appendDecimal(small, to: &out)
        } else {
            out.append(contentsOf: String(n).utf8)
        }
    }

    func floating<F: BinaryFloatingPoint & LosslessStringConvertible>(_ x: F) throws {
        guard x.isFinite else {
            throw EncodingError.invalidValue(x, .init(codingPath: [], debugDescription: "\(x) is not a JSON number"))
        }
        out.append(contentsOf: x.description.utf8)
    }

    func string(_ s: String) { JSONWriter.appendString(s, to: &out) }
}

private struct StreamEncoder: PreEncodedJSONSink {
    let writer: JSONStreamWriter
    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func appendPreEncoded(_ json: [UInt8]) { writer.out.append(contentsOf: json) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamKeyedContainer<Key>(writer: writer, depth: writer.begin(object: true)))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        StreamUnkeyedContainer(writer: writer, depth: writer.begin(object: false))
    }

    func singleValueContainer() -> SingleValueEncodingContainer { StreamSingleValueContainer(writer: writer) }
}

private struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let depth: Int
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws { writer.key(key, at: depth); writer.null() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { writer.key(key, at: depth); writer.bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { writer.key(key, at: depth); writer.string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { writer.key(key, at: depth); try writer.floating(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { writer.key(key, at: depth); try writer.floating(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { writer.key(key, at: depth); writer.integer(value) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.key(key, at: depth)
        try writer.encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        writer.key(key, at: depth)
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(writer: writer, depth: writer.begin(object: true)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        writer.key(key, at: depth)
        return StreamUnkeyedContainer(writer: writer, depth: writer.begin(object: false))
    }

    mutating func superEncoder() -> Encoder {
        writer.element(at: depth)
        writer.string("super")
        writer.out.append(UInt8(ascii: ":"))
        return StreamEncoder(writer: writer)
    }

    mutating func superEncoder(forKey key: Key) -> Encoder {
        writer.key(key, at: depth)
        return StreamEncoder(writer: writer)
    }
}

private struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONStreamWriter
    let depth: Int
    var codingPath: [CodingKey] { [] }
    private(set) var count = 0

    init(writer: JSONStreamWriter, depth: Int) {
        self.writer = writer
        self.depth = depth
    }

    private mutating func next() {
        writer.element(at: depth)
        count += 1
    }

    mutating func encodeNil() throws { next(); writer.null() }
    mutating func encode(_ value: Bool) throws { next(); writer.bool(value) }
    mutating func encode(_ value: String) throws { next(); writer.string(value) }
    mutating func encode(_ value: Double) throws { next(); try writer.floating(value) }
    mutating func encode(_ value: Float) throws { next(); try writer.floating(value) }
    mutating func encode(_ value: Int) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int8) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int16) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int32) throws { next(); writer.integer(value) }
    mutating func encode(_ value: Int64) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt8) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt16) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt32) throws { next(); writer.integer(value) }
    mutating func encode(_ value: UInt64) throws { next(); writer.integer(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        next()
        try writer.encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next()
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(writer: writer, depth: writer.begin(object: true)))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        next()
        return StreamUnkeyedContainer(writer: writer, depth: writer.begin(object: false))
    }

    mutating func superEncoder() -> Encoder {
        next()
        return StreamEncoder(writer: writer)
    }
}

private struct StreamSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil() throws { writer.null() }
    mutating func encode(_ value: Bool) throws { writer.bool(value) }
    mutating func encode(_ value: String) throws { writer.string(value) }
    mutating func encode(_ value: Double) throws { try writer.floating(value) }
    mutating func encode(_ value: Float) throws { try writer.floating(value) }
    mutating func encode(_ value: Int) throws { writer.integer(value) }
    mutating func encode(_ value: Int8) throws { writer.integer(value) }
    mutating func encode(_ value: Int16) throws { writer.integer(value) }
    mutating func encode(_ value: Int32) throws { writer.integer(value) }
    mutating func encode(_ value: Int64) throws { writer.integer(value) }
    mutating func encode(_ value: UInt) throws { writer.integer(value) }
    mutating func encode(_ value: UInt8) throws { writer.integer(value) }
    mutating func encode(_ value: UInt16) throws { writer.integer(value) }
    mutating func encode(_ value: UInt32) throws { writer.integer(value) }
    mutating func encode(_ value: UInt64) throws { writer.integer(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.encodeValue(value) }
}
