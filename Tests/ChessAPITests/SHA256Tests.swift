import XCTest
@testable import ChessAPI

/// SHA-256 against FIPS 180-4's examples, HMAC-SHA256 against RFC 4231's test cases, and the
/// request signature's replay-relevant parts.
final class SHA256Tests: XCTestCase {
    func hex(_ s: String) -> String { Hex.encode(SHA256.hash(Array(s.utf8))) }

    func testFIPSVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(Hex.encode(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Streaming in pieces gives the same digest as one update (55/56/64-byte padding edges).
        for n in [55, 56, 63, 64, 65, 119, 120] {
            let data = (0..<n).map { UInt8($0 & 0xff) }
            var h = SHA256()
            h.update(data.prefix(n / 3))
            h.update(data.dropFirst(n / 3))
            XCTAssertEqual(h.finalize(), SHA256.hash(data), "length \(n)")
        }
    }

    func testRFC4231() {
        func mac(_ key: [UInt8], _ data: String) -> String { Hex.encode(HMACSHA256.authenticate(Array(data.utf8), key: key)) }
        XCTAssertEqual(mac([UInt8](repeating: 0x0b, count: 20), "Hi There"),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(mac(Array("Jefe".utf8), "what do ya want for nothing?"),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(mac([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First"),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testSignaturesCoverMethodTargetTimeNonceAndBody() {
        let key = [UInt8](repeating: 7, count: 32)
        func sig(_ m: String, _ t: String, _ ts: Int, _ n: String, _ b: String) -> [UInt8] {
            HMACSHA256.authenticate(RequestSigning.canonical(method: m, target: t, timestamp: ts, nonce: n, body: Array(b.utf8)), key: key)
        }
        let base = sig("POST", "/v1/agent/heartbeat", 100, "n1", "{}")
        XCTAssertNotEqual(base, sig("GET", "/v1/agent/heartbeat", 100, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/register", 100, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 101, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 100, "n2", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 100, "n1", "{ }"))
        XCTAssertTrue(HMACSHA256.equal(base, sig("POST", "/v1/agent/heartbeat", 100, "n1", "{}")))
        XCTAssertEqual(Hex.decode("00ff10Ab"), [0, 255, 16, 171])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }
}
