import Billing
import ChessAPI
import ChessConfig
import Foundation
import HTTPServer

/// Every parser of bytes from outside, as one entry point per kind of input: what the libFuzzer
/// harness (`chess-fuzz`, `scripts/fuzz.sh`) feeds and what the test suite replays from the
/// regression corpus (`Tests/Corpus/TARGET/`). A parser may refuse its input, never trap,
/// recurse without bound or allocate without bound.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A request body as chessd reads it: the body check, then each decoder a route uses.
    case jsonBody = "json-body"
    /// HTTP/1.1 framing, in pieces as a socket delivers them.
    case http
    /// Host list expressions (`node[01-16,20]`).
    case hostlist
    /// Job option values: time, memory, licenses, arrays, dependencies, signals, export lists,
    /// begin times, money and percentages (the first byte chooses the parser).
    case jobOptions = "job-options"
    /// A batch script's `#SBATCH` lines, and srun's options.
    case batchScript = "batch-script"
    /// chessd's TOML configuration.
    case configuration
    /// Other users' text on its way to a terminal or a log: `TerminalText` must leave no control
    /// byte but tab and line break, and `AlignedTable` lay out whatever bytes chessd sends.
    case terminalText = "terminal-text"

    /// Feeds `bytes` to the target's parsers; a refusal is a normal outcome.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .jsonBody: Self.jsonBody(bytes)
        case .http: Self.http(bytes)
        case .hostlist:
            if let hosts = try? HostList.expand(String(decoding: bytes, as: UTF8.self)) { _ = HostList.compress(hosts) }
        case .jobOptions: Self.jobOptions(bytes)
        case .batchScript:
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? BatchOptions.applyDirectives(of: text, to: JobSubmission(), now: 1_800_000_000)
            _ = try? StepOptions.parse(text.split(whereSeparator: \.isWhitespace).map(String.init))
        case .configuration:
            _ = try? ConfigurationFile.parse(String(decoding: bytes, as: UTF8.self))
        case .terminalText: Self.terminalText(bytes)
        }
    }

    static func terminalText(_ bytes: [UInt8]) {
        var shown = bytes
        shown.withUnsafeMutableBytes { TerminalText.neutralize($0) }
        precondition(shown.count == bytes.count && !shown.contains { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A) || $0 == 0x7F },
                     "a control byte reached the terminal")
        let line = TerminalText.neutralized(String(decoding: bytes, as: UTF8.self))
        precondition(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "a control byte or a line break stayed in a line")
        var table = AlignedTable(columns: Int(bytes.first ?? 0) % 8)
        shown.withUnsafeBytes { table.measure($0) }
        var written = 0
        do {
            var out = ByteOutput(capacity: 1 + Int(bytes.last ?? 0)) { written += $0.count }
            shown.withUnsafeBytes { table.emit($0, to: &out) }
        }
        // Each cell once, padded to at most its column's width and two, plus a line break.
        precondition(written >= shown.count, "bytes lost laying out the table")
    }

    static func jsonBody(_ bytes: [UInt8]) {
        guard (try? JSONBodyCheck.check(bytes)) != nil else { return }
        _ = try? JobSubmission(scanning: bytes)
        let data = Data(bytes)
        _ = try? WireJSON.decode(JobSubmission.self, from: data)
        _ = try? WireJSON.decode(JobUpdate.self, from: data)
        _ = try? WireJSON.decode([String: DocumentNode].self, from: data)
        _ = try? WireJSON.decode(AgentRegistration.self, from: data)
        _ = try? WireJSON.decode(AgentHeartbeat.self, from: data)
        _ = try? WireJSON.decode(StepPlan.self, from: data)
        _ = try? WireJSON.decode([StepReport].self, from: data)
        _ = try? WireJSON.decode(MarketSubmission.self, from: data)
        _ = try? WireJSON.decode(OraclePriceReport.self, from: data)
        _ = try? WireJSON.decode(PriceList.self, from: data)
        _ = try? JobList(scanning: bytes)
        // srun's request, as the agent reads it from any user; the answers sbatch and srun read.
        _ = try? WireJSON.decode(StepRequest.self, from: data)
        _ = try? StepStart(scanning: bytes)
        _ = (try? StepEnd(scanning: bytes))?.exitStatus
        _ = try? SubmitResponse(scanning: bytes)
        _ = try? TestOnlyResponse(scanning: bytes)
        _ = try? EndedRecord.scanning(bytes)
        _ = try? firstListedJobState(bytes)
    }

    static func http(_ bytes: [UInt8]) {
        var parser = HTTPRequestParser()
        // In pieces of varying size, as reads deliver them.
        var offset = 0
        var piece = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            bytes[offset..<end].withUnsafeBytes { parser.append($0) }
            offset = end
            piece = piece * 3 % 97 + 1
            var requests = 0
            while requests < 1000, let request = try? parser.next() {
                requests += 1
                if let body = Optional(request.body), !body.isEmpty { _ = try? JSONBodyCheck.check(body) }
            }
        }
    }

    static func jobOptions(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch first % 11 {
        case 0: _ = try? JobSpecSyntax.timeLimit(text)
        case 1: _ = try? JobSpecSyntax.memoryMB(text)
        case 2: _ = try? JobSpecSyntax.licenses(text)
        case 3: _ = try? JobSpecSyntax.array(text)
        case 4: _ = try? JobSpecSyntax.dependencies(text)
        case 5: _ = try? WarningSignal(parsing: text)
        case 6: _ = try? ExportSpec.apply(text, to: ["PATH": "/bin", "HOME": "/root"])
        case 7: _ = try? BatchOptions.beginTime(text, now: 1_800_000_000)
        case 8: _ = MicroUSDC(parsing: text)
        case 9: _ = BasisPoints(percent: text)
        default: _ = SignalName(text); _ = HostPort(text)
        }
    }

    /// The folder of a target's regression corpus in the repository.
    public func corpus(in repository: String) -> String { "\(repository)/Tests/Corpus/\(rawValue)" }
}
