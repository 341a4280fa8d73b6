import ChessAPI
import ControllerCore
import Foundation
import HTTPServer
import SchedulerCore

/// The routes of the API. Every route is an entry of `routes`, which is also what the test
/// holds `docs/openapi.yaml` against. Failures are JSON `ErrorBody`s with a stable code.
struct Router: HTTPHandler {
    let controller: Controller
    let version: String
    let agents: AgentAuthenticator

    /// Who may call a route.
    enum Access: Sendable {
        /// Anyone, on either listener (metrics).
        case open
        /// Local users and admins on the Unix socket, identified by SO_PEERCRED.
        case local
        /// Agents on TCP, with a signed request.
        case agent
        /// The marketplace on TCP, with a bearer token carrying the scope.
        case market(MarketGate.Scope)
    }

    struct Context {
        let request: HTTPRequest
        let parameters: [String: String]
        /// Set on `.local` routes.
        let identity: Identity?
        /// Set on `.agent` routes.
        let agent: String?
        /// Set on `.market` routes.
        var token: MarketTable.Token? = nil
        let respond: @Sendable (HTTPResponse) -> Void

        var user: Identity { identity! }
        subscript(_ name: String) -> String { parameters[name]! }
    }

    struct Route: Sendable {
        let method: String
        /// `/v1/jobs/{id}/{action}`.
        let pattern: String
        let access: Access
        let handler: @Sendable (Router, Context) throws -> Void

        var segments: [Substring] { pattern.split(separator: "/") }

        func match(_ method: String, _ path: [Substring]) -> [String: String]? {
            guard method == self.method else { return nil }
            let segments = self.segments
            guard segments.count == path.count else { return nil }
            var parameters: [String: String] = [:]
            for (s, p) in zip(segments, path) {
                if s.hasPrefix("{") { parameters[String(s.dropFirst().dropLast())] = String(p) } else if s != p { return nil }
            }
            return parameters
        }
    }

