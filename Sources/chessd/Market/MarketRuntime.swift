import ChessAPI
import ChessConfig
import Foundation
import MarketBridge

/// The controller's marketplace side, built from `[market]` at start: who signs, on which
/// domain, with which oracle rules, and the token gate. Absent when the cluster does not sell.
struct MarketRuntime: Sendable {
    let settings: MarketSettings
    let calculator: SettlementCalculator
    let signer: SettlementSigner
    let oracle: OracleGuard
    let gate: MarketGate

    struct StartupError: Error, CustomStringConvertible {
        let description: String
    }

    init(configuration c: ControllerConfiguration, tokens: [MarketTable.Token]) throws {
        guard let m = c.market else { throw StartupError(description: "no [market] section") }
        let keyFile = m.providerKeyFile
        let text: [UInt8]
        do { text = try KeyFile.read(keyFile, what: "the provider's signing key") } catch {
            throw StartupError(description: "market.provider_key_file: \(error)")
        }
        let signer: Secp256k1Signer
        do { signer = try Secp256k1Signer(hexKey: String(decoding: text, as: UTF8.self)) } catch {
            throw StartupError(description: "market.provider_key_file: \(keyFile): \(error)")
        }
        guard let contract = EthereumAddress(m.escrowContract) else {
            throw StartupError(description: "market.escrow_contract: \(m.escrowContract) fails its EIP-55 checksum (check the letters' case)")
        }
        settings = m
        calculator = SettlementCalculator(
            cluster: c.clusterName, provider: signer.address, policy: c.billing,
            sla: SLAPolicy(earlyFailureWindow: m.earlyFailureWindow, disputeWindow: m.disputeWindow, promptStart: m.promptStart))
        self.signer = SettlementSigner(domain: EIP712.Domain(name: m.domainName, version: m.domainVersion, chainID: m.chainID,
                                                             verifyingContract: contract), signer: signer)
        oracle = OracleGuard(sources: m.oracleSources, maxAge: m.oracleMaxAge, maxDeviationBasisPoints: m.oracleMaxDeviation.value)
        gate = MarketGate(tokens: tokens, perMinute: m.rateLimitPerMinute)
    }

    /// The wire form of a settlement, with the typed data its signature is over.
    func info(_ row: MarketTable.Row) -> SettlementInfo {
        let s = row.settlement
        var i = SettlementInfo(id: s.id, jobID: s.jobID, escrowID: s.escrowID, payer: s.payer.checksummed,
                               provider: s.provider.checksummed, outcome: s.outcome.rawValue, billedSeconds: s.billedSeconds,
                               split: s.split, endTime: s.endTime, reason: s.reason,
                               runs: s.runs.map { RunInfo(start: $0.start, end: $0.end, ended: $0.ended.rawValue, suspended: $0.suspended) })
        i.sequence = s.sequence == 0 ? nil : s.sequence
        i.userReward = s.userReward
        i.providerReward = s.providerReward
        i.cptPriceE8 = s.cptPriceE8
        i.digest = s.digest
        i.signature = s.signature
        if s.isSigned {
            let t = signer.typedData(s)
            i.typedData = SettlementInfo.TypedData(
                types: t.types.mapValues { $0.map { SettlementInfo.TypedData.Field(name: $0.name, type: $0.type) } },
                primaryType: t.primaryType, domain: t.domain, message: t.message)
        }
        i.acknowledgedAt = row.acknowledgedAt
        i.disputedAt = row.disputedAt
        i.disputeReason = s.dispute?.reason
        return i
    }
}
