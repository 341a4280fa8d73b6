import Billing
import ChessAPI
@testable import chessd
import ControllerCore
import Foundation
import MarketBridge
import SchedulerCore
import Testing

/// A marketplace job's record as the store keeps it: the funding written from its one encoding,
/// the settlement left to the `settlements` table, and records of the earlier layout still read.
@Suite("Job record format") struct JobRecordFormatTests {
    static func marketRecord() throws -> JobRecord {
        var r = JobRecord(job: Job(id: 7, name: "paid", user: "u", partition: "batch", qos: "normal", request: JobRequest(), submitTime: 100))
        let escrow = EscrowRecord(escrowID: "0x" + String(repeating: "ab", count: 32),
                                  payer: EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")!,
                                  amount: MicroUSDC(units: 1_000_000), transaction: "0x" + String(repeating: "cd", count: 32))
        let quote = QuoteResponse(partition: "batch", qos: "normal", resources: BillableResources(nodes: 1, cores: 2, memoryMB: 1024),
                                  timeLimit: 600, price: MicroUSDC(units: 13_333), requiredEscrow: MicroUSDC(units: 16_000), usageFactorPermille: 1000)
        let terms = SettlementCalculator.Terms(escrow: escrow, prices: PriceList(coreHour: MicroUSDC(units: 40_000)), usageFactorPermille: 1000)
        var m = MarketJob(funding: try MarketFunding(terms: terms, token: "mkt", fundedAt: 100, quote: quote), escrowState: .funded)
        m.started(at: 103)
        m.runs = [JobRun(start: 103, end: 105, ended: .preempted), JobRun(start: 107, end: 110, ended: .completed)]
        r.market = m
        return r
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// The funding is copied from its one encoding and the rest of the market part written by
    /// hand: the document is still the one `Codable` gives.
    @Test func marketPartIsWrittenAsFoundationWouldWriteIt() throws {
        var r = try Self.marketRecord()
        r.market!.settlementID = "0x" + String(repeating: "ef", count: 32)
        let streamed = try Self.object(try StreamingJSONEncoder().encode(r))
        let foundation = try Self.object(Array(try JSONEncoder().encode(r)))
        #expect(NSDictionary(dictionary: streamed).isEqual(to: foundation))
        let market = try #require(streamed["market"] as? [String: Any])
        #expect((market["funding"] as? [String: Any])?["token"] as? String == "mkt")
        let back = try JSONDecoder().decode(JobRecord.self, from: Data(try StreamingJSONEncoder().encode(r)))
        #expect(back.market?.terms == r.market?.terms)
        #expect(back.market?.quote == r.market?.quote)
        #expect(back.market?.startLatency == 3)
        #expect(back.market?.runs == r.market?.runs)
        #expect(back.market?.settlementID == r.market?.settlementID)
    }

    @Test func theSettlementStaysOutOfTheRecord() throws {
        var r = try Self.marketRecord()
        let calculator = SettlementCalculator(cluster: "c", provider: EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")!,
                                              policy: BillingPolicy(), sla: SLAPolicy())
        let s = try calculator.settle(jobID: 7, terms: r.market!.terms, allocated: BillableResources(nodes: 1, cores: 2, memoryMB: 1024),
                                      runs: r.market!.runs, endTime: 110, reason: "exited with 0")
        r.market!.settlement = s
        #expect(r.market?.settlementID == s.id)
        let json = try StreamingJSONEncoder().encode(r)
        let market = try #require(try Self.object(json)["market"] as? [String: Any])
        #expect(market["settlement"] == nil)
        #expect(market["settlementID"] as? String == s.id)
        let back = try JSONDecoder().decode(JobRecord.self, from: Data(json))
        #expect(back.market?.settlement == nil && back.market?.settlementID == s.id)
    }

    /// Records stored before the funding had its own object (terms, token, fundedAt and quote
    /// beside the escrow state, the whole settlement inside) are read as they were.
    @Test func recordsOfTheEarlierLayoutAreRead() throws {
        let r = try Self.marketRecord()
        var object = try Self.object(try StreamingJSONEncoder().encode(r))
        var market = try #require(object["market"] as? [String: Any])
        let funding = try #require(market.removeValue(forKey: "funding") as? [String: Any])
        market.merge(funding) { a, _ in a }
        market["settlement"] = ["id": "0xfeed"]
        object["market"] = market
        let old = try JSONSerialization.data(withJSONObject: object)
        // The earlier settlement held more than its id; only the id is read from it.
        let back = try JSONDecoder().decode(JobRecord.self, from: old)
        #expect(back.market?.terms == r.market?.terms)
        #expect(back.market?.quote == r.market?.quote)
        #expect(back.market?.funding.token == "mkt")
        #expect(back.market?.settlementID == "0xfeed")
    }

    /// A settlement's stored form is written by hand: it is the `Codable` document (sequence 0),
    /// signed or waiting for a price, with and without a dispute, and reads back whole.
    @Test func settlementsAreStoredAsCodableWritesThem() throws {
        let signer = try Secp256k1Signer(hexKey: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let calculator = SettlementCalculator(cluster: "c", provider: signer.address, policy: BillingPolicy(), sla: SLAPolicy())
        let r = try Self.marketRecord()
        let waiting = try calculator.settle(jobID: 7, terms: r.market!.terms, allocated: BillableResources(nodes: 1, cores: 2, memoryMB: 1024),
                                            runs: r.market!.runs, endTime: 110, reason: "exited with 0 \"quoted\"\n")
        var signed = waiting
        calculator.reward(&signed, cptPriceE8: 25_000_000)
        let domain = EIP712.Domain(name: "CHESS Escrow", version: "1", chainID: 8453,
                                   verifyingContract: EthereumAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")!)
        try SettlementSigner(domain: domain, signer: signer).sign(&signed)
        signed.sequence = 12
        signed.acknowledgedAt = 200
        signed.dispute = Settlement.Dispute(openedAt: 300, reason: "output empty")
        for s in [waiting, signed] {
            var expected = s
            expected.sequence = 0
            let stored = MarketTable.encode(s)
            let foundation = try Self.object(Array(try JSONEncoder().encode(expected)))
            #expect(NSDictionary(dictionary: try Self.object(Array(stored.utf8))).isEqual(to: foundation), "\(stored)")
            #expect(try JSONDecoder().decode(Settlement.self, from: Data(stored.utf8)) == expected)
        }
    }
}
