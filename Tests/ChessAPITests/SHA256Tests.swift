import XCTest
@testable import ChessAPI

/// SHA-256 against FIPS 180-4's examples, HMAC-SHA256 against RFC 4231's test cases (both from
/// swift-crypto, held here to what CHESS's signatures rely on), and the signatures' coverage.
final class SHA256Tests: XCTestCase {
    func hex(_ s: String) -> String { Hex.encode(Digest.sha256(Array(s.utf8))) }

    func testFIPSVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(Hex.encode(Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
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

    func testEachAgentHasAKeyOfItsOwn() throws {
        let cluster = [UInt8](repeating: 9, count: 32)
        let a = RequestSigning.agentKey(clusterKey: cluster, agent: "n01")
        XCTAssertEqual(a.count, 32)
        XCTAssertEqual(a, RequestSigning.agentKey(clusterKey: cluster, agent: "n01"))
        XCTAssertNotEqual(a, RequestSigning.agentKey(clusterKey: cluster, agent: "n02"))
        XCTAssertNotEqual(a, RequestSigning.agentKey(clusterKey: [UInt8](repeating: 8, count: 32), agent: "n01"))
        // An agent key file names its agent; another agent cannot use it.
        let path = NSTemporaryDirectory() + "agent-\(UUID().uuidString).key"
        defer { unlink(path) }
        FileManager.default.createFile(atPath: path, contents: Data(RequestSigning.agentKeyFile(clusterKey: cluster, agent: "n01").utf8),
                                       attributes: [.posixPermissions: 0o600])
        XCTAssertEqual(try RequestSigning.loadAgentKey(path: path, agent: "n01"), a)
        XCTAssertThrowsError(try RequestSigning.loadAgentKey(path: path, agent: "n02"))
    }

    func testSignaturesCoverAgentMethodTargetTimeNonceAndBody() {
        let key = [UInt8](repeating: 7, count: 32)
        func sig(_ m: String, _ t: String, _ ts: Int, _ n: String, _ b: String, agent: String = "a") -> [UInt8] {
            HMACSHA256.authenticate(RequestSigning.canonical(agent: agent, method: m, target: t, timestamp: ts, nonce: n, body: Array(b.utf8)),
                                    key: key)
        }
        let base = sig("POST", "/v1/agent/heartbeat", 100, "n1", "{}")
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 100, "n1", "{}", agent: "b"))
        XCTAssertNotEqual(base, sig("GET", "/v1/agent/heartbeat", 100, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/register", 100, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 101, "n1", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 100, "n2", "{}"))
        XCTAssertNotEqual(base, sig("POST", "/v1/agent/heartbeat", 100, "n1", "{ }"))
        XCTAssertTrue(HMACSHA256.equal(base, sig("POST", "/v1/agent/heartbeat", 100, "n1", "{}")))
        // Answers: bound to the request's nonce, the status and the body.
        let request = RequestSigning.headers(agent: "a", key: key, method: "POST", target: "/x", body: [], nonce: "N")
        let answer = Hex.encode(RequestSigning.responseSignature(key: key, nonce: "N", status: 200, body: Array("{}".utf8)))
        XCTAssertTrue(RequestSigning.verifyResponse(key: key, request: request, status: 200, signature: answer, body: Array("{}".utf8)))
        XCTAssertFalse(RequestSigning.verifyResponse(key: key, request: request, status: 201, signature: answer, body: Array("{}".utf8)))
        XCTAssertFalse(RequestSigning.verifyResponse(key: key, request: request, status: 200, signature: answer, body: Array("{ }".utf8)))
        XCTAssertFalse(RequestSigning.verifyResponse(key: key, request: request, status: 200, signature: nil, body: Array("{}".utf8)))
        XCTAssertEqual(Hex.decode("00ff10Ab"), [0, 255, 16, 171])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
    }
}
