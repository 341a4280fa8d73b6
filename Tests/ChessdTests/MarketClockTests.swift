import Billing
import ChessAPI
@testable import chessd
import ControllerCore
import Foundation
import Glibc
import MarketBridge
import Testing

/// The marketplace's money on the virtual clock: what a job is charged depends on seconds (the
/// seconds it ran, the SLA's five minutes after a start), so each case moves the clock to the
/// second and reads the settlement written with the job's end.
@Suite("marketplace settlements on a virtual clock") struct MarketClockTests {
    /// One core is 0.36 USDC an hour: 100 micro-USDC a second. Fee 3 %.
    static let config = ControllerHarness.config.replacingOccurrences(of: """
        default_time = "1:00:00"
        """, with: """
        default_time = "1:00:00"
        prices = { core_hour = "0.36" }
        """) + """

        [billing]
        platform_fee = "3"
        [market]
        chain_id = 8453
        escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        provider_key_file = "provider.key"
        oracle_sources = ["chainlink"]
        """
    static let providerKey = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n"
    static let admin = Identity(user: "root", uid: 0, gid: 0, admin: true)

    func harness() throws -> ControllerHarness {
        let h = try ControllerHarness(config: Self.config, files: ["provider.key": Self.providerKey])
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        return h
    }

    /// A one-core job for an hour at most, funded with 1 USDC, submitted as the marketplace does.
    func submit(_ h: ControllerHarness, escrow n: Int) throws -> Int {
        let token = MarketTable.Token(name: "mkt", hash: "", scopes: ["submit", "read"], user: "nobody", createdAt: 0, revokedAt: nil)
        var job = JobSubmission()
        job.script = "#!/bin/sh\ntrue\n"
        job.ntasks = 1
        job.memMB = 100
        job.timeLimit = 3_600
        job.workdir = "/tmp"
        let funding = EscrowFunding(escrowID: "0x" + String(format: "%064x", n), payer: "0x" + String(repeating: "ab", count: 20),
                                    amount: MicroUSDC(parsing: "1")!, transaction: "0x" + String(repeating: "77", count: 32))
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Int, APIError>?
        h.controller.submitMarket(MarketSubmission(job: job, escrow: funding), token: token) {
            result = $0
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        return try result!.get()
    }

    func settlement(_ h: ControllerHarness, _ id: Int) throws -> SettlementInfo {
        try #require(try h.controller.settlements(start: 0, end: h.clock.now() + 1).first { $0.jobID == id })
    }

    /// Advances in heartbeats of every agent (a silent one would lose its nodes).
    func run(_ h: ControllerHarness, for seconds: Int) throws {
        var left = seconds
        while left > 0 {
            let step = min(left, 60)
            h.advance(step)
            _ = try h.heartbeat("host1")
            _ = try h.heartbeat("host2")
            left -= step
        }
    }

    @Test func aJobIsChargedForTheSecondsItRan() throws {
        let h = try harness()
        let id = try submit(h, escrow: 1)
        h.pass()
        #expect(try h.state(id) == "RUNNING")
        try run(h, for: 600)
        _ = try h.heartbeat("host1", completions: [h.completion(id)])
        let s = try settlement(h, id)
        #expect(s.outcome == "settled")
        #expect(s.billedSeconds == 600)
        #expect(s.cost.units == 60_000)
        #expect(s.platformFee.units == 1_800)
        #expect(s.providerPayout.units == 58_200)
        #expect(s.userRefund.units == 1_000_000 - 60_000)
        #expect(s.cost.units + s.userRefund.units == s.escrow.units)
    }

    /// Time suspended is not delivered: a job run for 600 s with 100 s of it suspended by an
    /// administrator is charged for 500.
    @Test func suspendedTimeIsNotCharged() throws {
        let h = try harness()
        let id = try submit(h, escrow: 9)
        h.pass()
        try run(h, for: 200)
        #expect(try h.perform(.suspend, id, as: Self.admin).state == "SUSPENDED")
        try run(h, for: 100)
        #expect(try h.perform(.resume, id, as: Self.admin).state == "RUNNING")
        try run(h, for: 300)
        _ = try h.heartbeat("host1", completions: [h.completion(id)])
        let s = try settlement(h, id)
        #expect(s.billedSeconds == 500)
        #expect(s.cost.units == 50_000)
        #expect(s.cost.units + s.userRefund.units == s.escrow.units)
    }

    /// A provider-side end (an administrator's cancel) within five minutes of the start refunds
    /// the escrow in full; a second later, the seconds delivered are charged.
    @Test(arguments: [(299, 0), (300, 30_000), (301, 30_100)])
    func anAdministratorsCancelRefundsInFullWithinFiveMinutes(_ after: Int, _ cost: Int64) throws {
        let h = try harness()
        let id = try submit(h, escrow: 2)
        h.pass()
        try run(h, for: after)
        #expect(try h.perform(.cancel, id, as: Self.admin).state == "COMPLETING")
        h.advance(2)
        _ = try h.heartbeat("host1", completions: [h.completion(id, state: "CANCELLED", exitCode: 143)])
        #expect(try h.state(id) == "CANCELLED")
        let s = try settlement(h, id)
        #expect(s.cost.units == cost, "cancelled \(after) s after its start: \(s.outcome), \(s.billedSeconds) s billed")
        #expect(s.userRefund.units == 1_000_000 - cost)
    }

    /// A run the provider lost within five minutes of its own start (its agent fell silent) is
    /// not charged; the run that followed and completed is.
    @Test func aRunLostWithinFiveMinutesIsNotCharged() throws {
        let h = try harness()
        let id = try submit(h, escrow: 3)
        h.pass()
        #expect(try h.job(id).nodeList == "n1")
        // host1 falls silent; past the 90 s timeout the job is requeued and runs on n3.
        for _ in 0..<4 {
            h.advance(30)
            _ = try h.heartbeat("host2")
            h.pass()
        }
        h.pass()
        let again = try h.job(id)
        #expect(again.state == "RUNNING")
        #expect(again.nodeList == "n3")
        h.register("host1", ["n1", "n2"])
        try run(h, for: 1_000)
        _ = try h.heartbeat("host2", completions: [h.completion(id, run: 1)])
        let s = try settlement(h, id)
        #expect(s.runs.count == 2)
        #expect(s.billedSeconds == 1_000)
        #expect(s.cost.units == 100_000)
    }
}
