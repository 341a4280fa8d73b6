import Foundation

/// How agents and chessd prove who they are to each other (munge's model, plus identity).
///
/// The cluster key is chessd's. Each agent signs with a key of its own, derived from the cluster
/// key for its name (`agentKey`): a node given only its agent's key (`chessd --agent-key NAME`)
/// can speak for that agent alone, and chessd lets an agent speak only for the nodes the
/// configuration assigns it. A request's signature is HMAC-SHA256 over
/// `AGENT \n METHOD \n TARGET \n TIMESTAMP \n NONCE \n hex(SHA256(body))`, sent as
/// `Authorization: CHESS-HMAC-SHA256 <agent>:<hex>` with `X-Chess-Timestamp` (Unix seconds) and
/// `X-Chess-Nonce`. The controller accepts a timestamp within `window` seconds of its clock and
/// each nonce once, so a captured request cannot be replayed. Its answer carries
/// `X-Chess-Signature`, the same key's HMAC over the request's nonce, the status and the body:
/// an agent acts only on what chessd said, to it, in answer to that request.
public enum RequestSigning {
    public static let scheme = "CHESS-HMAC-SHA256"
    public static let window = 300
    public static let responseHeader = "X-Chess-Signature"

    /// The key agent `agent` signs with (HKDF of the cluster key for its name).
    public static func agentKey(clusterKey: [UInt8], agent: String) -> [UInt8] {
        HMACSHA256.derive(from: clusterKey, info: "chess agent key v1\u{0}\(agent)")
    }

    public static func canonical(agent: String, method: String, target: String, timestamp: Int, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("\(agent)\n\(method)\n\(target)\n\(timestamp)\n\(nonce)\n\(Hex.encode(Digest.sha256(body)))".utf8)
    }

    /// The headers to add to a request; `key` is the agent's own (`agentKey`).
    public static func headers(agent: String, key: [UInt8], method: String, target: String, body: [UInt8],
                               timestamp: Int = Int(Date().timeIntervalSince1970),
                               nonce: String = UUID().uuidString) -> [(String, String)] {
        let mac = HMACSHA256.authenticate(canonical(agent: agent, method: method, target: target, timestamp: timestamp,
                                                    nonce: nonce, body: body), key: key)
        return [("Authorization", "\(scheme) \(agent):\(Hex.encode(mac))"), ("X-Chess-Timestamp", "\(timestamp)"),
                ("X-Chess-Nonce", nonce)]
    }

    /// The signature of chessd's answer to the request that carried `nonce`.
    public static func responseSignature(key: [UInt8], nonce: String, status: Int, body: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticate(Array("answer\n\(nonce)\n\(status)\n\(Hex.encode(Digest.sha256(body)))".utf8), key: key)
    }

    /// Whether an answer is chessd's to the request whose headers were `request`.
    public static func verifyResponse(key: [UInt8], request: [(String, String)], status: Int, signature: String?, body: [UInt8]) -> Bool {
        guard let nonce = request.first(where: { $0.0 == "X-Chess-Nonce" })?.1, let signature, let mac = Hex.decode(signature) else {
            return false
        }
        return HMACSHA256.equal(responseSignature(key: key, nonce: nonce, status: status, body: body), mac)
    }

    /// Reads the cluster key: its bytes as they are (at least 16 of them), from a file only root
    /// may read (`KeyFile`).
    public static func loadKey(path: String) throws -> [UInt8] {
        let data: [UInt8]
        do { data = try KeyFile.read(path, what: "the cluster key") } catch {
            throw KeyError(description: "\(error) (create one: head -c 32 /dev/urandom > \(path); chmod 600 \(path))")
        }
        guard data.count >= 16 else { throw KeyError(description: "\(path): the cluster key is too short (\(data.count) bytes; use at least 16)") }
        return data
    }

    /// The first line of an agent key file, before the key in hex.
    static let agentKeyPrefix = "chess-agent-key v1 "

    /// An agent key file's text for `agent` (what `chessd --agent-key NAME` prints).
    public static func agentKeyFile(clusterKey: [UInt8], agent: String) -> String {
        "\(agentKeyPrefix)\(agent) \(Hex.encode(agentKey(clusterKey: clusterKey, agent: agent)))\n"
    }

    /// The key agent `agent` signs with, from its key file: an agent key file made for it, or the
    /// cluster key itself (from which it derives its own).
    public static func loadAgentKey(path: String, agent: String) throws -> [UInt8] {
        let data: [UInt8]
        do { data = try KeyFile.read(path, what: "the agent key") } catch {
            throw KeyError(description: "\(error) (make one on the controller: chessd --agent-key \(agent) > \(path); chmod 600 \(path))")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix(agentKeyPrefix) else { return agentKey(clusterKey: try loadKey(path: path), agent: agent) }
        let fields = text.dropFirst(agentKeyPrefix.count).split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let key = Hex.decode(String(fields[1])), key.count == 32 else {
            throw KeyError(description: "\(path): not an agent key file (chessd --agent-key NAME writes one)")
        }
        guard fields[0] == agent else {
            throw KeyError(description: "\(path): the key is agent \(fields[0])'s, and this agent is \(agent) (give --id \(fields[0]), or make a key for \(agent))")
        }
        return key
    }

    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
    }
}
