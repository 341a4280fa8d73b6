import XCTest
@testable import ChessAPI

final class TOMLTests: XCTestCase {
    func parse(_ text: String) throws -> TOMLTable { try TOMLParser.parse(text) }

    func testScalarsStringsAndComments() throws {
        let t = try parse("""
            # comment
            a = 1_000   # trailing
            b = 0x1f
            c = 0o17
            d = 0b101
            e = 3.5e2
            f = true
            g = "tab\\there \\u00e9"
            h = 'C:\\path'
            i = \"\"\"
            line one
            line two\\
               joined\"\"\"
            j = '''
            raw \\n'''
            k = 1979-05-27T07:32:00Z
            l = inf
            """)
        XCTAssertEqual(t["a"], .integer(1000))
        XCTAssertEqual(t["b"], .integer(0x1f))
        XCTAssertEqual(t["c"], .integer(15))
        XCTAssertEqual(t["d"], .integer(5))
        XCTAssertEqual(t["e"], .float(350))
        XCTAssertEqual(t["f"], .bool(true))
        XCTAssertEqual(t["g"], .string("tab\there é"))
        XCTAssertEqual(t["h"], .string("C:\\path"))
        XCTAssertEqual(t["i"], .string("line one\nline twojoined"))
        XCTAssertEqual(t["j"], .string("raw \\n"))
        XCTAssertEqual(t["k"], .datetime("1979-05-27T07:32:00Z"))
        XCTAssertEqual(t["l"], .float(.infinity))
        XCTAssertEqual(t.keys, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"])
        XCTAssertEqual(t.lines["e"], 6)
    }

    func testTablesArraysOfTablesDottedKeysAndInlineTables() throws {
        let t = try parse("""
            top.level = "x"
            [server]
            port = 80
            [server.tls]
            on = false
            [[nodes]]
            names = "a[1-2]"
            [[nodes]]
            names = "b"
            features = [ "ib",
              "gpu", # comment inside
            ]
            limits = { cpus = 4, mem.mb = 100 }
            """)
        guard case .table(let top) = t["top"], case .table(let server) = t["server"],
              case .table(let tls) = server["tls"], case .array(let nodes) = t["nodes"],
              case .table(let second) = nodes[1], case .table(let limits) = second["limits"],
              case .table(let mem) = limits["mem"] else { return XCTFail("shape: \(t)") }
        XCTAssertEqual(top["level"], .string("x"))
        XCTAssertEqual(server["port"], .integer(80))
        XCTAssertEqual(tls["on"], .bool(false))
        XCTAssertEqual(nodes.count, 2)
        XCTAssertEqual(second["features"], .array([.string("ib"), .string("gpu")]))
        XCTAssertEqual(mem["mb"], .integer(100))
        XCTAssertEqual(second.headerLine, 8)
    }

    func testErrorsNameLineAndReason() {
        let cases: [(String, Int, String)] = [
            ("a = 1\na = 2", 2, "defined twice"),
            ("[t]\nx = 1\n[t]", 3, "defined twice"),
            ("a = hello", 1, "strings need quotes"),
            ("a = \"open", 1, "unterminated"),
            ("a = 1 b = 2", 1, "end of the line"),
            ("x = [1, 2", 1, "expected ',' or ']'"),
            ("a = 01", 1, "not a valid value"),
            ("a = 1__0", 1, "not a valid value"),
            ("t = { a = 1 }\n[t]", 2, "defined twice"),
            ("a = \"bad \\q\"", 1, "invalid escape"),
            ("[[a]]\n[a]", 2, "already defined"),
            ("= 3", 1, "expected a key"),
            ("a = -0x1f", 1, "not a valid value"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                guard let e = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.line, line, "\(text): \(e)")
                XCTAssertTrue(e.message.contains(fragment), "\(text): \(e.message)")
            }
        }
    }
}
