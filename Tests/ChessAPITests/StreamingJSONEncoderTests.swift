import ChessAPI
import Foundation
import Testing

/// The streaming encoder writes the JSON Foundation's JSONEncoder writes (the same document: the
/// same members, values and escapes; its key order is the type's, Foundation's is a hash's) for
/// the shapes the store's records have, and it decodes back to the value.
@Suite("StreamingJSONEncoder")
struct StreamingJSONEncoderTests {
    enum Kind: Codable, Equatable {
        case plain
        case perNode(Int)
        case pair(a: String, b: Int?)
    }

    struct Inner: Codable, Equatable {
        var name: String
        var tags: [String]
        var limits: [String: Int]
        var kind: Kind
    }

    struct Outer: Codable, Equatable {
        var id: Int
        var big: UInt64
        var small: Int8
        var negative: Int64
        var flag: Bool
        var text: String
        var missing: String?
        var present: Int?
        var inner: Inner
        var list: [Inner]
        var empty: [Int]
        var emptyObject: [String: String]
        var nested: [[Int?]]
        var ratio: Double

        enum CodingKeys: String, CodingKey {
            case id, big, small, negative, flag, text, missing, present, inner, list, empty, nested, ratio
            case emptyObject = "empty_object"
        }
    }

    static let sample = Outer(
        id: 42, big: .max, small: -128, negative: .min, flag: true,
        text: "quote \" backslash \\ slash / tab \t newline \n bell \u{7} unicode é ✓ 🚀",
        missing: nil, present: 0,
        inner: Inner(name: "a", tags: ["x", "y"], limits: ["cpus": 4], kind: .pair(a: "p", b: nil)),
        list: [Inner(name: "b", tags: [], limits: [:], kind: .plain), Inner(name: "c", tags: ["z"], limits: [:], kind: .perNode(7))],
        empty: [], emptyObject: [:], nested: [[1, nil], [], [3]], ratio: 0.25)

    @Test func writesWhatJSONEncoderWrites() throws {
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.withoutEscapingSlashes]
        let expected = try foundation.encode(Self.sample)
        let streamed = try StreamingJSONEncoder().encode(Self.sample)
        let same = (try JSONSerialization.jsonObject(with: Data(streamed)) as? NSDictionary)?
            .isEqual(try JSONSerialization.jsonObject(with: expected) as? NSDictionary) ?? false
        #expect(same, "\(String(decoding: streamed, as: UTF8.self))")
        // In the type's key order, strings escaped as Foundation does.
        #expect(String(decoding: streamed, as: UTF8.self).hasPrefix(#"{"id":42,"big":18446744073709551615,"small":-128,"negative":-9223372036854775808,"flag":true,"text":"quote \" backslash \\ slash / tab \t newline \n bell \u0007 unicode é ✓ 🚀","present":0,"inner":{"#))
        #expect(try JSONDecoder().decode(Outer.self, from: Data(streamed)) == Self.sample)
    }

    @Test func topLevelScalarsAndArrays() throws {
        #expect(String(decoding: try StreamingJSONEncoder().encode([1, 2, 3]), as: UTF8.self) == "[1,2,3]")
        #expect(String(decoding: try StreamingJSONEncoder().encode("x"), as: UTF8.self) == "\"x\"")
        #expect(String(decoding: try StreamingJSONEncoder().encode([Int?.none]), as: UTF8.self) == "[null]")
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder().encode([Double.nan]) }
    }

    /// Encodes itself from `json` under an encoder that takes finished bytes, field by field otherwise.
    struct Frozen: Codable, Equatable {
        var name: String
        var count: Int
        var json: [UInt8] { Array(#"{"name":"\#(name)","count":\#(count)}"#.utf8) }
        func encode(to encoder: Encoder) throws {
            if let sink = encoder as? PreEncodedJSONSink { return sink.appendPreEncoded(json) }
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(count, forKey: .count)
        }
    }

    struct Holder: Codable, Equatable {
        var before: Int
        var frozen: Frozen
        var list: [Frozen]
        var after: String
    }

    @Test func preEncodedValuesAreCopiedInPlace() throws {
        let h = Holder(before: 1, frozen: Frozen(name: "a", count: 2), list: [Frozen(name: "b", count: 3), Frozen(name: "c", count: 4)], after: "z")
        let streamed = String(decoding: try StreamingJSONEncoder().encode(h), as: UTF8.self)
        #expect(streamed == #"{"before":1,"frozen":{"name":"a","count":2},"list":[{"name":"b","count":3},{"name":"c","count":4}],"after":"z"}"#)
        #expect(try JSONDecoder().decode(Holder.self, from: Data(streamed.utf8)) == h)
        // Under Foundation's encoder the same value encodes field by field, to the same document.
        let foundation = try JSONDecoder().decode(Holder.self, from: JSONEncoder().encode(h))
        #expect(foundation == h)
    }
}
