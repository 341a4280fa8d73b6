import Billing
import Foundation
import MarketBridge
import Spawning
import Testing

/// Settlements signed here are verified by Python's `eth-account` (recovering the provider's
/// address from the EIP-712 payload) and keccak-256 digests are checked against `eth-hash`:
/// the tools the marketplace and the escrow contract's off-chain side use. `make test` installs
/// them in `.build-venv` and points `CHESS_PYTHON` at it.
@Suite struct InteropTests {
    @Test func ethAccountRecoversTheProviderAndRejectsATamperedAmount() throws {
        guard let python = ProcessInfo.processInfo.environment["CHESS_PYTHON"] else {
            Issue.record("CHESS_PYTHON is not set: run `make test` (it installs eth-account into .build-venv), or set it to a python with eth-account and eth-hash")
            return
        }
        let (calc, signer) = try MarketFixture.calculator()
        var signatures: [[String: Any]] = []
        func add(_ name: String, _ s: Settlement, expectValid: Bool) throws {
            let payload = try JSONSerialization.jsonObject(with: JSONEncoder().encode(signer.typedData(s)))
            signatures.append(["name": name, "typedData": payload, "signature": s.signature!,
                               "provider": s.provider.checksummed, "expectValid": expectValid])
        }
        // An ordinary settlement, a discounted spot job over several runs, an SLA refund, and a
        // settlement with amounts near the top of their ranges.
        let cases: [(String, SettlementCalculator.Terms, [JobRun], UInt64)] = [
            ("completed", MarketFixture.terms(), [JobRun(start: 1_764_000_000, end: 1_764_003_600, ended: .completed)], 25_000_000),
            ("spot, 15% discount", MarketFixture.terms(discount: .percent(15), factor: 400),
             [JobRun(start: 0, end: 700, ended: .preempted), JobRun(start: 900, end: 5000, ended: .completed)], 123_456_789),
            ("sla refund", MarketFixture.terms(), [JobRun(start: 10, end: 20, ended: .nodeFailure)], 99_000_000),
            ("large", MarketFixture.terms(escrow: Int64.max / 2), [JobRun(start: 0, end: 86_400 * 365, ended: .completed)], 1),
        ]
        var first: Settlement?
        for (i, (name, terms, runs, price)) in cases.enumerated() {
            var s = try calc.settle(jobID: 1000 + i, terms: terms, allocated: MarketFixture.resources, runs: runs,
                                    endTime: runs.last!.end, reason: name)
            calc.reward(&s, cptPriceE8: price)
            try signer.sign(&s)
            try add(name, s, expectValid: true)
            first = first ?? s
        }
        var tampered = first!
        tampered.split.providerPayout.units += 1
        tampered.split.userRefund.units -= 1
        try add("tampered payout", tampered, expectValid: false)

        let inputs: [[UInt8]] = [[], Array("abc".utf8), [UInt8](repeating: 0x61, count: 136), (0..<1000).map { UInt8($0 % 251) }]
        let keccak = inputs.map { ["input": String(HexBytes.encode($0).dropFirst(2)), "digest": HexBytes.encode(Keccak256.hash($0))] }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-interop-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("cases.json")
        try JSONSerialization.data(withJSONObject: ["signatures": signatures, "keccak": keccak]).write(to: file)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Interop/verify_settlements.py")
        let ran = try ChildProcess.run(python, [script.path, file.path], timeout: 300, mergeErrors: true)
        let text = ran.stdoutText
        #expect(ran.status == 0, "eth-account disagrees:\n\(text)")
        // Every case was checked (a script that checked nothing would also exit 0).
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("ok  ") }.count == signatures.count + keccak.count, "\(text)")
        #expect(text.contains("0 failure(s)"))
    }
}
