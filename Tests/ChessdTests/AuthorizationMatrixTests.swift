import ChessAPI
import ChessConfig
@testable import chessd
import ControllerCore
import Foundation
import HTTPServer
import Logging
import Testing

/// Every route × every kind of caller, with the answer each must get: allowed (any status but
/// 401 and 403, and 404 on a marketplace route naming another token's job) or refused. The
/// routes come from `Router.routes`: a route added without its row here fails the test.
@Suite("Authorization matrix", .serialized)
struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable, Sendable {
        case root, owner, other, op = "operator", agent, otherAgent = "other agent", token, otherToken = "other token", none
    }

    /// Who may, by route. The callers not named are refused.
    static let everyLocalUser: Set<Caller> = [.root, .owner, .other, .op]
    static let admins: Set<Caller> = [.root, .op]
    static let ownerOrAdmin: Set<Caller> = [.root, .owner, .op]
    static let agents: Set<Caller> = [.agent, .otherAgent]
    static let tokens: Set<Caller> = [.token, .otherToken]
    static let fundingToken: Set<Caller> = [.token]

    static let expected: [String: Set<Caller>] = [
        "GET /metrics": Set(Caller.allCases),
        "GET /v1/ping": everyLocalUser,
        "POST /v1/jobs": everyLocalUser,
        "GET /v1/jobs": everyLocalUser,
        "GET /v1/jobs/{id}": everyLocalUser,
        "PATCH /v1/jobs/{id}": ownerOrAdmin,
        "POST /v1/jobs/{id}/{action}": ownerOrAdmin,
        "GET /v1/jobs/{id}/events": everyLocalUser,
        "GET /v1/jobs/{id}/script": ownerOrAdmin,
        "GET /v1/accounting": everyLocalUser,
        "GET /v1/priorities": everyLocalUser,
        "GET /v1/shares": everyLocalUser,
        "GET /v1/nodes": everyLocalUser,
        "GET /v1/nodes/{name}": everyLocalUser,
        "POST /v1/nodes/{name}/state": admins,
        "GET /v1/reports/utilization": everyLocalUser,
        "GET /v1/reports/top-usage": everyLocalUser,
        "GET /v1/diag": everyLocalUser,
        "GET /v1/usage": everyLocalUser,
        "POST /v1/reconfigure": admins,
        "GET /v1/licenses": everyLocalUser,
        "GET /v1/config": everyLocalUser,
        "GET /v1/config/{kind}": everyLocalUser,
        "GET /v1/config/{kind}/{name}": everyLocalUser,
        "POST /v1/config/{kind}/{name}": admins,
        "PATCH /v1/config/{kind}/{name}": admins,
        "DELETE /v1/config/{kind}/{name}": admins,
        "GET /v1/steps": everyLocalUser,
        "POST /v1/agent/register": agents,
        "POST /v1/agent/step-reports": agents,
        "POST /v1/agent/steps": agents,
        "POST /v1/agent/heartbeat": agents,
        "GET /v1/prices": everyLocalUser,
        "PUT /v1/prices/{partition}": admins,
        "GET /v1/invoices": everyLocalUser,
        "GET /v1/settlements": admins,
        "GET /v1/settlements/{id}": admins,
        "GET /v1/market/tokens": admins,
        "POST /v1/market/tokens": admins,
        "DELETE /v1/market/tokens/{name}": admins,
        "GET /v1/market/prices": tokens,
        "POST /v1/market/quote": tokens,
        "POST /v1/market/jobs": tokens,
        "GET /v1/market/jobs/{id}": fundingToken,
        "POST /v1/market/jobs/{id}/cancel": fundingToken,
        "GET /v1/market/settlements": tokens,
        "GET /v1/market/settlements/stream": tokens,
        "GET /v1/market/settlements/{id}": fundingToken,
        "POST /v1/market/settlements/{id}/ack": fundingToken,
        "POST /v1/market/settlements/{id}/dispute": fundingToken,
        "GET /v1/market/sla": tokens,
        "PUT /v1/market/oracle/{source}": tokens,
    ]

    static let clusterKey = [UInt8](repeating: 42, count: 32)
    static let payer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

    /// A controller in this process with a marketplace, two agents' nodes, an operator, and a
    /// job of nobody's funded by `token`.
    final class World: @unchecked Sendable {
        let directory: String
        let store: Store
        let controller: Controller
        let router: Router
        var secrets: [Caller: String] = [:]
        /// The funded job (ended: it has a settlement) and a held job of nobody's.
        var job = 0
        var localJob = 0

        /// `extra`: TOML added at the top level (before the first table).
        init(extra: String = "") throws {
            let directory = try SettlementStoreTests.temporaryDirectory()
            self.directory = directory
            let write = { (name: String, text: String) in
                _ = FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data(text.utf8),
                                                   attributes: [.posixPermissions: 0o600])
            }
            _ = FileManager.default.createFile(atPath: "\(directory)/cluster.key", contents: Data(AuthorizationMatrixTests.clusterKey),
                                               attributes: [.posixPermissions: 0o600])
            write("provider.key", "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n")
            let configuration = try ConfigurationFile.parse("""
                cluster_name = "matrix"
                state_dir = "state"
                socket = "chessd.sock"
                key_file = "cluster.key"
                operators = ["bin"]
                \(extra)
                [[nodes]]
                names = "n01"
                cores_per_socket = 8
                memory_mb = 16000
                agent = "a1"
                [[nodes]]
                names = "n02"
                cores_per_socket = 8
                memory_mb = 16000
                agent = "a2"
                [[partitions]]
                name = "batch"
                nodes = "n[01-02]"
                default_time = "10:00"
                prices = { core_hour = "0.36" }
                [market]
                chain_id = 8453
                escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                provider_key_file = "provider.key"
                oracle_sources = ["demo"]
                rate_limit_per_minute = 100000
                """, directory: directory)
            store = try Store(directory: configuration.stateDirectory)
            controller = try Controller(configuration: configuration, store: store, logger: Logger(label: "matrix"))
            router = Router(controller: controller, version: "test", agents: AgentAuthenticator(keyFile: configuration.keyFile))
            for (caller, user) in [(Caller.token, "nobody"), (.otherToken, "daemon")] {
                let info = try controller.createToken(TokenRequest(name: caller == .token ? "t1" : "t2",
                                                                   scopes: ["read", "submit", "settle", "oracle"], user: user),
                                                      identity: Identity(user: "root", uid: 0, gid: 0, admin: true))
                secrets[caller] = info.token
            }
            let funded = call(.token, "POST", "/v1/market/jobs", #"""
                {"job": {"script": "#!/bin/sh\ntrue\n", "partition": "batch", "time_limit": 600, "hold": true},
                 "escrow": {"escrow_id": "0x\#(String(repeating: "5e", count: 32))", "payer": "\#(AuthorizationMatrixTests.payer)",
                            "amount": "1", "transaction": "0x\#(String(repeating: "77", count: 32))"}}
                """#)
            guard funded.status == 201, let id = (try? JSONSerialization.jsonObject(with: Data(funded.body)) as? [String: Any])?["id"] as? Int else {
                throw TestFailure("the funded job was not taken: \(funded.status) \(String(decoding: funded.body, as: UTF8.self))")
            }
            job = id
            // Ended (cancelled while held): it has a settlement, a refund, for the settlement routes.
            let cancelled = call(.root, "POST", "/v1/jobs/\(id)/cancel")
            guard cancelled.status == 200 else { throw TestFailure("cancel: \(cancelled.status)") }
            let held = call(.owner, "POST", "/v1/jobs", ##"{"script": "#!/bin/sh\ntrue\n", "hold": true}"##)
            guard held.status == 201, let local = (try? JSONSerialization.jsonObject(with: Data(held.body)) as? [String: Any])?["id"] as? Int else {
                throw TestFailure("the held job was not taken: \(held.status) \(String(decoding: held.body, as: UTF8.self))")
            }
            localJob = local
        }

        deinit {
            store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }

        func peer(_ caller: Caller) -> Peer {
            switch caller {
            case .root: return .local(uid: 0, gid: 0, pid: 1)
            case .owner: return .local(uid: 65534, gid: 65534, pid: 1)
            case .other: return .local(uid: 1, gid: 1, pid: 1)
            case .op: return .local(uid: 2, gid: 2, pid: 1)
            default: return .remote(address: "127.0.0.1")
            }
        }

        /// One request as `caller` sends it; the answer.
        func call(_ caller: Caller, _ method: String, _ target: String, _ body: String = "") -> HTTPResponse {
            var headers = ["Host: chessd", "Content-Length: \(body.utf8.count)"]
            switch caller {
            case .agent, .otherAgent:
                let name = caller == .agent ? "a1" : "a2"
                let key = RequestSigning.agentKey(clusterKey: AuthorizationMatrixTests.clusterKey, agent: name)
                headers += RequestSigning.headers(agent: name, key: key, method: method, target: target, body: Array(body.utf8))
                    .map { "\($0.0): \($0.1)" }
            case .token, .otherToken:
                headers.append("Authorization: Bearer \(secrets[caller]!)")
            default: break
            }
            var parser = HTTPRequestParser()
            let raw = Array(("\(method) \(target) HTTP/1.1\r\n" + headers.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
            raw.withUnsafeBytes { parser.append($0) }
            let request = try! parser.next()!
            let answer = Answer()
            router.handle(request, peer: peer(caller)) { answer.set($0) }
            return answer.wait()
        }
    }

    final class Answer: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var response: HTTPResponse?
        func set(_ r: HTTPResponse) { response = r; done.signal() }
        func wait() -> HTTPResponse {
            guard done.wait(timeout: .now() + 20) == .success, let response else { return .text("no answer", status: 599) }
            return response
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A target and body for a route: its parameters filled with the world's job, node, …
    static func request(for route: Router.Route, world: World) -> (String, String) {
        var path = route.pattern
        let job = route.pattern.hasPrefix("/v1/market") ? world.job : world.localJob
        let values = ["{id}": "\(job)", "{action}": "hold", "{name}": route.pattern.hasPrefix("/v1/nodes") ? "n01"
                        : route.pattern.hasPrefix("/v1/market/tokens") ? "t-none" : "normal",
                      "{kind}": "qos", "{partition}": "batch", "{source}": "demo"]
        for (k, v) in values { path = path.replacingOccurrences(of: k, with: v) }
        let query = ["/v1/usage": "?id=\(job)", "/v1/reports/utilization": "?start=0&end=1",
                     "/v1/reports/top-usage": "?start=0&end=1"][route.pattern] ?? ""
        let bodies = ["PATCH /v1/jobs/{id}": #"{"name": "renamed"}"#, "POST /v1/market/settlements/{id}/dispute": #"{"reason": "x"}"#]
        let body = bodies["\(route.method) \(route.pattern)"] ?? (["POST", "PUT", "PATCH"].contains(route.method) ? "{}" : "")
        return (path + query, body)
    }

    @Test func everyRouteAnswersEachCallerAsItsRowSays() throws {
        try check(World(), Self.expected)
    }

    /// With every kind of `private_data` set, the reads of one job and of node state are the
    /// owner's and the administrators' only; the other routes keep their rows (what they list
    /// is filtered, which `privateDataFiltersWhatUsersList` checks).
    @Test func privateDataNarrowsTheMatrix() throws {
        var expected = Self.expected
        for key in ["GET /v1/jobs/{id}", "GET /v1/jobs/{id}/events", "GET /v1/usage"] { expected[key] = Self.ownerOrAdmin }
        for key in ["GET /v1/nodes", "GET /v1/nodes/{name}"] { expected[key] = Self.admins }
        try check(World(extra: Self.everythingPrivate), expected)
    }

    static let everythingPrivate = """
        private_data = "jobs,usage,nodes,accounts,partitions,reservations"
        [[accounts]]
        name = "default"
        [[accounts]]
        name = "physics"
        users = ["nobody"]
        [[reservations]]
        name = "maint"
        nodes = "n01"
        start = 4000000000
        end = 4000003600
        accounts = ["physics"]
        """

    @Test func privateDataFiltersWhatUsersList() throws {
        func names(_ r: HTTPResponse, _ list: String, _ field: String) -> [String] {
            guard r.status == 200, let o = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
                  let items = o[list] as? [[String: Any]] else { return ["status \(r.status)"] }
            return items.map { "\($0[field] ?? "-")" }
        }
        let open = try World(extra: Self.everythingPrivate.replacingOccurrences(of: "jobs,usage,nodes,accounts,partitions,reservations", with: ""))
        let closed = try World(extra: Self.everythingPrivate)
        // Without private_data every user sees every job, account and reservation (as today).
        #expect(names(open.call(.other, "GET", "/v1/jobs"), "jobs", "user") == ["nobody"])
        #expect(names(open.call(.other, "GET", "/v1/config/accounts"), "objects", "name") == ["default", "physics"])
        #expect(names(open.call(.other, "GET", "/v1/config/reservations"), "objects", "name") == ["maint"])
        #expect(open.call(.other, "GET", "/v1/nodes").status == 200)
        // With it, another user sees none of nobody's jobs, even asking for them by user or id …
        #expect(names(closed.call(.other, "GET", "/v1/jobs"), "jobs", "user") == [])
        #expect(names(closed.call(.other, "GET", "/v1/jobs?user=nobody"), "jobs", "user") == [])
        #expect(names(closed.call(.other, "GET", "/v1/accounting?user=nobody"), "records", "user") == [])
        #expect(names(closed.call(.other, "GET", "/v1/priorities"), "jobs", "user") == [])
        #expect(closed.call(.other, "GET", "/v1/jobs/\(closed.localJob)").status == 403)
        #expect(closed.call(.other, "GET", "/v1/jobs/\(closed.localJob)/events").status == 403)
        // … nor the accounts, partitions and reservations it may not use, nor node state.
        #expect(names(closed.call(.other, "GET", "/v1/config/accounts"), "objects", "name") == ["default"])
        #expect(closed.call(.other, "GET", "/v1/config/accounts/physics").status == 403)
        #expect(names(closed.call(.other, "GET", "/v1/config/reservations"), "objects", "name") == [])
        #expect(names(closed.call(.other, "GET", "/v1/shares"), "accounts", "account") == ["default"])
        #expect(closed.call(.other, "GET", "/v1/nodes").status == 403)
        // The owner sees their own; an operator sees everything.
        #expect(names(closed.call(.owner, "GET", "/v1/jobs"), "jobs", "user") == ["nobody"])
        #expect(names(closed.call(.owner, "GET", "/v1/accounting"), "records", "user").contains("nobody"))
        #expect(names(closed.call(.owner, "GET", "/v1/config/accounts"), "objects", "name") == ["default", "physics"])
        #expect(names(closed.call(.owner, "GET", "/v1/config/reservations"), "objects", "name") == ["maint"])
        #expect(names(closed.call(.op, "GET", "/v1/jobs"), "jobs", "user") == ["nobody"])
        #expect(names(closed.call(.op, "GET", "/v1/shares"), "accounts", "account") == ["default", "physics"])
        #expect(closed.call(.op, "GET", "/v1/nodes").status == 200)
    }

    /// A path is split on the byte '/': "/" followed by a combining mark is one Swift Character,
    /// and splitting on Characters joined two segments, so that `POST /v1/jobs/1/\u{0300}x` met
    /// the one-job route's 405 instead of the actions' 404 (found by schemathesis).
    @Test func aCombiningMarkAfterASlashStillSeparatesSegments() throws {
        let world = try World()
        let answer = world.call(.root, "POST", "/v1/jobs/\(world.localJob)/%CC%80hold")
        #expect(answer.status == 404, "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        #expect(String(decoding: answer.body, as: UTF8.self).contains("no job action"))
    }

    func check(_ world: World, _ expected: [String: Set<Caller>]) throws {
        let served = Set(Router.routes.map { "\($0.method) \($0.pattern)" })
        #expect(served.subtracting(expected.keys).sorted() == [], "routes without a row in the matrix")
        #expect(Set(expected.keys).subtracting(served).sorted() == [], "rows of routes that do not exist")
        var wrong: [String] = []
        for route in Router.routes {
            let key = "\(route.method) \(route.pattern)"
            guard let allowed = expected[key] else { continue }
            let (target, body) = Self.request(for: route, world: world)
            // Those refused first, so that an allowed change does not change what they meet.
            for caller in Caller.allCases.sorted(by: { (allowed.contains($0) ? 1 : 0) < (allowed.contains($1) ? 1 : 0) }) {
                let answer = world.call(caller, route.method, target, body)
                let hidden = answer.status == 404 && key.contains("{id}") && key.hasPrefix("GET /v1/market") || answer.status == 404 && key.hasPrefix("POST /v1/market/") && key.contains("{id}")
                let refused = answer.status == 401 || answer.status == 403 || hidden
                if refused == allowed.contains(caller) {
                    wrong.append("\(key) as \(caller.rawValue): \(answer.status) \(String(decoding: answer.body.prefix(160), as: UTF8.self))")
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) answers differ from the matrix:\n\(wrong.joined(separator: "\n"))")
    }
}
