import Foundation

/// How agents sign requests to chessd with the cluster key (munge's model: one shared secret).
///
/// The signature is HMAC-SHA256 over `METHOD \n TARGET \n TIMESTAMP \n NONCE \n hex(SHA256(body))`,
/// sent as `Authorization: CHESS-HMAC-SHA256 <agent>:<hex>` with `X-Chess-Timestamp` (Unix
/// seconds) and `X-Chess-Nonce`. The controller accepts a timestamp within `window` seconds of
/// its clock and each nonce once, so a captured request cannot be replayed.
public enum RequestSigning {
    public static let scheme = "CHESS-HMAC-SHA256"
    public static let window = 300

    public static func canonical(method: String, target: String, timestamp: Int, nonce: String, body: [UInt8]) -> [UInt8] {
        Array("\(method)\n\(target)\n\(timestamp)\n\(nonce)\n\(Hex.encode(SHA256.hash(body)))".utf8)
    }

    /// The headers to add to a request.
    public static func headers(agent: String, key: [UInt8], method: String, target: String, body: [UInt8],
                               timestamp: Int = Int(Date().timeIntervalSince1970),
                               nonce: String = UUID().uuidString) -> [(String, String)] {
        let mac = HMACSHA256.authenticate(canonical(method: method, target: target, timestamp: timestamp, nonce: nonce, body: body), key: key)
        return [("Authorization", "\(scheme) \(agent):\(Hex.encode(mac))"), ("X-Chess-Timestamp", "\(timestamp)"),
                ("X-Chess-Nonce", nonce)]
    }

    /// Reads a key file: its bytes as they are (at least 16 of them), from a file only root may
    /// read (`KeyFile`).
    public static func loadKey(path: String) throws -> [UInt8] {
        let data: [UInt8]
        do { data = try KeyFile.read(path, what: "the cluster key") } catch {
            throw KeyError(description: "\(error) (create one: head -c 32 /dev/urandom > \(path); chmod 600 \(path))")
        }
        guard data.count >= 16 else { throw KeyError(description: "\(path): the cluster key is too short (\(data.count) bytes; use at least 16)") }
        return data
    }

    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
    }
}
