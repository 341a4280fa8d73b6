import ChessAPI
import ControllerCore
import Foundation
import HTTPServer

/// Checks agents' signed requests (`RequestSigning`): the HMAC with the cluster key, a
/// timestamp within the window, and a nonce not seen within it.
final class AgentAuthenticator: @unchecked Sendable {
    private let key: [UInt8]?
    private let keyProblem: String
    private let lock = NSLock()
    private var seen: [String: Int] = [:]
    private var lastPrune = 0

    init(keyFile: String?) {
        guard let keyFile else {
            key = nil
            keyProblem = "no key_file is configured: agents cannot authenticate"
            return
        }
        do {
            key = try RequestSigning.loadKey(path: keyFile)
            keyProblem = ""
        } catch {
            key = nil
            keyProblem = "\(error)"
        }
    }

    var problem: String? { key == nil ? keyProblem : nil }

    /// An agent's own key (derived from the cluster key for its name), kept once it has signed
    /// a valid request: names from unauthenticated requests are not kept.
    private var agentKeys: [String: [UInt8]] = [:]

    func agentKey(_ agent: String) -> [UInt8]? {
        guard let key else { return nil }
        lock.lock()
        let known = agentKeys[agent]
        lock.unlock()
        return known ?? RequestSigning.agentKey(clusterKey: key, agent: agent)
    }

    /// The agent the request is signed by (with its own key), and that key, to sign the answer.
    func verify(_ request: HTTPRequest, now: Int) throws(APIError) -> (agent: String, key: [UInt8]) {
        guard key != nil else { throw .unauthorized(keyProblem) }
        guard let auth = request.header("authorization"), auth.hasPrefix(RequestSigning.scheme + " ") else {
            throw .unauthorized("missing Authorization: \(RequestSigning.scheme) AGENT:SIGNATURE")
        }
        let credential = auth.dropFirst(RequestSigning.scheme.count + 1)
        guard let colon = credential.lastIndex(of: ":"), let mac = Hex.decode(String(credential[credential.index(after: colon)...])) else {
            throw .unauthorized("malformed Authorization header")
        }
        let agent = String(credential[..<colon])
        guard let ts = request.header("x-chess-timestamp").flatMap(Int.init), let nonce = request.header("x-chess-nonce"),
              !nonce.isEmpty, nonce.count <= 128 else {
            throw .unauthorized("missing X-Chess-Timestamp or X-Chess-Nonce")
        }
        // Compared without arithmetic on the sender's number: any Int may arrive here, before
        // the signature is checked.
        guard ts >= now - RequestSigning.window && ts <= now + RequestSigning.window else {
            throw .unauthorized("request timestamp \(ts) is off the controller's clock (\(now)) (window \(RequestSigning.window)s): check NTP")
        }
        guard !agent.isEmpty, agent.utf8.count <= 255 else { throw .unauthorized("malformed Authorization header") }
        let agentKey = agentKey(agent)!
        let expected = HMACSHA256.authenticate(
            RequestSigning.canonical(agent: agent, method: request.method, target: request.target, timestamp: ts, nonce: nonce,
                                     body: request.body), key: agentKey)
        guard HMACSHA256.equal(expected, mac) else {
            throw .unauthorized("bad signature: is agent \(agent) using this cluster's key, or a key made for it (chessd --agent-key \(agent))?")
        }
        lock.lock()
        defer { lock.unlock() }
        if now - lastPrune > 60 {
            seen = seen.filter { now - $0.value <= 2 * RequestSigning.window }
            lastPrune = now
        }
        guard seen[nonce] == nil else { throw .unauthorized("replayed request (nonce already used)") }
        seen[nonce] = ts
        if agentKeys[agent] == nil { agentKeys[agent] = agentKey }
        return (agent, agentKey)
    }
}
