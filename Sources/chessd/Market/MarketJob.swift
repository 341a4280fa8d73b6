import Billing
import ChessAPI
import MarketBridge
import SchedulerCore

/// What the controller keeps with a marketplace job: the terms it was funded on, where its
/// escrow stands, its runs (what it is billed for), and at its end the settlement. It lives in
/// the job's record, so it is written in the same transactions as the job's state.
struct MarketJob: Codable, Sendable {
    var terms: SettlementCalculator.Terms
    var escrowState: EscrowState
    /// The token the marketplace submitted with.
    var token: String
    var fundedAt: Int
    var firstStart: Int?
    var runs: [JobRun] = []
    var quote: QuoteResponse
    /// Set when the job ends; also written to the `settlements` table with the final state.
    var settlement: Settlement?

    /// The escrow follows the job (its state machine refuses what the life cycle does not allow;
    /// such a refusal would be a controller bug, so it is logged by the caller, not fatal).
    mutating func started(at now: Int) {
        firstStart = firstStart ?? now
        escrowState = (try? escrowState.applying(.start)) ?? escrowState
    }

    mutating func requeued(run: JobRun) {
        runs.append(run)
        escrowState = (try? escrowState.applying(.requeue)) ?? escrowState
    }

    var startLatency: Int? { firstStart.map { $0 - fundedAt } }
}

extension RunEnd {
    /// How a job's final state counts for its bill when nothing more specific is known.
    init(_ state: JobState, exitCode: Int) {
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
    init(job: Job, tres: TRES, exclusive: Bool) {
        self.init(nodes: tres.nodes, cores: tres.cpus, memoryMB: tres.memoryMB,
                  gpus: [job.request.gpus?.type ?? "": tres.gpus], exclusive: exclusive)
    }
}
