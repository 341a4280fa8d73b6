import Billing
import ChessAPI
import Foundation
import MarketBridge
import Testing

/// The fixtures the settlement tests share: a provider key, a domain, one funded job.
enum MarketFixture {
    static let providerKey = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    static let domain = EIP712.Domain(name: "CHESS Escrow", version: "1", chainID: 8453,
                                      verifyingContract: EthereumAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")!)
    static let payer = EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")!
    static let escrowID = "0x" + String(repeating: "ab", count: 32)
    static let prices = PriceList(coreHour: MicroUSDC(units: 50_000), gpuHour: MicroUSDC(units: 2_500_000),
                                  memoryGiBHour: MicroUSDC(units: 5_000))

    static func calculator() throws -> (SettlementCalculator, SettlementSigner) {
        let signer = try Secp256k1Signer(hexKey: providerKey)
        return (SettlementCalculator(cluster: "test", provider: signer.address, policy: BillingPolicy(), sla: SLAPolicy()),
                SettlementSigner(domain: domain, signer: signer))
    }

    static func terms(escrow: Int64 = 20_000_000, discount: BasisPoints = .percent(0), factor: Int64 = 1000) -> SettlementCalculator.Terms {
        SettlementCalculator.Terms(escrow: EscrowRecord(escrowID: escrowID, payer: payer, amount: MicroUSDC(units: escrow),
                                                         transaction: "0x" + String(repeating: "cd", count: 32), discount: discount),
                                   prices: prices, usageFactorPermille: factor)
    }

    static let resources = BillableResources(nodes: 1, cores: 8, memoryMB: 16384, gpus: ["": 1])
}

@Suite struct SettlementTests {
    @Test func settlesSignsAndVerifies() throws {
        let (calc, signer) = try MarketFixture.calculator()
        var s = try calc.settle(jobID: 42, terms: MarketFixture.terms(), allocated: MarketFixture.resources,
                                runs: [JobRun(start: 1000, end: 4600, ended: .completed)], endTime: 4600, reason: "exited with 0")
        // One hour: 8 × 0.05 + 1 × 2.5 + 16 × 0.005 = 2.98 USDC.
        #expect(s.split.cost.units == 2_980_000)
        #expect(s.split.platformFee.units == 89_400)
        #expect(s.split.userRefund.units == 17_020_000)
        #expect(s.outcome == .settled)
        calc.reward(&s, cptPriceE8: 25_000_000) // 0.25 USD per CPT
        #expect(s.userReward?.description == "0.238400000000000000")
        #expect(s.providerReward?.description == "0.357600000000000000")
        try signer.sign(&s)
        #expect(signer.verify(s))
        // The signer's type hash, computed once from its field table, is the one the struct's
        // own values give.
        #expect(signer.digest(s) == EIP712.digest(domain: MarketFixture.domain, message: SettlementSigner.typedStruct(s)))
        var unrewarded = s
        unrewarded.userReward = nil
        unrewarded.providerReward = nil
        #expect(signer.digest(unrewarded) == EIP712.digest(domain: MarketFixture.domain, message: SettlementSigner.typedStruct(unrewarded)))

        // A retry computes the same record and the same signature.
        var again = try calc.settle(jobID: 42, terms: MarketFixture.terms(), allocated: MarketFixture.resources,
                                    runs: [JobRun(start: 1000, end: 4600, ended: .completed)], endTime: 4600, reason: "exited with 0")
        calc.reward(&again, cptPriceE8: 25_000_000)
        try signer.sign(&again)
        #expect(again == s)

        // A tampered amount no longer verifies.
        var tampered = s
        tampered.split.providerPayout.units += 1
        #expect(!signer.verify(tampered))

        // The store writes settlements and terms with the streaming encoder: they come back whole.
        var stored = s
        stored.sequence = 7
        stored.acknowledgedAt = 5000
        stored.dispute = Settlement.Dispute(openedAt: 5100, reason: "the \"job\" never ran\n(said the user)")
        #expect(try JSONDecoder().decode(Settlement.self, from: Data(StreamingJSONEncoder().encode(stored))) == stored)
        let terms = MarketFixture.terms(discount: .percent(15))
        #expect(try JSONDecoder().decode(SettlementCalculator.Terms.self, from: Data(StreamingJSONEncoder().encode(terms))) == terms)
    }

