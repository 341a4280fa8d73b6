import ChessAPI

/// An error a route returns: the HTTP status, a stable code clients may branch on, and a
/// message that says what was wrong and how to fix it.
package struct APIError: Error, Sendable, CustomStringConvertible {
    package var status: Int
    package var code: String
    package var message: String

    package init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var description: String { message }

    package static func badRequest(_ message: String) -> APIError { APIError(status: 400, code: "invalid_request", message: message) }
    package static func invalid(_ message: String) -> APIError { APIError(status: 422, code: "invalid_job", message: message) }
    package static func notFound(_ message: String) -> APIError { APIError(status: 404, code: "not_found", message: message) }
    package static func forbidden(_ message: String) -> APIError { APIError(status: 403, code: "forbidden", message: message) }
    package static func unauthorized(_ message: String) -> APIError { APIError(status: 401, code: "unauthorized", message: message) }
    package static func conflict(_ message: String) -> APIError { APIError(status: 409, code: "conflict", message: message) }
    package static func unavailable(_ message: String) -> APIError { APIError(status: 503, code: "unavailable", message: message) }
    /// A value past `InputLimits`: the job (or change) cannot be taken as it is.
    package static func outOfRange(_ violation: InputLimits.Violation) -> APIError { .invalid(violation.description) }
    package static func `internal`(_ message: String) -> APIError { APIError(status: 500, code: "internal", message: message) }
}
