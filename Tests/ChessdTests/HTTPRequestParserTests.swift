@testable import chessd
import ControllerCore
@testable import HTTPServer
import XCTest

final class HTTPRequestParserTests: XCTestCase {
    func feed(_ text: String, into parser: inout HTTPRequestParser) {
        Array(text.utf8).withUnsafeBytes { parser.append($0) }
    }

    func testPipelinedRequestsArriveInPieces() throws {
        var parser = HTTPRequestParser()
        let a = "POST /v1/jobs?user=al%20ice&x HTTP/1.1\r\nContent-Length: 5\r\nX-Thing:  v \r\n\r\nhello"
        let b = "GET /v1/ping HTTP/1.1\r\n\r\n"
        let all = a + b
        var got: [HTTPRequest] = []
        // Byte by byte: nothing is returned before a request is complete.
        for byte in all.utf8 {
            [byte].withUnsafeBytes { parser.append($0) }
            while let r = try parser.next() { got.append(r) }
        }
        XCTAssertEqual(got.count, 2)
        XCTAssertEqual(got[0].method, "POST")
        XCTAssertEqual(got[0].path, "/v1/jobs")
        XCTAssertEqual(got[0].query["user"], "al ice")
        XCTAssertEqual(got[0].query["x"], "")
        XCTAssertEqual(got[0].header("x-thing"), "v")
        XCTAssertEqual(String(decoding: got[0].body, as: UTF8.self), "hello")
        XCTAssertEqual(got[1].path, "/v1/ping")
        XCTAssertTrue(got[1].body.isEmpty)
    }

    func testBadRequestsAreRefused() {
        func failure(_ text: String) -> HTTPRequestParser.Failure? {
            var p = HTTPRequestParser()
            feed(text, into: &p)
            do { _ = try p.next(); return nil } catch { return error }
        }
        if case .malformed = failure("GARBAGE\r\n\r\n") {} else { XCTFail("request line") }
        if case .malformed = failure("GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n") {} else { XCTFail("length") }
        if case .lengthRequired = failure("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") {} else { XCTFail("chunked") }
        if case .bodyTooLarge = failure("POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n") {} else { XCTFail("large") }
        if case .headersTooLarge = failure("GET / HTTP/1.1\r\n" + String(repeating: "a", count: 70_000)) {} else { XCTFail("headers") }
    }

    func testJobReferences() {
        XCTAssertEqual(JobReference("12")?.id, 12)
        XCTAssertEqual(JobReference("12_7")?.task, 7)
        XCTAssertNil(JobReference("x"))
        XCTAssertNil(JobReference("0"))
        XCTAssertNil(JobReference("1_2_3"))
    }
}