    static let routes: [Route] = [
        Route(method: "GET", pattern: "/metrics", access: .open) { r, c in c.respond(Metrics.render(r.controller)) },
        Route(method: "GET", pattern: "/v1/ping", access: .local) { r, c in r.ping(c) },
        Route(method: "POST", pattern: "/v1/jobs", access: .local) { r, c in try r.submit(c) },
        Route(method: "GET", pattern: "/v1/jobs", access: .local) { r, c in try r.queue(c) },
        Route(method: "GET", pattern: "/v1/jobs/{id}", access: .local) { r, c in
            c.respond(.json(try r.visibleJob(c)))
        },
        Route(method: "PATCH", pattern: "/v1/jobs/{id}", access: .local) { r, c in
            r.controller.updateJob(try r.reference(c["id"]), try r.decode(JobUpdate.self, c.request), identity: c.user) { result in
                switch result {
                case .success(let info): c.respond(.json(info))
                case .failure(let e): c.respond(e.response)
                }
            }
        },
        Route(method: "POST", pattern: "/v1/jobs/{id}/{action}", access: .local) { r, c in try r.jobAction(c) },
        Route(method: "GET", pattern: "/v1/jobs/{id}/events", access: .local) { r, c in
            if r.controller.hides(.jobs, from: c.user) { _ = try r.visibleJob(c) }
            c.respond(.json(try r.controller.events(of: try r.reference(c["id"]))))
        },
        Route(method: "GET", pattern: "/v1/jobs/{id}/script", access: .local) { r, c in
            c.respond(.json(try r.controller.script(of: try r.reference(c["id"]), identity: c.user)))
        },
        Route(method: "GET", pattern: "/v1/accounting", access: .local) { r, c in try r.accounting(c) },
        Route(method: "GET", pattern: "/v1/priorities", access: .local) { r, c in
            let q = c.request.query
            let ids = try r.list(q["id"]).map { Set(try $0.map { text throws(APIError) -> JobID in
                guard let id = Int(text), id > 0 else { throw .badRequest("id must be job ids, got '\(text)'") }
                return id
            }) }
            c.respond(.json(r.controller.priorities(users: r.controller.visibleUsers(r.list(q["user"]), for: c.user), ids: ids)))
        },
        Route(method: "GET", pattern: "/v1/shares", access: .local) { r, c in
            var shares = r.controller.shares()
            if r.controller.hides(.usage, from: c.user) {
                let mine = r.controller.usableAccounts(for: c.user)
                shares.accounts.removeAll { !mine.contains($0.account) }
            }
            c.respond(.json(shares))
        },
        Route(method: "GET", pattern: "/v1/nodes", access: .local) { r, c in
            try r.requireNodesVisible(c)
            var partitions = r.controller.partitionSummaries()
            if let visible = r.controller.visibleObjects(.partitions, for: c.user) { partitions.removeAll { !visible.contains($0.name) } }
            c.respond(.json(NodeList(nodes: r.controller.nodeInfos(), partitions: partitions)))
        },
        Route(method: "GET", pattern: "/v1/nodes/{name}", access: .local) { r, c in
            try r.requireNodesVisible(c)
            guard let node = r.controller.nodeInfos().first(where: { $0.name == c["name"] }) else {
                throw APIError.notFound("node \(c["name"]) is not configured")
            }
            c.respond(.json(node))
        },
        Route(method: "POST", pattern: "/v1/nodes/{name}/state", access: .local) { r, c in
            try r.requireAdmin(c, "change node states")
            let change = try r.decode(NodeStateChange.self, c.request)
            c.respond(.json(try r.controller.changeNode(c["name"], change, identity: c.user)))
        },
        Route(method: "GET", pattern: "/v1/reports/utilization", access: .local) { r, c in
            let (start, end) = try r.period(c)
            c.respond(.json(try r.controller.utilization(from: start, to: end)))
        },
        Route(method: "GET", pattern: "/v1/reports/top-usage", access: .local) { r, c in
            let (start, end) = try r.period(c)
            let top = try c.request.query["top"].map { v -> Int in
                guard let n = Int(v), (1...100_000).contains(n) else { throw APIError.badRequest("top must be a whole number from 1 to 100000, got '\(v)'") }
                return n
            } ?? 10
            var report = try r.controller.topUsage(from: start, to: end, top: top)
            if r.controller.hides(.usage, from: c.user) { report.users.removeAll { $0.user != c.user.user } }
            c.respond(.json(report))
        },
        Route(method: "GET", pattern: "/v1/diag", access: .local) { r, c in c.respond(.json(r.controller.diagnostics())) },
        Route(method: "GET", pattern: "/v1/usage", access: .local) { r, c in
            guard let ids = c.request.query["id"], !ids.isEmpty else { throw APIError.badRequest("give id=1234[,1235_7,…]") }
            let refs = try ids.split(separator: ",").map { try r.reference(String($0)) }
            if r.controller.hides(.jobs, from: c.user) {
                for ref in refs { try r.controller.requireVisible(job: ref, owner: try r.controller.job(ref).user, for: c.user) }
            }
            c.respond(.json(try r.controller.runningUsage(of: refs)))
        },
        Route(method: "POST", pattern: "/v1/reconfigure", access: .local) { r, c in
            c.respond(.json(try r.controller.reconfigure(identity: c.user)))
        },
        Route(method: "GET", pattern: "/v1/licenses", access: .local) { r, c in c.respond(.json(r.controller.licenses())) },
        Route(method: "GET", pattern: "/v1/config", access: .local) { r, c in c.respond(.json(r.controller.settings(version: r.version))) },
        Route(method: "GET", pattern: "/v1/config/{kind}", access: .local) { r, c in
            let kind = try r.kind(c)
            var objects = r.controller.configObjects(kind)
            if let visible = r.controller.visibleObjects(kind, for: c.user) {
                objects.removeAll { o in
                    guard case .string(let name)? = o["name"] else { return true }
                    return !visible.contains(name)
                }
            }
            c.respond(.json(ConfigObjectList(objects: objects)))
        },
        Route(method: "GET", pattern: "/v1/config/{kind}/{name}", access: .local) { r, c in
            let kind = try r.kind(c)
            let object = try r.controller.configObject(kind, c["name"])
            if let visible = r.controller.visibleObjects(kind, for: c.user), !visible.contains(c["name"]) {
                throw APIError.forbidden("private_data hides the \(kind.rawValue) you may not use")
            }
            c.respond(.json(object))
        },
        Route(method: "POST", pattern: "/v1/config/{kind}/{name}", access: .local) { r, c in
            try r.requireAdmin(c, "change the configuration")
            let fields = try r.decode([String: DocumentNode].self, c.request)
            let saved = try r.controller.changeObject(try r.kind(c), c["name"], .create(fields), identity: c.user)
            c.respond(.json(saved ?? [:], status: 201))
        },
        Route(method: "PATCH", pattern: "/v1/config/{kind}/{name}", access: .local) { r, c in
            try r.requireAdmin(c, "change the configuration")
            let fields = try r.decode([String: DocumentNode].self, c.request)
            let saved = try r.controller.changeObject(try r.kind(c), c["name"], .update(fields), identity: c.user)
            c.respond(.json(saved ?? [:]))
        },
        Route(method: "DELETE", pattern: "/v1/config/{kind}/{name}", access: .local) { r, c in
            try r.controller.changeObject(try r.kind(c), c["name"], .delete, identity: c.user)
            c.respond(HTTPResponse(status: 204, body: []))
        },
        Route(method: "POST", pattern: "/v1/agent/register", access: .agent) { r, c in
            let registration = try r.decode(AgentRegistration.self, c.request)
            guard registration.agent == c.agent else {
                throw APIError.forbidden("signed as \(c.agent!) but registering as \(registration.agent)")
            }
            c.respond(.json(r.controller.register(registration)))
        },
        Route(method: "POST", pattern: "/v1/agent/step-reports", access: .agent) { r, c in
            r.controller.stepReports(try r.decode([StepReport].self, c.request), from: c.agent!)
            c.respond(HTTPResponse(status: 204, body: []))
        },
        Route(method: "GET", pattern: "/v1/steps", access: .local) { r, c in
            var steps = r.controller.runningSteps()
            if r.controller.hides(.jobs, from: c.user) { steps.removeAll { $0.user != c.user.user } }
            c.respond(.json(StepList(steps: steps)))
        },
        Route(method: "POST", pattern: "/v1/agent/steps", access: .agent) { r, c in
            let plan = try r.decode(StepPlan.self, c.request)
            c.respond(.json(["agents": try r.controller.startRemoteStep(plan, from: c.agent!)]))
        },
        Route(method: "POST", pattern: "/v1/agent/heartbeat", access: .agent) { r, c in
            let beat = try r.decode(AgentHeartbeat.self, c.request)
            guard beat.agent == c.agent else { throw APIError.forbidden("signed as \(c.agent!) but reporting as \(beat.agent)") }
            r.controller.heartbeat(beat) { result in
                switch result {
                case .success(let response): c.respond(.json(response))
                case .failure(let e): c.respond(e.response)
                }
            }
        },
    ] + marketRoutes

