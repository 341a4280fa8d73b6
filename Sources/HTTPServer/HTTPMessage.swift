import ChessAPI
import Foundation

/// One HTTP/1.1 request as the server read it.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query, percent-decoded.
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The request target as sent (path and query), which agent signatures cover.
    public var target: String

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Set for a streaming response: called once the head is written, it sends the body chunk by
    /// chunk (chunked transfer encoding) for as long as it likes; the connection closes after it.
    public var stream: (@Sendable (ResponseStream) -> Void)?

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.headers = [("Content-Type", contentType)]
        self.body = body
    }

    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(WireJSON.encode(value)))
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, contentType: contentType, body: Array(text.utf8))
    }

    /// A body sent as it is produced (server-sent events, say), on a connection of its own.
    public static func streaming(contentType: String, _ body: @escaping @Sendable (ResponseStream) -> Void) -> HTTPResponse {
        var r = HTTPResponse(status: 200, contentType: contentType, body: [])
        r.stream = body
        return r
    }

    /// A JSON error body (`{"error":{"code","message"}}`), the form of every CHESS error.
    public static func error(status: Int, code: String, message: String) -> HTTPResponse {
        .json(ErrorBody(code: code, message: message), status: status)
    }

    static let reasons: [Int: String] = [
        200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
        403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 411: "Length Required",
        413: "Content Too Large", 422: "Unprocessable Content", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
        500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    ]

    func serialized(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasons[status] ?? "Status")\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if stream != nil {
            head += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n"
        } else {
            head += "Content-Length: \(body.count)\r\n"
        }
        if !keepAlive || stream != nil { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}

/// Reads requests out of a connection's byte stream; requests may arrive pipelined.
public struct HTTPRequestParser {
    public enum Failure: Error {
        case malformed(String)
        case headersTooLarge
        case bodyTooLarge
        case lengthRequired
    }

    static let maxHeaderBytes = 64 * 1024
    static let maxBodyBytes = 64 * 1024 * 1024

    private(set) var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 20 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes of a request not yet complete are waiting (a client that stops half-way).
    public var hasPartialRequest: Bool { buffer.count > start }

    /// The next complete request, nil when more bytes are needed.
    public mutating func next() throws(Failure) -> HTTPRequest? {
        let available = buffer.count - start
        guard available > 0 else { return nil }
        guard let headerEnd = findHeaderEnd() else {
            if available > HTTPRequestParser.maxHeaderBytes { throw .headersTooLarge }
            return nil
        }
        let head = String(decoding: buffer[start..<headerEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { throw .malformed("empty request") }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            throw .malformed("bad request line")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("bad header line") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = value
        }
        if headers["transfer-encoding"] != nil { throw .lengthRequired }
        var length = 0
        if let cl = headers["content-length"] {
            guard let n = Int(cl), n >= 0 else { throw .malformed("bad Content-Length") }
            guard n <= HTTPRequestParser.maxBodyBytes else { throw .bodyTooLarge }
            length = n
        }
        let bodyStart = headerEnd + 4
        guard buffer.count - bodyStart >= length else { return nil }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        start = bodyStart + length
        let target = String(requestLine[1])
        var path = target
        var query: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            for pair in target[target.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let raw = kv.count > 1 ? String(kv[1]).replacingOccurrences(of: "+", with: " ") : ""
                query[key] = raw.removingPercentEncoding ?? raw
            }
        }
        return HTTPRequest(method: String(requestLine[0]), path: path.removingPercentEncoding ?? path, query: query,
                           headers: headers, body: body, target: target)
    }

    private func findHeaderEnd() -> Int? {
        var i = start
        let end = buffer.count - 3
        while i < end {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }
}

/// The body of a streaming response, as its producer sees it.
public struct ResponseStream: Sendable {
    let sendChunk: @Sendable ([UInt8]) -> Bool

    /// Sends `bytes` as one chunk; false once the client is gone (the producer should stop).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.isEmpty || sendChunk(bytes)
    }

    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }
}
