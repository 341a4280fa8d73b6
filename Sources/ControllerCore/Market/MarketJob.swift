import Billing
import ChessAPI
import MarketBridge
import SchedulerCore

/// What the controller keeps with a marketplace job: the terms it was funded on, where its
/// escrow stands, its runs (what it is billed for), and at its end the settlement's id. It lives
/// in the job's record, so it is written in the same transactions as the job's state.
package struct MarketJob: Codable, Sendable {
    /// Fixed when the job is funded, and stored with every save of the record: encoded once.
    package let funding: MarketFunding
    package var escrowState: EscrowState
    package var firstStart: Int?
    package var runs: [JobRun] = []
    /// Set when the job ends. The settlement itself is stored only in the `settlements` table.
    package var settlementID: String?
    /// The settlement made at the job's end, on its way to the `settlements` table in the
    /// transaction of the job's final state (`MarketWrites`); not part of the record's JSON.
    package var settlement: Settlement? {
        didSet { settlementID = settlement?.id ?? settlementID }
    }

    package init(funding: MarketFunding, escrowState: EscrowState) {
        self.funding = funding
        self.escrowState = escrowState
    }

    package var terms: SettlementCalculator.Terms { funding.terms }
    package var quote: QuoteResponse { funding.quote }

    /// The escrow follows the job (its state machine refuses what the life cycle does not allow;
    /// such a refusal would be a controller bug, so it is logged by the caller, not fatal).
    package mutating func started(at now: Int) {
        firstStart = firstStart ?? now
        escrowState = (try? escrowState.applying(.start)) ?? escrowState
    }

    package mutating func requeued(run: JobRun) {
        runs.append(run)
        escrowState = (try? escrowState.applying(.requeue)) ?? escrowState
    }

    package var startLatency: Int? { firstStart.map { $0 - funding.fundedAt } }

    enum CodingKeys: String, CodingKey {
        case funding, escrowState, firstStart, runs, settlementID
        /// Records written before the funding was its own object held these at the top level,
        /// with the whole settlement.
        case terms, token, fundedAt, quote, settlement
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.funding) {
            funding = try c.decode(MarketFunding.self, forKey: .funding)
        } else {
            funding = try MarketFunding(terms: c.decode(SettlementCalculator.Terms.self, forKey: .terms), token: c.decode(String.self, forKey: .token),
                                        fundedAt: c.decode(Int.self, forKey: .fundedAt), quote: c.decode(QuoteResponse.self, forKey: .quote))
        }
        escrowState = try c.decode(EscrowState.self, forKey: .escrowState)
        firstStart = try c.decodeIfPresent(Int.self, forKey: .firstStart)
        runs = try c.decodeIfPresent([JobRun].self, forKey: .runs) ?? []
        settlementID = try c.decodeIfPresent(String.self, forKey: .settlementID)
            ?? c.decodeIfPresent(SettlementReference.self, forKey: .settlement)?.id
    }

    private struct SettlementReference: Decodable { var id: String }

    package func encode(to encoder: Encoder) throws {
        // Written by hand into the store's encoder: the same JSON as below (a test holds them
        // together), without the generic machinery, in each save of a marketplace job's record.
        if let sink = encoder as? PreEncodedJSONSink {
            var w = JSONWriter()
            w.beginObject()
            w.rawField(CodingKeys.funding.stringValue, funding.json)
            w.field(CodingKeys.escrowState.stringValue, escrowState.rawValue)
            w.field(CodingKeys.firstStart.stringValue, firstStart)
            w.field(CodingKeys.runs.stringValue, runs)
            w.field(CodingKeys.settlementID.stringValue, settlementID)
            w.endObject()
            return sink.appendPreEncoded(w.bytes)
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(funding, forKey: .funding)
        try c.encode(escrowState, forKey: .escrowState)
        try c.encodeIfPresent(firstStart, forKey: .firstStart)
        try c.encode(runs, forKey: .runs)
        try c.encodeIfPresent(settlementID, forKey: .settlementID)
    }
}

/// The terms a marketplace job was funded on, the token that submitted it and the quote it was
/// accepted against. Immutable, so its JSON is made once and copied into each save of the
/// record (the generic encoding of these nested values was most of what a marketplace job's
/// saves cost).
package final class MarketFunding: Codable, Sendable {
    package let terms: SettlementCalculator.Terms
    /// The marketplace token the job was submitted with.
    package let token: String
    package let fundedAt: Int
    package let quote: QuoteResponse
    /// The JSON of the four, made once.
    package let json: [UInt8]

    package init(terms: SettlementCalculator.Terms, token: String, fundedAt: Int, quote: QuoteResponse) throws {
        self.terms = terms
        self.token = token
        self.fundedAt = fundedAt
        self.quote = quote
        json = try StreamingJSONEncoder().encode(Fields(terms: terms, token: token, fundedAt: fundedAt, quote: quote))
    }

    package convenience init(from decoder: Decoder) throws {
        let f = try Fields(from: decoder)
        try self.init(terms: f.terms, token: f.token, fundedAt: f.fundedAt, quote: f.quote)
    }

    package func encode(to encoder: Encoder) throws {
        if let sink = encoder as? PreEncodedJSONSink { return sink.appendPreEncoded(json) }
        try Fields(terms: terms, token: token, fundedAt: fundedAt, quote: quote).encode(to: encoder)
    }

    private struct Fields: Codable {
        var terms: SettlementCalculator.Terms
        var token: String
        var fundedAt: Int
        var quote: QuoteResponse
    }
}

extension JSONWriter {
    /// Runs as their `Codable` form writes them (the hand-written stored forms of a marketplace
    /// job and of a settlement share it).
    package mutating func field(_ k: String, _ runs: [JobRun]) {
        beginArrayField(k)
        for run in runs {
            beginObject()
            field("start", run.start)
            field("end", run.end)
            field("ended", run.ended.rawValue)
            if let suspended = run.suspended { field("suspended", suspended) }
            endObject()
        }
        endArrayField()
    }
}

extension RunEnd {
    /// How a job's final state counts for its bill when nothing more specific is known.
    package init(_ state: JobState, exitCode: Int) {
        switch state {
        case .completed: self = exitCode == 0 ? .completed : .failed
        case .outOfMemory: self = .outOfMemory
        case .timeout: self = .timeLimit
        case .cancelled: self = .cancelledByUser
        case .preempted: self = .preempted
        case .nodeFail: self = .nodeFailure
        default: self = .failed
        }
    }
}

extension BillableResources {
    /// What a job holds (or asks for): its TRES, GPUs under their requested type.
    package init(job: Job, tres: TRES, exclusive: Bool) {
        self.init(nodes: tres.nodes, cores: tres.cpus, memoryMB: tres.memoryMB,
                  gpus: [job.request.gpus?.type ?? "": tres.gpus], exclusive: exclusive)
    }
}
