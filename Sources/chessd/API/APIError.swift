import ChessAPI
import HTTPServer

/// An error a route returns: the HTTP status, a stable code clients may branch on, and a
/// message that says what was wrong and how to fix it.
struct APIError: Error, Sendable, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String

    var description: String { message }

    var response: HTTPResponse { .error(status: status, code: code, message: message) }

    static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: "invalid_request", message: message) }
    static func invalid(_ message: String) -> APIError { APIError(status: 422, code: "invalid_job", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: 403, code: "forbidden", message: message) }
    static func unauthorized(_ message: String) -> APIError { APIError(status: 401, code: "unauthorized", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: 409, code: "conflict", message: message) }
    static func unavailable(_ message: String) -> APIError { APIError(status: 503, code: "unavailable", message: message) }
    /// A value past `InputLimits`: the job (or change) cannot be taken as it is.
    static func outOfRange(_ violation: InputLimits.Violation) -> APIError { .invalid(violation.description) }
    static func `internal`(_ message: String) -> APIError { APIError(status: 500, code: "internal", message: message) }
}
