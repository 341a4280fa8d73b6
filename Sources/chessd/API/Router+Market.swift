import Billing
import ChessAPI
import ControllerCore
import Foundation
import HTTPServer

/// `/v1/market/...` for the marketplace (TCP, bearer tokens), and the billing routes admins and
/// users reach on the Unix socket (`/v1/prices`, `/v1/invoices`, `/v1/settlements`, tokens).
extension Router {
    static let marketRoutes: [Route] = [
        Route(method: "GET", pattern: "/v1/market/prices", access: .market(.read)) { r, c in
            c.respond(.json(r.controller.priceList()))
        },
        Route(method: "POST", pattern: "/v1/market/quote", access: .market(.read)) { r, c in
            c.respond(.json(try r.controller.quote(try r.decode(JobSubmission.self, c.request), token: c.token!)))
        },
        Route(method: "POST", pattern: "/v1/market/jobs", access: .market(.submit)) { r, c in
            let submission = try r.decode(MarketSubmission.self, c.request)
            r.controller.submitMarket(submission, token: c.token!) { result in
                switch result {
                case .success(let id):
                    c.respond((try? r.controller.marketJob(id, token: c.token)).map { .json($0, status: 201) } ?? .json(SubmitResponse(id: id), status: 201))
                case .failure(let e): c.respond(e.response)
                }
            }
        },
        Route(method: "GET", pattern: "/v1/market/jobs/{id}", access: .market(.read)) { r, c in
            c.respond(.json(try r.controller.marketJob(try r.jobID(c["id"]), token: c.token)))
        },
        Route(method: "POST", pattern: "/v1/market/jobs/{id}/cancel", access: .market(.submit)) { r, c in
            let id = try r.jobID(c["id"])
            _ = try r.controller.marketJob(id, token: c.token)
            let identity = try r.controller.marketIdentity(c.token!)
            r.controller.perform(.cancel, on: JobReference(id: id, task: nil), identity: identity) { result in
                switch result {
                case .success: c.respond((try? r.controller.marketJob(id, token: c.token)).map { .json($0) } ?? APIError.internal("job \(id) vanished").response)
                case .failure(let e): c.respond(e.response)
                }
            }
        },
        Route(method: "GET", pattern: "/v1/market/settlements", access: .market(.settle)) { r, c in
            let q = c.request.query
            // A long poll (`wait`) holds no handler thread while it waits.
            r.controller.settlementFeed(after: try r.int(q["after"], 0), limit: try r.int(q["limit"], 100),
                                        wait: try r.int(q["wait"], 0), token: c.token) { result in
                switch result {
                case .success(let feed): c.respond(.json(feed))
                case .failure(let e): c.respond(e.response)
                }
            }
        },
        Route(method: "GET", pattern: "/v1/market/settlements/stream", access: .market(.settle)) { r, c in
            // The feed's streaming form: server-sent events, one per signed settlement, from
            // `after` (or the `Last-Event-ID` a reconnecting client sends) on.
            let after = try r.int(c.request.header("last-event-id") ?? c.request.query["after"], 0)
            _ = try r.controller.requireMarket()
            let controller = r.controller
            let token = c.token
            c.respond(.streaming(contentType: "text/event-stream") { out in
                controller.streamSettlements(after: after, token: token, to: out)
            })
        },
        Route(method: "GET", pattern: "/v1/market/settlements/{id}", access: .market(.settle)) { r, c in
            c.respond(.json(try r.controller.settlement(id: c["id"], token: c.token)))
        },
        Route(method: "POST", pattern: "/v1/market/settlements/{id}/ack", access: .market(.settle)) { r, c in
            c.respond(.json(try r.controller.acknowledgeSettlement(id: c["id"], token: c.token)))
        },
        Route(method: "POST", pattern: "/v1/market/settlements/{id}/dispute", access: .market(.settle)) { r, c in
            let d = try r.decode(DisputeRequest.self, c.request)
            c.respond(.json(try r.controller.disputeSettlement(id: c["id"], reason: d.reason, token: c.token)))
        },
        Route(method: "GET", pattern: "/v1/market/sla", access: .market(.read)) { r, c in
            c.respond(.json(try r.controller.slaReport(month: c.request.query["month"] ?? Router.currentMonth())))
        },
        Route(method: "PUT", pattern: "/v1/market/oracle/{source}", access: .market(.oracle)) { r, c in
            let report = try r.decode(OraclePriceReport.self, c.request)
            let reading = try r.controller.reportOraclePrice(source: c["source"], report)
            c.respond(.json(OraclePriceReport(price: report.price, time: reading.time)))
        },

        // On the Unix socket.
        Route(method: "GET", pattern: "/v1/prices", access: .local) { r, c in c.respond(.json(r.controller.priceList())) },
        Route(method: "PUT", pattern: "/v1/prices/{partition}", access: .local) { r, c in
            try r.requireAdmin(c, "set prices")
            let prices = try r.decode(PriceList.self, c.request)
            c.respond(.json(try r.controller.setPrices(c["partition"], prices, identity: c.user)))
        },
        Route(method: "GET", pattern: "/v1/invoices", access: .local) { r, c in
            let q = c.request.query
            guard let subject = Invoice.Subject(rawValue: q["by"] ?? "user") else { throw APIError.badRequest("by must be user or account") }
            let now = r.controller.clock.now()
            var names = r.list(q["name"])
            // Users read their own invoices; admins anyone's.
            if !c.user.admin {
                guard subject == .user else { throw APIError.forbidden("only root or an operator may read invoices by account") }
                if let n = names, n != [c.user.user] { throw APIError.forbidden("you may read your own invoices only") }
                names = [c.user.user]
            }
            let invoices = try r.controller.invoices(by: subject, start: try r.int(q["start"], 0), end: try r.int(q["end"], now + 1),
                                                     names: names)
            c.respond(.json(InvoiceList(invoices: invoices)))
        },
        Route(method: "GET", pattern: "/v1/settlements", access: .local) { r, c in
            guard c.user.admin else { throw APIError.forbidden("only root or an operator may read settlements") }
            let q = c.request.query
            c.respond(.json(SettlementList(settlements: try r.controller.settlements(start: try r.int(q["start"], 0),
                                                                                     end: try r.int(q["end"], r.controller.clock.now() + 1)))))
        },
        Route(method: "GET", pattern: "/v1/settlements/{id}", access: .local) { r, c in
            guard c.user.admin else { throw APIError.forbidden("only root or an operator may read settlements") }
            c.respond(.json(try r.controller.settlement(id: c["id"], token: nil)))
        },
        Route(method: "GET", pattern: "/v1/market/tokens", access: .local) { r, c in
            guard c.user.admin else { throw APIError.forbidden("only root or an operator may list marketplace tokens") }
            c.respond(.json(TokenList(tokens: try r.controller.tokens())))
        },
        Route(method: "POST", pattern: "/v1/market/tokens", access: .local) { r, c in
            try r.requireAdmin(c, "create marketplace tokens")
            c.respond(.json(try r.controller.createToken(try r.decode(TokenRequest.self, c.request), identity: c.user), status: 201))
        },
        Route(method: "DELETE", pattern: "/v1/market/tokens/{name}", access: .local) { r, c in
            try r.controller.revokeToken(c["name"], identity: c.user)
            c.respond(HTTPResponse(status: 204, body: []))
        },
    ]

    /// A query's whole number (a time, an id, a count, a wait): from 0 to `InputLimits.timestamp`.
    func int(_ text: String?, _ fallback: Int) throws -> Int {
        guard let text, !text.isEmpty else { return fallback }
        guard let v = Int(text), (0...InputLimits.timestamp).contains(v) else {
            throw APIError.badRequest("'\(text)' is not a whole number from 0 to \(InputLimits.timestamp)")
        }
        return v
    }

    static func currentMonth() -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month], from: Date())
        return String(format: "%04d-%02d", c.year!, c.month!)
    }
}
