import Foundation

/// `ControllerClient`'s requests with Foundation's `Data` and the generic coders: what
/// `chessctl`'s commands and the agent use. The client itself speaks bytes (ChessWire), so that
/// `sbatch` does not link Foundation.
extension ControllerClient {
    /// Sends one request; returns the answer's body. Non-2xx answers throw with the
    /// controller's message.
    @discardableResult
    public func request(_ method: String, _ target: String, body: Data? = nil) throws -> Data {
        Data(try exchange(method, target, body: body.map { Array($0) }))
    }

    public func get<T: Decodable>(_ target: String, as type: T.Type) throws -> T {
        try decode(type, try request("GET", target))
    }

    public func post<T: Decodable, B: Encodable>(_ target: String, _ body: B, as type: T.Type) throws -> T {
        try decode(type, try request("POST", target, body: WireJSON.encode(body)))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do { return try WireJSON.decode(type, from: data) } catch {
            throw Failure(description: "unexpected answer from chessd: \(WireJSON.describe(error))", code: nil, status: nil)
        }
    }
}