    @Test func refundsAnEarlyProviderFailureInFull() throws {
        let (calc, _) = try MarketFixture.calculator()
        let s = try calc.settle(jobID: 7, terms: MarketFixture.terms(), allocated: MarketFixture.resources,
                                runs: [JobRun(start: 100, end: 399, ended: .nodeFailure)], endTime: 399, reason: "node failed")
        #expect(s.outcome == .refunded && s.split.userRefund.units == 20_000_000 && s.billedSeconds == 0)
        // Later than five minutes: charged only for the time delivered.
        let later = try calc.settle(jobID: 7, terms: MarketFixture.terms(), allocated: MarketFixture.resources,
                                    runs: [JobRun(start: 100, end: 1900, ended: .nodeFailure)], endTime: 1900, reason: "node failed")
        #expect(later.billedSeconds == 1800 && later.split.cost.units == 1_490_000)
    }

    @Test func chargesAPreemptedSpotJobForEachRun() throws {
        let (calc, _) = try MarketFixture.calculator()
        let runs = [JobRun(start: 0, end: 600, ended: .preempted), JobRun(start: 900, end: 1500, ended: .preempted),
                    JobRun(start: 2000, end: 4400, ended: .completed)]
        let s = try calc.settle(jobID: 9, terms: MarketFixture.terms(factor: 400), allocated: MarketFixture.resources,
                                runs: runs, endTime: 4400, reason: "exited with 0")
        #expect(s.billedSeconds == 3600)
        #expect(s.split.cost.units == 2_980_000 * 4 / 10)
    }

    @Test func settlementIDsAreStable() {
        let a = Settlement.settlementID(cluster: "c", jobID: 1, escrowID: MarketFixture.escrowID)
        #expect(a == Settlement.settlementID(cluster: "c", jobID: 1, escrowID: "0x" + String(repeating: "AB", count: 32)))
        #expect(a != Settlement.settlementID(cluster: "c", jobID: 2, escrowID: MarketFixture.escrowID))
        #expect(a.count == 66)
    }

    @Test func aSettlementIDEndsWithItsJob() {
        let id = Settlement.settlementID(cluster: "c", jobID: 0x1234_5678_9abc, escrowID: MarketFixture.escrowID)
        #expect(id.hasSuffix("0000123456789abc"))
        #expect(Settlement.jobID(inSettlementID: id) == 0x1234_5678_9abc)
        #expect(Settlement.jobID(inSettlementID: id.uppercased().replacingOccurrences(of: "0X", with: "0x")) == 0x1234_5678_9abc)
        // The hash part still tells clusters and escrows apart.
        let other = Settlement.settlementID(cluster: "d", jobID: 0x1234_5678_9abc, escrowID: MarketFixture.escrowID)
        #expect(other != id && other.hasSuffix("0000123456789abc"))
        #expect(Settlement.settlementID(cluster: "c", jobID: 0x1234_5678_9abc, escrowID: "0x" + String(repeating: "cd", count: 32)) != id)
        #expect(Settlement.jobID(inSettlementID: "0x1234") == nil)
        #expect(Settlement.jobID(inSettlementID: "0x" + String(repeating: "zz", count: 32)) == nil)
        #expect(Settlement.jobID(inSettlementID: "0x" + String(repeating: "ff", count: 32)) == nil, "above Int.max")
    }

