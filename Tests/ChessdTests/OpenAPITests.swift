import Foundation
import XCTest
@testable import chessd

/// `docs/openapi.yaml` and the router's table describe the same routes.
final class OpenAPITests: XCTestCase {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// `METHOD /path` for every operation under `paths:` (two-space path keys, four-space methods).
    func specRoutes() throws -> Set<String> {
        let text = try String(contentsOf: Self.spec, encoding: .utf8)
        var routes = Set<String>()
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line.hasPrefix("  /") && line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":")[0]
                if ["get", "post", "put", "delete", "patch"].contains(String(key)) { routes.insert("\(key.uppercased()) \(p)") }
            }
        }
        return routes
    }

    func testEveryRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let spec = try specRoutes()
        XCTAssertFalse(spec.isEmpty)
        let served = Set(Router.routes.map { "\($0.method) \($0.pattern)" })
        XCTAssertEqual(served.subtracting(spec).sorted(), [], "served but not in docs/openapi.yaml")
        XCTAssertEqual(spec.subtracting(served).sorted(), [], "in docs/openapi.yaml but not served")
    }

    func testRoutePatternsMatchPaths() {
        let route = Router.routes.first { $0.pattern == "/v1/jobs/{id}/{action}" }!
        XCTAssertEqual(route.match("POST", "/v1/jobs/12_3/cancel".split(separator: "/")), ["id": "12_3", "action": "cancel"])
        XCTAssertNil(route.match("GET", "/v1/jobs/12/cancel".split(separator: "/")))
        XCTAssertNil(route.match("POST", "/v1/jobs/12".split(separator: "/")))
    }
}
