import ChessAPI
import Foundation
import Glibc
import Testing

/// One request must not stop chessd. Each body here stopped it before (a trap or a stack
/// overflow in the daemon); now each is answered with a 4xx naming the problem, and chessd
/// answers the next request.
@Suite("chessd under hostile requests", .serialized)
struct HostileRequestTests {
    static let script = #"#!/bin/sh\ntrue\n"#

    /// (what, method, target, body): sent on the Unix socket as root (an administrator reaches
    /// every route).
    static let local: [(String, String, String, String)] = [
        ("nested arrays", "POST", "/v1/jobs", String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)),
        ("nested unknown field", "POST", "/v1/jobs",
         #"{"script":"\#(script)","x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"),
        ("nested config", "POST", "/v1/config/qos/x", #"{"a":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"),
        ("ntasks near Int.max over 2 nodes", "POST", "/v1/jobs", #"{"script":"\#(script)","ntasks":9223372036854775807,"nodes":2}"#),
        ("ntasks at 2^53 - 1", "POST", "/v1/jobs", #"{"script":"\#(script)","ntasks":9007199254740991,"nodes":2}"#),
        ("memory per CPU times CPUs", "POST", "/v1/jobs", #"{"script":"\#(script)","mem_per_cpu_mb":4611686018427387904,"ntasks":8}"#),
        ("licenses summing past Int.max", "POST", "/v1/jobs",
         #"{"script":"\#(script)","licenses":"matlab:9223372036854775807,matlab:9223372036854775807"}"#),
        ("lone surrogate after a high one", "POST", "/v1/jobs", #"{"script":"\#(script)","name":"\ud800\u0041","hold":true}"#),
        ("time limit Int.max", "POST", "/v1/jobs", #"{"script":"\#(script)","time_limit":9007199254740991}"#),
        ("nice Int.min", "POST", "/v1/jobs", #"{"script":"\#(script)","nice":-9223372036854775808}"#),
        ("ntasks -2^63", "POST", "/v1/jobs", #"{"script":"\#(script)","ntasks":-9223372036854775808}"#),
        ("report over all of time", "GET", "/v1/reports/utilization?start=-9223372036854775808&end=9223372036854775807", ""),
        ("accounting from -2^63", "GET", "/v1/accounting?start=-9223372036854775808", ""),
        ("update time limit Int.max", "PATCH", "/v1/jobs/1", #"{"time_limit":9223372036854775807}"#),
        ("host list product", "POST", "/v1/jobs", #"{"script":"\#(script)","nodelist":"n[1-1000]x[1-1000]y[1-1000]"}"#),
    ]

    func exchange(_ fd: Int32, _ request: [UInt8]) -> String {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    func request(_ method: String, _ target: String, _ body: String, headers: [String] = []) -> [UInt8] {
        let head = ["\(method) \(target) HTTP/1.1", "Host: chessd", "Content-Length: \(body.utf8.count)", "Connection: close"] + headers
        return Array((head.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    func tcp(_ listen: String) throws -> Int32 {
        let port = UInt16(listen.split(separator: ":").last!)!
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw TestCluster.Failure("cannot connect to \(listen)") }
        return fd
    }

    @Test func eachHostileRequestIsAnsweredAndChessdStaysUp() throws {
        let cluster = try TestCluster(config: "licenses = { matlab = 4 }\n" + TestCluster.defaultConfig, withAgents: true)
        try cluster.start()
        for (what, method, target, body) in Self.local {
            let answer = exchange(try UnixSocket.connect(cluster.socket), request(method, target, body))
            let status = answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
            // A lone surrogate is read as U+FFFD (the job is taken, held); the rest are refused.
            let expected = what.hasPrefix("lone surrogate") ? 201..<202 : 400..<500
            #expect(expected.contains(status), "\(what): \(answer.prefix(300))")
            let ping = try cluster.ctl(["ping"])
            #expect(ping.status == 0, "chessd stopped after: \(what)\n\(cluster.log.suffix(2000))")
            if ping.status != 0 { return }
        }
        // On TCP, before any signature is checked: a timestamp at either end of Int.
        for stamp in ["-9223372036854775808", "9223372036854775807"] {
            let answer = exchange(try tcp(cluster.listen!), request("POST", "/v1/agent/heartbeat", "{}", headers: [
                "Authorization: CHESS-HMAC-SHA256 n01:00", "X-Chess-Timestamp: \(stamp)", "X-Chess-Nonce: x",
            ]))
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer.prefix(300))")
            #expect(try cluster.ctl(["ping"]).status == 0, "chessd stopped after the timestamp \(stamp)")
        }
    }
}