    @Test func userSideEndsAreChargedWhateverTheirLength() {
        let sla = SLAPolicy()
        #expect(sla.billable([JobRun(start: 0, end: 10, ended: .failed)]) == SLAPolicy.Billable(seconds: 10, fullRefund: false))
        #expect(sla.billable([JobRun(start: 0, end: 10, ended: .cancelledByUser)]).seconds == 10)
        #expect(sla.billable([]).fullRefund)
        // An early node failure, requeued, then a run to the end: the failed run is not charged.
        #expect(sla.billable([JobRun(start: 0, end: 120, ended: .nodeFailure), JobRun(start: 500, end: 1500, ended: .completed)])
                == SLAPolicy.Billable(seconds: 1000, fullRefund: false))
        // A long run lost to a node failure is charged for what it delivered.
        #expect(sla.billable([JobRun(start: 0, end: 900, ended: .nodeFailure), JobRun(start: 1000, end: 1100, ended: .completed)]).seconds == 1000)
    }
}

@Suite struct EscrowStateTests {
    @Test func followsTheLifeCycle() throws {
        var s = EscrowState.quoted
        for e in [EscrowState.Event.fund, .start, .requeue, .start, .settle, .dispute] { s = try s.applying(e) }
        #expect(s == .disputed)
        #expect(try EscrowState.funded.applying(.refund) == .refunded)
    }

    @Test func refusesEveryOtherTransition() {
        let allowed: Set<String> = ["quoted-fund", "funded-start", "running-requeue", "running-settle", "running-refund",
                                    "funded-refund", "settled-dispute", "refunded-dispute"]
        let events: [EscrowState.Event] = [.fund, .start, .requeue, .settle, .refund, .dispute]
        for state in EscrowState.allCases {
            for event in events {
                let key = "\(state.rawValue)-\(event.rawValue)"
                let result = try? state.applying(event)
                #expect((result != nil) == allowed.contains(key), "\(key)")
            }
        }
    }

    @Test func checksTheEscrowRecord() {
        let policy = BillingPolicy()
        var e = MarketFixture.terms().escrow
        #expect(e.problem(requiredEscrow: MicroUSDC(units: 20_000_000), policy: policy) == nil)
        #expect(e.problem(requiredEscrow: MicroUSDC(units: 20_000_001), policy: policy)?.contains("does not cover") == true)
        e.escrowID = "42"
        #expect(e.problem(requiredEscrow: .zero, policy: policy)?.contains("escrow_id") == true)
    }
}

@Suite struct OracleGuardTests {
    let guardian = OracleGuard(sources: ["chainlink", "pyth", "kraken"])

    @Test func usesTheMedianOfGoodPrices() {
        let r = [OracleReading(source: "chainlink", priceE8: 100_000_000, time: 1000),
                 OracleReading(source: "pyth", priceE8: 102_000_000, time: 1100),
                 OracleReading(source: "kraken", priceE8: 150_000_000, time: 1200)]
        // kraken is 47% above the median (1.02): refused; the median of the other two is 1.01.
        #expect(guardian.evaluate(r, now: 2000) == .accepted(priceE8: 101_000_000, sources: ["chainlink", "pyth"]))
    }

    @Test func refusesStaleAndUnknownPrices() {
        let stale = [OracleReading(source: "chainlink", priceE8: 100_000_000, time: 0)]
        guard case .refused(let why) = guardian.evaluate(stale, now: 3601) else { Issue.record("stale price accepted"); return }
        #expect(why.contains("older"))
        guard case .refused = guardian.evaluate([OracleReading(source: "me", priceE8: 1, time: 0)], now: 0) else {
            Issue.record("unconfigured source accepted"); return
        }
        // Exactly one hour old is still good; one second more is not.
        #expect(guardian.evaluate(stale, now: 3600) == .accepted(priceE8: 100_000_000, sources: ["chainlink"]))
    }

    @Test func waitsWhenSourcesDisagree() {
        let r = [OracleReading(source: "chainlink", priceE8: 100_000_000, time: 0),
                 OracleReading(source: "pyth", priceE8: 130_000_000, time: 0)]
        guard case .refused = guardian.evaluate(r, now: 10) else { Issue.record("disagreeing prices accepted"); return }
    }
}
