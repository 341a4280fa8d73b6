import Billing
import ChessAPI
import Foundation
import Glibc
import MarketBridge
import Testing

/// The marketplace against a real cluster: a token from chessctl, a quote, a funded job that
/// runs as a real process, its settlement waiting for an oracle price, signed, offered on the
/// feed, the same after kill -9, acknowledged, disputed; invoices, SLA figures, rate limit.
@Suite("Marketplace end to end", .serialized)
struct MarketEndToEndTests {
    static let providerKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    static let escrowID = "0x" + String(repeating: "5e", count: 32)
    static let payer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

    static func running() throws -> EndToEndTests.Running {
        try EndToEndTests.Running(
            partitionExtra: #"prices = { core_hour = "0.36", mem_gib_hour = "0.036" }"#,
            extra: """
                [billing]
                platform_fee = "3"
                [market]
                chain_id = 8453
                escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                provider_key_file = "provider.key"
                oracle_sources = ["chainlink", "pyth"]
                rate_limit_per_minute = 100
                """,
            files: ["provider.key": "0x\(providerKey)\n"])
    }

    /// JSON over TCP with the token, as the marketplace calls.
    struct Market {
        let client: ControllerClient
        init(_ listen: String, token: String) {
            client = ControllerClient(tcp: HostPort(listen)!, signer: { _, _, _ in [("Authorization", "Bearer \(token)")] })
        }
        func call(_ method: String, _ target: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
            let data = try client.request(method, target, body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
        /// The error code of a refused call (with its message: `code: message`), nil if it succeeded.
        func failure(_ method: String, _ target: String, _ body: [String: Any]? = nil, message: Bool = false) -> String? {
            do {
                _ = try call(method, target, body)
                return nil
            } catch let e as ControllerClient.Failure {
                return message ? "\(e.code ?? "?"): \(e.description)" : e.code
            } catch { return "\(error)" }
        }
    }

    @Test func aFundedJobIsSettledSignedAndSurvivesACrash() throws {
        let c = try Self.running()
        do { try scenario(c) } catch {
            Issue.record("\(error)\nchessd log:\n\(c.cluster.log.suffix(3000))")
        }
    }

    func scenario(_ c: EndToEndTests.Running) throws {
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }

        // Marketplace jobs never run as root: as nobody here (when the tests run as root), in a
        // folder of nobody's. A token for root is refused.
        let marketUser = getuid() == 0 ? "nobody" : currentUserName
        let folder = c.cluster.directory.appendingPathComponent("market").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 {
            chown(folder, 65534, 65534)
            let root = try c.cluster.ctl(["market", "token", "create", "rooted", "--scopes", "read,submit", "--user", "root"])
            #expect(root.status != 0 && root.stderr.contains("cannot run them as root"), "\(root.stderr)")
        }
        // A token, from chessctl; its secret is shown once.
        let created = try c.cluster.ctl(["market", "token", "create", "mkt", "--scopes", "read,submit,settle,oracle",
                                         "--user", marketUser, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let m = Market(c.cluster.listen!, token: token)
        #expect(Market(c.cluster.listen!, token: "chess_wrong").failure("GET", "/v1/market/prices") == "unauthorized")

        let prices = try m.call("GET", "/v1/market/prices")
        #expect(((prices["prices"] as? [[String: Any]])?.first?["prices"] as? [String: Any])?["core_hour"] as? String == "0.360000")

        // 2 cores and 1 GiB for 10 minutes: (0.72 + 0.036) / 6 = 0.126 USDC; escrow 120% = 0.1512.
        let job: [String: Any] = ["script": "#!/bin/sh\nsleep 1\necho paid\n", "partition": "batch", "cpus_per_task": 2,
                                  "mem_mb": 1024, "time_limit": 600, "workdir": folder,
                                  "output": folder + "/market-%j.out"]
        let quote = try m.call("POST", "/v1/market/quote", job)
        #expect(quote["price"] as? String == "0.126000")
        #expect(quote["required_escrow"] as? String == "0.151200")

        func escrow(_ amount: String) -> [String: Any] {
            ["escrow_id": Self.escrowID, "payer": Self.payer, "amount": amount, "transaction": "0x" + String(repeating: "77", count: 32)]
        }
        #expect(m.failure("POST", "/v1/market/jobs", ["job": job, "escrow": escrow("0.151199")]) == "escrow_insufficient")
        let submitted = try m.call("POST", "/v1/market/jobs", ["job": job, "escrow": escrow("1")])
        let id = try #require(submitted["id"] as? Int)
        #expect(["funded", "running"].contains(submitted["escrow_state"] as? String ?? ""))
        // One escrow funds one job.
        #expect(m.failure("POST", "/v1/market/jobs", ["job": job, "escrow": escrow("1")]) == "conflict")

        // It runs and ends; no oracle price yet, so the settlement waits, unsigned, off the feed.
        // (Waited for on the socket: polling the token's routes would spend its 100 a minute.)
        try c.wait("the job to end") { try c.jobs().isEmpty }
        #expect(c.output("market/market-\(id).out").contains("paid"))
        let status = try m.call("GET", "/v1/market/jobs/\(id)")
        let shown = (try? c.cluster.ctl(["show", "job", "\(id)", "--json"]).stdout) ?? ""
        let agentLog = (try? String(contentsOfFile: c.cluster.directory.appendingPathComponent("agent.log").path, encoding: .utf8)) ?? ""
        #expect(status["state"] as? String == "COMPLETED", "\(shown)\nagent log:\n\(agentLog)")
        #expect(status["escrow_state"] as? String == "settled")
        #expect((status["start_latency"] as? Int ?? -1) >= 0)
        var feed = try m.call("GET", "/v1/market/settlements?after=0")
        #expect((feed["settlements"] as? [Any])?.isEmpty == true)
        #expect(feed["awaiting_price"] as? Int == 1)

        // A stale price is refused for rewards; a good one signs the waiting settlement.
        let now = Int(Date().timeIntervalSince1970)
        _ = try m.call("PUT", "/v1/market/oracle/chainlink", ["price": "0.5", "time": now - 7200])
        #expect(((try m.call("GET", "/v1/market/settlements?after=0"))["settlements"] as? [Any])?.isEmpty == true)
        #expect(m.failure("PUT", "/v1/market/oracle/nobody", ["price": "0.5", "time": now]) == "not_found")
        // The streaming form is open before the settlement is signed, and gets it when it is.
        let stream = try EventStream(c.cluster.listen!, path: "/v1/market/settlements/stream?after=0", token: token)
        #expect(stream.read(until: "\r\n\r\n").contains("Content-Type: text/event-stream"))
        _ = try m.call("PUT", "/v1/market/oracle/chainlink", ["price": "0.5", "time": now])
        let event = stream.read(until: "\n\n")
        #expect(event.contains("id: 1\nevent: settlement\ndata: {"), "\(event)")
        #expect(event.contains("\"job_id\":\(id)"), "\(event)")
        stream.close()
        feed = try m.call("GET", "/v1/market/settlements?after=0&wait=5")
        let settlements = try #require(feed["settlements"] as? [[String: Any]])
        try #require(settlements.count == 1)
        let s = settlements[0]
        #expect(s["job_id"] as? Int == id)
        #expect(s["outcome"] as? String == "settled")
        func micro(_ key: String) -> Int64 { MicroUSDC(parsing: s[key] as? String ?? "")?.units ?? -1 }
        #expect(micro("escrow") == 1_000_000)
        #expect(micro("provider_payout") + micro("platform_fee") + micro("user_refund") == micro("escrow"))
        #expect(micro("cost") > 0 && micro("cost") < 126_000)
        #expect(s["cpt_price_e8"] as? Int == 50_000_000)

        // The signature recovers to the provider's address (the key in provider.key).
        let signer = try Secp256k1Signer(hexKey: Self.providerKey)
        #expect(s["provider"] as? String == signer.address.checksummed)
        let digest = try #require(HexBytes.decode(s["digest"] as? String ?? "", length: 32))
        let signature = try #require(HexBytes.decode(s["signature"] as? String ?? "", length: 65))
        #expect(signer.recover(digest: digest, signature: signature) == signer.address)
        #expect((s["typed_data"] as? [String: Any])?["primaryType"] as? String == "Settlement")

        // kill -9 before the marketplace acknowledges: after the restart the feed offers the same
        // settlement, same id and signature, once.
        c.cluster.crash()
        try c.cluster.start()
        m.client.disconnect()
        let again = try m.call("GET", "/v1/market/settlements?after=0")
        let replay = try #require(again["settlements"] as? [[String: Any]])
        #expect(replay.count == 1)
        #expect(replay.first?["id"] as? String == s["id"] as? String)
        #expect(replay.first?["signature"] as? String == s["signature"] as? String)
        #expect(replay.first?["sequence"] as? Int == s["sequence"] as? Int)
        // The escrow is spent: funding another job with it is refused, also after a restart.
        let reuse = m.failure("POST", "/v1/market/jobs", ["job": job, "escrow": escrow("1")], message: true) ?? "accepted"
        #expect(reuse.hasPrefix("conflict") && reuse.contains("already funded job \(id)"), "\(reuse)")
        // The job's status names its settlement (read back from the store after the restart).
        #expect(try m.call("GET", "/v1/market/jobs/\(id)")["settlement_id"] as? String == s["id"] as? String)
        let next = try #require(again["next"] as? Int)
        #expect(((try m.call("GET", "/v1/market/settlements?after=\(next)"))["settlements"] as? [Any])?.isEmpty == true)

        // Acknowledge (twice is harmless), dispute once within the window.
        let settlementID = try #require(s["id"] as? String)
        let acked = try m.call("POST", "/v1/market/settlements/\(settlementID)/ack")
        #expect(acked["acknowledged_at"] as? Int != nil)
        _ = try m.call("POST", "/v1/market/settlements/\(settlementID)/ack")
        let disputed = try m.call("POST", "/v1/market/settlements/\(settlementID)/dispute", ["reason": "job output empty"])
        #expect(disputed["outcome"] as? String == "disputed")
        #expect(disputed["signature"] as? String == s["signature"] as? String)
        #expect(disputed["provider_payout"] as? String == s["provider_payout"] as? String)
        #expect(m.failure("POST", "/v1/market/settlements/\(settlementID)/dispute", ["reason": "again"]) == "conflict")

        // chessctl sees the same.
        let show = try c.cluster.ctl(["settlement", "show", "\(id)"])
        #expect(show.status == 0 && show.stdout.contains(settlementID) && show.stdout.contains("job output empty"), "\(show.stdout)\(show.stderr)")
        let list = try c.cluster.ctl(["settlement", "list"])
        #expect(list.stdout.contains("disputed"), "\(list.stdout)")
        let invoice = try c.cluster.ctl(["invoice", "--by", "user", "--json"])
        let invoices = (try JSONSerialization.jsonObject(with: Data(invoice.stdout.utf8)) as? [String: Any])?["invoices"] as? [[String: Any]]
        #expect(invoices?.first?["total"] as? String == s["cost"] as? String, "\(invoice.stdout)")

        let sla = try m.call("GET", "/v1/market/sla")
        #expect(sla["jobs_started"] as? Int == 1 && sla["started_promptly"] as? Int == 1 && sla["sla_refunds"] as? Int == 0, "\(sla)")

        // The SLA: a job the provider ends within 5 minutes of its start (here an admin's cancel;
        // its user is another) is refunded in full, and counted as such. Needs root, to run the
        // job as that other user.
        if getuid() == 0 {
            let created = try c.cluster.ctl(["market", "token", "create", "other", "--scopes", "read,submit,settle",
                                             "--user", "nobody", "--json"])
            let otherToken = try #require((try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["token"] as? String)
            var long = job
            long["script"] = "#!/bin/sh\nsleep 60\n"
            let other = ["escrow_id": "0x" + String(repeating: "e5", count: 32), "payer": Self.payer, "amount": "1",
                         "transaction": "0x" + String(repeating: "78", count: 32)]
            let funded = try Market(c.cluster.listen!, token: otherToken).call("POST", "/v1/market/jobs", ["job": long, "escrow": other])
            let cancelled = try #require(funded["id"] as? Int)
            // Waited for on the socket (the tokens' routes are rate-limited).
            try c.wait("the job to run") { try c.jobs().contains { $0["id"] as? Int == cancelled && $0["state"] as? String == "RUNNING" } }
            #expect(try c.cluster.ctl(["cancel", "\(cancelled)"]).status == 0)
            try c.wait("the job to end") { try !c.jobs().contains { $0["id"] as? Int == cancelled } }
            // Each token sees the jobs and settlements it funded, and no other's.
            let theirs = Market(c.cluster.listen!, token: otherToken)
            #expect(m.failure("GET", "/v1/market/jobs/\(cancelled)") == "not_found")
            #expect(m.failure("POST", "/v1/market/jobs/\(cancelled)/cancel") == "not_found")
            #expect(theirs.failure("GET", "/v1/market/jobs/\(id)") == "not_found")
            let mine = try m.call("GET", "/v1/market/settlements?after=\(next)&wait=1")
            #expect((mine["settlements"] as? [[String: Any]])?.contains { $0["job_id"] as? Int == cancelled } == false, "\(mine)")
            #expect(m.failure("POST", "/v1/market/settlements/\(cancelled)/ack") == "not_found")
            let refunds = try theirs.call("GET", "/v1/market/settlements?after=\(next)&wait=5")
            let refund = (refunds["settlements"] as? [[String: Any]])?.first { $0["job_id"] as? Int == cancelled }
            #expect(refund?["outcome"] as? String == "refunded", "\(refunds)")
            #expect(refund?["cost"] as? String == "0.000000" && refund?["user_refund"] as? String == "1.000000", "\(refunds)")
            let after = try m.call("GET", "/v1/market/sla")
            #expect(after["jobs_started"] as? Int == 2 && after["sla_refunds"] as? Int == 1 && after["provider_failures"] as? Int == 1, "\(after)")
        }

        // Prices change at run time and survive a restart; the funded job kept its own.
        #expect(try c.cluster.ctl(["price", "set", "batch", "core_hour=0.50"]).status == 0)
        c.cluster.stop()
        try c.cluster.start()
        m.client.disconnect()
        #expect(try c.cluster.ctl(["price", "list"]).stdout.contains("0.500000"))

        // A pending marketplace job keeps the partition and QoS its escrow was quoted for.
        var held = job
        held["hold"] = true
        let heldEscrow = ["escrow_id": "0x" + String(repeating: "5a", count: 32), "payer": Self.payer, "amount": "1",
                          "transaction": "0x" + String(repeating: "79", count: 32)]
        let heldID = try #require(try m.call("POST", "/v1/market/jobs", ["job": held, "escrow": heldEscrow])["id"] as? Int)
        let moved = try c.cluster.ctl(["update", "\(heldID)", "partition=gpu"])
        #expect(moved.status == 1 && moved.stderr.contains("is a marketplace job: its escrow was quoted for partition batch"), "\(moved.stderr)")
        #expect(try c.cluster.ctl(["cancel", "\(heldID)"]).status == 0)

        // The rate limit: 100 a minute per token.
        var limited = false
        for _ in 0..<150 where !limited { limited = m.failure("GET", "/v1/market/prices") == "rate_limited" }
        #expect(limited)

        // Revoked tokens stop at once.
        #expect(try c.cluster.ctl(["market", "token", "revoke", "mkt"]).status == 0)
        #expect(m.failure("GET", "/v1/market/sla") == "unauthorized")
    }
}

/// A raw TCP connection reading a streaming response (server-sent events) as it arrives.
final class EventStream {
    let fd: Int32
    private var received = ""

    init(_ listen: String, path: String, token: String) throws {
        let hp = HostPort(listen)!
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = hp.port.bigEndian
        inet_pton(AF_INET, hp.host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw ConnectFailure(description: "cannot connect to \(listen)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET \(path) HTTP/1.1\r\nHost: chessd\r\nAuthorization: Bearer \(token)\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// What arrived up to and including `needle` (or all of it after 10 s without it).
    func read(until needle: String) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.contains(needle) {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        guard let range = received.range(of: needle) else { defer { received = "" }; return received }
        defer { received = String(received[range.upperBound...]) }
        return String(received[..<range.upperBound])
    }

    func close() { Glibc.close(fd) }

    struct ConnectFailure: Error, CustomStringConvertible {
        let description: String
    }
}

/// The name of the user running the tests (getpwuid_r: tests run in parallel threads).
var currentUserName: String {
    var entry = passwd()
    var found: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getpwuid_r(getuid(), &entry, &buffer, buffer.count, &found) == 0, found != nil else { return "\(getuid())" }
    return String(cString: entry.pw_name)
}
