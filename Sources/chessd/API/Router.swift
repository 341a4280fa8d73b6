import ChessAPI
import Foundation
import SchedulerCore

/// The `/v1` routes: decodes requests, checks who may do what, calls the controller, encodes
/// the answer. Every failure is a JSON `ErrorBody` with a stable code.
struct Router: HTTPHandler {
    let controller: Controller
    let version: String
    let agents: AgentAuthenticator

    func handle(_ request: HTTPRequest, peer: Peer, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let identity: Identity
        switch peer {
        case .local(let uid, let gid, _):
            identity = Identity.local(uid: uid, gid: gid, operators: controller.configuration.operators)
        case .remote:
            if request.method == "GET" && request.path == "/metrics" {
                return respond(Metrics.render(controller))
            }
            guard request.path.hasPrefix("/v1/agent/") else {
                return respond(APIError.unauthorized("TCP clients must authenticate (agents sign requests with the cluster key); users and admins use the Unix socket").response)
            }
            do {
                let agent = try agents.verify(request, now: Controller.now())
                try agentRoute(request, agent: agent, respond: respond)
            } catch let e as APIError {
                respond(e.response)
            } catch {
                respond(APIError.internal("\(error)").response)
            }
            return
        }
        do {
            try route(request, identity: identity, respond: respond)
        } catch let e as APIError {
            respond(e.response)
        } catch {
            respond(APIError.internal("\(error)").response)
        }
    }

    private func route(_ request: HTTPRequest, identity: Identity, respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        let parts = request.path.split(separator: "/").map(String.init)
        switch (request.method, parts.count, parts.first) {
        case ("GET", 1, "metrics"):
            return respond(Metrics.render(controller))
        case (_, _, "v1"):
            break
        default:
            throw APIError.notFound("no route \(request.method) \(request.path); the API lives under /v1 (docs/openapi.yaml)")
        }
        let rest = Array(parts.dropFirst())
        switch (request.method, rest.first, rest.count) {
        case ("GET", "ping", 1):
            respond(.json(PingResponse(cluster: controller.configuration.clusterName, version: version, now: Controller.now(),
                                       uptime: Controller.now() - controller.startedAt, user: identity.user,
                                       admin: identity.admin, policy: controller.configuration.planner.policy.rawValue)))

        case ("POST", "jobs", 1):
            let submission = try decode(JobSubmission.self, request)
            controller.submit(submission, identity: identity) { result in
                switch result {
                case .success(let id): respond(.json(SubmitResponse(id: id), status: 201))
                case .failure(let e): respond(e.response)
                }
            }

        case ("GET", "jobs", 1):
            var filter = Controller.QueueFilter()
            filter.users = list(request.query["user"])
            filter.partitions = list(request.query["partition"])
            if let s = list(request.query["state"]) { filter.states = Set(try s.map(jobState)) }
            if let ids = list(request.query["id"]) { filter.ids = Set(try ids.map(jobID)) }
            respond(.json(JobList(jobs: controller.queue(filter))))

        case ("GET", "jobs", 2):
            respond(.json(try controller.job(try reference(rest[1]))))

        case ("POST", "jobs", 3):
            guard let action = Controller.Action(rawValue: rest[2]) else {
                throw APIError.notFound("no job action '\(rest[2])'; actions: cancel, hold, release, requeue, suspend, resume")
            }
            controller.perform(action, on: try reference(rest[1]), identity: identity) { result in
                switch result {
                case .success(let r): respond(.json(r))
                case .failure(let e): respond(e.response)
                }
            }

        case ("GET", "accounting", 1):
            let now = Controller.now()
            func time(_ key: String, _ fallback: Int) throws -> Int {
                guard let v = request.query[key], !v.isEmpty else { return fallback }
                guard let t = Int(v) else { throw APIError.badRequest("\(key) must be Unix seconds, got '\(v)'") }
                return t
            }
            var q = Controller.AccountingQuery(start: try time("start", 0), end: try time("end", now))
            q.users = list(request.query["user"])
            q.accounts = list(request.query["account"])
            q.partitions = list(request.query["partition"])
            if let s = list(request.query["state"]) { q.states = Set(try s.map(jobState)) }
            if let ids = list(request.query["id"]) { q.ids = Set(try ids.map(jobID)) }
            respond(.json(AccountingList(records: try controller.accounting(q))))

        case ("GET", "nodes", 1):
            respond(.json(NodeList(nodes: controller.nodeInfos())))

        case ("GET", "nodes", 2):
            guard let node = controller.nodeInfos().first(where: { $0.name == rest[1] }) else {
                throw APIError.notFound("node \(rest[1]) is not configured")
            }
            respond(.json(node))

        case ("POST", "nodes", 3) where rest[2] == "state":
            let change = try decode(NodeStateChange.self, request)
            respond(.json(try controller.changeNode(rest[1], change, identity: identity)))

        default:
            throw APIError.notFound("no route \(request.method) \(request.path) (docs/openapi.yaml lists the routes)")
        }
    }

    /// `/v1/agent/register` and `/v1/agent/heartbeat`, for a verified agent.
    private func agentRoute(_ request: HTTPRequest, agent: String, respond: @escaping @Sendable (HTTPResponse) -> Void) throws {
        switch (request.method, request.path) {
        case ("POST", "/v1/agent/register"):
            let registration = try decode(AgentRegistration.self, request)
            guard registration.agent == agent else { throw APIError.forbidden("signed as \(agent) but registering as \(registration.agent)") }
            respond(.json(controller.register(registration)))
        case ("POST", "/v1/agent/heartbeat"):
            let beat = try decode(AgentHeartbeat.self, request)
            guard beat.agent == agent else { throw APIError.forbidden("signed as \(agent) but reporting as \(beat.agent)") }
            controller.heartbeat(beat) { result in
                switch result {
                case .success(let r): respond(.json(r))
                case .failure(let e): respond(e.response)
                }
            }
        default:
            throw APIError.notFound("no agent route \(request.method) \(request.path)")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        guard !request.body.isEmpty else { throw APIError.badRequest("the request needs a JSON body") }
        do {
            return try WireJSON.decode(type, from: Data(request.body))
        } catch {
            throw APIError.badRequest("invalid request body: \(WireJSON.describe(error))")
        }
    }

    private func jobState(_ name: String) throws -> JobState {
        guard let st = JobState.lookup(name) else {
            throw APIError.badRequest("unknown state '\(name)'; states: \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return st
    }

    private func jobID(_ text: String) throws -> JobID {
        guard let id = Int(text), id > 0 else { throw APIError.badRequest("'\(text)' is not a job id") }
        return id
    }

    private func reference(_ text: String) throws -> JobReference {
        guard let ref = JobReference(text) else { throw APIError.badRequest("'\(text)' is not a job id (1234 or 1234_7)") }
        return ref
    }

    private func list(_ value: String?) -> Set<String>? {
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