    func handle(_ request: HTTPRequest, peer: Peer, respond original: @escaping @Sendable (HTTPResponse) -> Void) {
        var respond = original
        // Split on the byte '/', not on Characters: "/" followed by a combining mark is one
        // Character, and would join two segments into one (found by schemathesis).
        let path = request.path.utf8.split(separator: UInt8(ascii: "/")).map { Substring(String(decoding: $0, as: UTF8.self)) }
        var allowed: [String] = []
        for route in Router.routes {
            guard let parameters = route.match(request.method, path) else {
                if route.match(route.method, path) != nil { allowed.append(route.method) }
                continue
            }
            do {
                var identity: Identity?
                var agent: String?
                var token: MarketTable.Token?
                switch (route.access, peer) {
                case (.open, _):
                    break
                case (.local, .local(let uid, let gid, _)):
                    identity = Identity.local(uid: uid, gid: gid, operators: controller.configuration.operators)
                case (.local, .remote):
                    throw APIError.unauthorized("this route is served on the Unix socket only: users and admins connect there")
                case (.agent, .remote):
                    let (name, key) = try agents.verify(request, now: controller.clock.now())
                    agent = name
                    // The answer is signed with the agent's key over its request's nonce.
                    let nonce = request.header("x-chess-nonce") ?? ""
                    let plain = respond
                    respond = { response in
                        var signed = response
                        let mac = RequestSigning.responseSignature(key: key, nonce: nonce, status: response.status, body: response.body)
                        signed.headers.append((RequestSigning.responseHeader, Hex.encode(mac)))
                        plain(signed)
                    }
                case (.agent, .local):
                    throw APIError.forbidden("agent routes are served on the TCP listener, with signed requests")
                case (.market(let scope), .remote):
                    token = try controller.requireMarket().gate.admit(request, scope: scope, now: Date().timeIntervalSince1970)
                case (.market, .local):
                    throw APIError.forbidden("marketplace routes are served on the TCP listener, with a bearer token")
                }
                // Before any decoder: bounded nesting and integers (InputLimits).
                if !request.body.isEmpty {
                    do { try JSONBodyCheck.check(request.body) } catch { throw APIError.badRequest("invalid request body: \(error)") }
                }
                try route.handler(self, Context(request: request, parameters: parameters, identity: identity, agent: agent,
                                                token: token, respond: respond))
            } catch let e as APIError {
                respond(e.response)
            } catch {
                respond(APIError.internal("\(error)").response)
            }
            return
        }
        if !allowed.isEmpty {
            return respond(APIError(status: 405, code: "method_not_allowed",
                                    message: "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: " or "))").response)
        }
        respond(APIError.notFound("no route \(request.method) \(request.path) (docs/openapi.yaml lists the routes)").response)
    }

