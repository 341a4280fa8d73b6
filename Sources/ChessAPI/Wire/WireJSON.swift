import Foundation

/// The JSON settings every CHESS endpoint and client share: sorted keys (stable output for
/// diffs and tests), snake_case spelled out in each type's coding keys.
public enum WireJSON {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Every wire type encodes; a failure here is a programming error caught by the tests.
        return try! encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    /// A decoding failure in words a client can act on ("jobs[2].time_limit: expected a number").
    public static func describe(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case DecodingError.keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return "\(p): missing"
        case DecodingError.typeMismatch(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(type)"
        case DecodingError.valueNotFound(let type, let ctx):
            return "\(path(ctx.codingPath)): expected \(type), got null"
        case DecodingError.dataCorrupted(let ctx):
            let p = path(ctx.codingPath)
            return p.isEmpty ? "not valid JSON" : "\(p): \(ctx.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

/// Every error response: a stable machine code and a message for people.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) { error = Detail(code: code, message: message) }
}
