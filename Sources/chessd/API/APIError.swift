import ControllerCore
import HTTPServer

extension APIError {
    /// The error as the API answers it: `{"error": {"code", "message"}}` with its status.
    var response: HTTPResponse { .error(status: status, code: code, message: message) }
}