    // MARK: Handlers

    func ping(_ c: Context) {
        c.respond(.json(PingResponse(cluster: controller.configuration.clusterName, version: version, now: controller.clock.now(),
                                     uptime: controller.clock.now() - controller.startedAt, user: c.user.user,
                                     admin: c.user.admin, policy: controller.configuration.planner.policy.rawValue)))
    }

    func submit(_ c: Context) throws {
        // The fast reader first; the Codable one for its error messages.
        let submission = try (try? JobSubmission(scanning: c.request.body)) ?? decode(JobSubmission.self, c.request)
        if c.request.query["test_only"].map({ $0 == "1" || $0 == "true" }) == true {
            return c.respond(.json(try controller.testSubmit(submission, identity: c.user)))
        }
        controller.submit(submission, identity: c.user) { result in
            switch result {
            // `SubmitResponse`'s JSON, written without the generic encoder (every submit).
            case .success(let id): c.respond(HTTPResponse(status: 201, body: Array("{\"id\":\(id)}".utf8)))
            case .failure(let e): c.respond(e.response)
            }
        }
    }

    func queue(_ c: Context) throws {
        let q = c.request.query
        var filter = Controller.QueueFilter()
        filter.users = controller.visibleUsers(list(q["user"]), for: c.user)
        filter.partitions = list(q["partition"])
        if let s = list(q["state"]) { filter.states = Set(try s.map(jobState)) }
        if let ids = list(q["id"]) { filter.ids = Set(try ids.map(jobID)) }
        if let raw = q["columns"], !raw.isEmpty {
            // Rows rendered here, tab-separated (what chessctl's table asks for).
            // Bounded: each column is written for every job, and a query of 64 KB names some
            // 20,000 of them — gigabytes over a long queue from one request.
            let names = raw.split(separator: ",")
            guard names.count <= QueueRows.maxColumns else {
                throw APIError.badRequest("\(names.count) columns; at most \(QueueRows.maxColumns)")
            }
            let columns = try names.map { name -> QueueColumns.Column in
                guard let c = QueueColumns.Column(rawValue: String(name)) else {
                    throw APIError.badRequest("unknown column '\(name)'; columns: \(QueueColumns.headers.keys.sorted().joined(separator: ","))")
                }
                return c
            }
            let now = controller.clock.now()
            let rows = QueueRows(columns)
            let out = controller.renderQueued(filter) { r, unavailable, index, out in
                rows.append(r, unavailableNodes: unavailable, index: index, now: now, to: &out)
            }
            return c.respond(HTTPResponse(status: 200, contentType: "text/tab-separated-values; charset=utf-8", body: out))
        }
        c.respond(HTTPResponse(status: 200, body: JobList(jobs: controller.queue(filter)).jsonBytes))
    }

    func jobAction(_ c: Context) throws {
        guard let action = Controller.Action(rawValue: c["action"]) else {
            throw APIError.notFound("no job action '\(c["action"])'; actions: cancel, hold, release, requeue, suspend, resume")
        }
        var signal: SignalName?
        var hold = false
        if !c.request.body.isEmpty {
            let request = try decode(JobActionRequest.self, c.request)
            if let text = request.signal {
                guard action == .cancel else { throw APIError.badRequest("a signal goes with cancel only") }
                guard let s = SignalName(text) else {
                    throw APIError.badRequest("unknown signal '\(text)'; signals: \(SignalName.names) (or their numbers)")
                }
                signal = s
            }
            if request.hold == true {
                guard action == .requeue else { throw APIError.badRequest("hold goes with requeue only") }
                hold = true
            }
        }
        controller.perform(action, on: try reference(c["id"]), identity: c.user, signal: signal, holdRequeued: hold) { result in
            switch result {
            case .success(let r): c.respond(.json(r))
            case .failure(let e): c.respond(e.response)
            }
        }
    }

