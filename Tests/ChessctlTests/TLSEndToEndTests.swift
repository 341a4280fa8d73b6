import ChessAPI
import Foundation
import Spawning
import Testing
import TransportSecurity

/// chessd's TCP listener with `[tls]`: a real agent that trusts the cluster's CA registers,
/// heartbeats and runs a job over it; a cleartext client, a client trusting another CA and
/// one expecting another name get nothing from it.
@Suite("TLS between chessd and its agents", .serialized)
struct TLSEndToEndTests {
    /// A CA and a certificate for `names`, made by scripts/make-tls.sh (OpenSSL).
    static func certificates(_ names: [String]) throws -> String {
        let dir = "/tmp/chess-tls-\(UUID().uuidString.prefix(8))"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/make-tls.sh").path
        let ran = try ChildProcess.run("/bin/bash", [script, dir] + names, timeout: 60)
        guard ran.status == 0 else { throw TestCluster.Failure("make-tls.sh failed (\(ran.status)): \(ran.stderrText)") }
        return dir
    }

    @Test func agentsSpeakTLSToChessdAndNothingElseIsAnswered() throws {
        // chessd's certificate names "localhost" only: dialled as 127.0.0.1, it must be told the name.
        let tls = try Self.certificates(["localhost"])
        let other = try Self.certificates(["127.0.0.1"])
        defer {
            try? FileManager.default.removeItem(atPath: tls)
            try? FileManager.default.removeItem(atPath: other)
        }
        let c = try EndToEndTests.Running(extra: """
            [tls]
            certificate = "\(tls)/chessd.crt"
            private_key = "\(tls)/chessd.key"
            """, agentArguments: ["--tls-ca", "\(tls)/ca.crt", "--tls-name", "localhost"])
        try c.wait("the agent to register over TLS") {
            try c.cluster.ctl(["nodes"]).stdout.contains("idle")
        }
        let id = try c.submit(["-o", "tls.out", "--wrap", "echo over tls"])
        try c.wait("the job to end") {
            try c.accounting().contains { $0["id"] as? Int == id && $0["state"] as? String == "COMPLETED" }
        }
        #expect(c.output("tls.out") == "over tls\n")

        let address = HostPort(c.cluster.listen!)!
        // Through TLS with the cluster's CA: answered.
        let trusted = try TLSClientTrust(caFile: "\(tls)/ca.crt", serverName: "localhost")
        let metrics = try ControllerClient(tcp: address, signer: nil, security: trusted.factory(host: "127.0.0.1")).request("GET", "/metrics")
        #expect(String(decoding: metrics, as: UTF8.self).contains("chess_jobs_ended_total"))
        // In clear text: the listener takes it for a broken handshake and answers nothing.
        #expect(throws: ControllerClient.Failure.self) { try ControllerClient(tcp: address, signer: nil).request("GET", "/metrics") }
        // Trusting another CA: chessd's certificate is refused before anything is sent.
        let stranger = try TLSClientTrust(caFile: "\(other)/ca.crt", serverName: "localhost")
        let refused = #expect(throws: ControllerClient.Failure.self) {
            try ControllerClient(tcp: address, signer: nil, security: stranger.factory(host: "127.0.0.1")).request("GET", "/metrics")
        }
        #expect(refused?.code == "tls", "\(String(describing: refused))")
        // The right CA, but checking the address dialled, which the certificate does not name.
        let misnamed = try TLSClientTrust(caFile: "\(tls)/ca.crt", serverName: nil)
        let wrongName = #expect(throws: ControllerClient.Failure.self) {
            try ControllerClient(tcp: address, signer: nil, security: misnamed.factory(host: "127.0.0.1")).request("GET", "/metrics")
        }
        #expect(wrongName?.code == "tls", "\(String(describing: wrongName))")
        // chessd went on serving its agent through all of it.
        #expect(c.cluster.log.contains("tls=on"))
        #expect(try c.cluster.ctl(["nodes"]).stdout.contains("idle"))
    }
}
