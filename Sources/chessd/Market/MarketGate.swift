import ChessAPI
import ControllerCore
import Foundation
import HTTPServer

/// Who may call the marketplace routes: bearer tokens (`Authorization: Bearer chess_…`), held
/// only as SHA-256 hashes, each with its scopes and a rate limit.
final class MarketGate: @unchecked Sendable {
    /// What a token may do.
    enum Scope: String, CaseIterable, Sendable {
        /// Prices, quotes, job status, SLA figures.
        case read
        /// Submit funded jobs and cancel them.
        case submit
        /// Read the settlement feed, acknowledge, dispute.
        case settle
        /// Report CPT/USD prices.
        case oracle
        /// See and act on every marketplace job and settlement, not only those its own token
        /// funded (the marketplace operator's reconciliation).
        case admin
    }

    /// Whether `token` may see what the token named `owner` funded (nil `token`: an
    /// administrator on the Unix socket).
    static func sees(_ owner: String?, as token: MarketTable.Token?) -> Bool {
        guard let token else { return true }
        return token.scopes.contains(Scope.admin.rawValue) || owner == token.name
    }

    private let lock = NSLock()
    private var byHash: [String: MarketTable.Token] = [:]
    private var buckets: [String: TokenBucket] = [:]
    let perMinute: Int

    init(tokens: [MarketTable.Token], perMinute: Int) {
        self.perMinute = perMinute
        for t in tokens where t.revokedAt == nil { byHash[t.hash] = t }
    }

    static func hash(_ secret: String) -> String { Hex.encode(Digest.sha256(Array(secret.utf8))) }

    /// A new secret: `chess_` + 32 random bytes in hex.
    static func newSecret() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        return "chess_" + Hex.encode(bytes)
    }

    func add(_ t: MarketTable.Token) {
        lock.lock()
        byHash[t.hash] = t
        lock.unlock()
    }

    func revoke(name: String) {
        lock.lock()
        byHash = byHash.filter { $0.value.name != name }
        buckets[name] = nil
        lock.unlock()
    }

    /// The token the request carries, if it is valid, has `scope` and is within its rate.
    func admit(_ request: HTTPRequest, scope: Scope, now: Double) throws(APIError) -> MarketTable.Token {
        guard let auth = request.header("authorization"), auth.hasPrefix("Bearer ") else {
            throw .unauthorized("missing Authorization: Bearer TOKEN (create one with `chessctl market token create`)")
        }
        let hash = Self.hash(String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        lock.lock()
        defer { lock.unlock() }
        guard let token = byHash[hash] else { throw .unauthorized("unknown or revoked token") }
        guard token.scopes.contains(scope.rawValue) else {
            throw .forbidden("token '\(token.name)' lacks the '\(scope.rawValue)' scope (it has: \(token.scopes.sorted().joined(separator: ", ")))")
        }
        var bucket = buckets[token.name] ?? TokenBucket(capacity: Double(perMinute), perSecond: Double(perMinute) / 60, now: now)
        let allowed = bucket.take(now: now)
        buckets[token.name] = bucket
        guard allowed else {
            throw APIError(status: 429, code: "rate_limited",
                           message: "token '\(token.name)' is over \(perMinute) requests a minute; retry in a few seconds")
        }
        return token
    }
}

/// A token bucket: `capacity` requests at once, refilled at `perSecond`.
struct TokenBucket {
    let capacity: Double
    let perSecond: Double
    var tokens: Double
    var last: Double

    init(capacity: Double, perSecond: Double, now: Double) {
        self.capacity = capacity
        self.perSecond = perSecond
        tokens = capacity
        last = now
    }

    mutating func take(now: Double) -> Bool {
        tokens = min(capacity, tokens + max(0, now - last) * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