    func accounting(_ c: Context) throws {
        let query = c.request.query
        let now = controller.clock.now()
        func time(_ key: String, _ fallback: Int) throws -> Int {
            guard let v = query[key], !v.isEmpty else { return fallback }
            guard let t = Int(v), (0...InputLimits.timestamp).contains(t) else {
                throw APIError.badRequest("\(key) must be Unix seconds from 0 to \(InputLimits.timestamp), got '\(v)'")
            }
            return t
        }
        var q = Controller.AccountingQuery(start: try time("start", 0), end: try time("end", now))
        q.users = controller.visibleUsers(list(query["user"]), for: c.user)
        q.accounts = list(query["account"])
        q.partitions = list(query["partition"])
        if let s = list(query["state"]) { q.states = Set(try s.map(jobState)) }
        if let ids = list(query["id"]) { q.ids = Set(try ids.map(jobID)) }
        c.respond(.json(AccountingList(records: try controller.accounting(q))))
    }

    /// A job by its reference, if `private_data` lets the caller see it.
    func visibleJob(_ c: Context) throws -> JobInfo {
        let ref = try reference(c["id"])
        let info = try controller.job(ref)
        try controller.requireVisible(job: ref, owner: info.user, for: c.user)
        return info
    }

    func requireNodesVisible(_ c: Context) throws {
        guard controller.hides(.nodes, from: c.user) else { return }
        throw APIError.forbidden("private_data hides node state from users who are not administrators")
    }

    /// `start` and `end` (Unix seconds, both required) of a report.
    func period(_ c: Context) throws -> (Int, Int) {
        func time(_ key: String) throws -> Int {
            guard let v = c.request.query[key], !v.isEmpty else { throw APIError.badRequest("\(key) is required (Unix seconds)") }
            guard let t = Int(v), (0...InputLimits.timestamp).contains(t) else {
                throw APIError.badRequest("\(key) must be Unix seconds from 0 to \(InputLimits.timestamp), got '\(v)'")
            }
            return t
        }
        return (try time("start"), try time("end"))
    }

    /// Refused before the body is read: who may not change a thing learns nothing of its checks.
    func requireAdmin(_ c: Context, _ what: String) throws {
        guard c.user.admin else { throw APIError.forbidden("only root or an operator may \(what)") }
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        guard !request.body.isEmpty else { throw APIError.badRequest("the request needs a JSON body") }
        do {
            return try WireJSON.decode(type, from: Data(request.body))
        } catch {
            throw APIError.badRequest("invalid request body: \(WireJSON.describe(error))")
        }
    }

    func kind(_ c: Context) throws -> ConfigObjectKind {
        guard let k = ConfigObjectKind(rawValue: c["kind"]) else {
            throw APIError.notFound("no configuration kind '\(c["kind"])'; kinds: partitions, qos, accounts, reservations")
        }
        return k
    }

    func jobState(_ name: String) throws -> JobState {
        guard let st = JobState.lookup(name) else {
            throw APIError.badRequest("unknown state '\(name)'; states: \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return st
    }

    func jobID(_ text: String) throws -> JobID {
        guard let id = Int(text), id > 0 else { throw APIError.badRequest("'\(text)' is not a job id") }
        return id
    }

    func reference(_ text: String) throws -> JobReference {
        guard let ref = JobReference(text) else { throw APIError.badRequest("'\(text)' is not a job id (1234 or 1234_7)") }
        return ref
    }

    func list(_ value: String?) -> Set<String>? {
        guard let value, !value.isEmpty else { return nil }
        return Set(value.split(separator: ",").map(String.init))
    }
}

extension JobState {
    /// `PENDING`, `pending`, or Slurm's short forms (`PD`, `R`, `CG`, …).
    static func lookup(_ name: String) -> JobState? {
        let upper = name.uppercased()
        if let s = JobState(rawValue: upper) { return s }
        let short: [String: JobState] = ["PD": .pending, "R": .running, "S": .suspended, "CG": .completing, "CD": .completed,
                                         "CA": .cancelled, "F": .failed, "TO": .timeout, "NF": .nodeFail, "PR": .preempted,
                                         "OOM": .outOfMemory, "RQ": .requeued, "CF": .configuring]
        return short[upper]
    }
}
