/// A Standard Workload Format trace, prepared for a flat-machine replay.
///
/// Parsing follows `SIMULATION.md` §1–2 to the letter so that two independent simulators agree
/// job for job: the bytes are read as Latin-1, malformed job lines are skipped and counted, and the
/// kept jobs come out in queue order `(submit, id, file order)`. Decompression and file reading are
/// the caller's business (see `ChessAPI.TraceLoader`); this type only sees bytes.
public struct SWFWorkload: Sendable, Equatable {
    /// Processors of the machine, from `; MaxProcs:` or else `; MaxNodes:`.
    public var machineSize: Int
    /// Kept jobs in queue order.
    public var jobs: [ReplayJob]
    /// Skipped job lines by reason; malformed lines count here too.
    public var skipped: [SkipReason: Int]
    /// Jobs whose run time exceeded their requested time and were cut to it.
    public var truncatedToRequested: Int
    /// 1-based line number of the first malformed job line, for diagnostics.
    public var firstMalformedLine: Int?

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    public init(machineSize: Int, jobs: [ReplayJob], skipped: [SkipReason: Int] = [:],
                truncatedToRequested: Int = 0, firstMalformedLine: Int? = nil) {
        self.machineSize = machineSize
        self.jobs = jobs
        self.skipped = skipped
        self.truncatedToRequested = truncatedToRequested
        self.firstMalformedLine = firstMalformedLine
    }

    /// Builds a workload from already-prepared jobs (tests, scenario files), sorting them into
    /// queue order the way a trace would be.
    public init(machineSize: Int, unorderedJobs: [ReplayJob]) {
        self.init(machineSize: machineSize, jobs: SWFWorkload.queueOrder(unorderedJobs))
    }

    /// Stable sort by `(submit, id)`: equal keys keep file order.
    static func queueOrder(_ jobs: [ReplayJob]) -> [ReplayJob] {
        jobs.enumerated()
            .sorted { a, b in
                if a.element.submit != b.element.submit { return a.element.submit < b.element.submit }
                if a.element.id != b.element.id { return a.element.id < b.element.id }
                return a.offset < b.offset
            }
            .map(\.element)
    }
}

/// A job as the flat replay sees it: `0 < run <= requested`, `0 < procs <= machine size`.
public struct ReplayJob: Sendable, Equatable {
    public var id: Int
    public var submit: Int
    /// Effective run time (already truncated to `requested`).
    public var run: Int
    public var requested: Int
    public var procs: Int

    public init(id: Int, submit: Int, run: Int, requested: Int? = nil, procs: Int) {
        self.id = id
        self.submit = submit
        self.run = run
        self.requested = requested ?? run
        self.procs = procs
    }
}

/// Why a job line did not become a replayed job; the first that applies, in this order.
public enum SkipReason: String, Sendable, CaseIterable, Comparable {
    case malformed
    case runNotPositive = "run_not_positive"
    case procsNotPositive = "procs_not_positive"
    case procsExceedMachine = "procs_exceed_machine"

    public static func < (a: SkipReason, b: SkipReason) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum SWFError: Error, Equatable, CustomStringConvertible {
    /// Neither `; MaxProcs:` nor `; MaxNodes:` gave a positive machine size.
    case noMachineSize

    public var description: String {
        switch self {
        case .noMachineSize:
            return "no positive machine size: the trace needs a '; MaxProcs: N' or '; MaxNodes: N' header line"
        }
    }
}

public enum SWFParser {
    /// Parses and prepares a trace. `limit` keeps the first `limit` jobs that pass the checks and
    /// ignores the rest of the file.
    public static func parse(_ bytes: [UInt8], limit: Int? = nil) throws -> SWFWorkload {
        var maxProcs: Int?
        var maxNodes: Int?
        var lines: [RawLine] = []

        var lineNumber = 0
        var lineStart = 0
        let count = bytes.count
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            lineNumber += 1
            var lo = lineStart
            var hi = lineEnd
            while lo < hi && isSpace(bytes[lo]) { lo += 1 }
            while hi > lo && isSpace(bytes[hi - 1]) { hi -= 1 }
            if lo < hi {
                if bytes[lo] == UInt8(ascii: ";") {
                    if let (key, value) = headerValue(bytes, lo + 1, hi) {
                        if key == .maxProcs, maxProcs == nil { maxProcs = value }
                        if key == .maxNodes, maxNodes == nil { maxNodes = value }
                    }
                } else {
                    lines.append(jobLine(bytes, lo, hi, lineNumber))
                }
            }
            lineStart = lineEnd + 1
        }

        let machineSize: Int
        if let p = maxProcs, p > 0 {
            machineSize = p
        } else if let n = maxNodes, n > 0 {
            machineSize = n
        } else {
            throw SWFError.noMachineSize
        }

        var jobs: [ReplayJob] = []
        var skipped: [SkipReason: Int] = [:]
        var truncated = 0
        var firstMalformed: Int?
        for line in lines {
            if let limit, jobs.count >= limit { break }
            guard let f = line.fields else {
                skipped[.malformed, default: 0] += 1
                if firstMalformed == nil { firstMalformed = line.number }
                continue
            }
            let procs = f.requestedProcs > 0 ? f.requestedProcs : f.allocatedProcs
            var run = f.runTime
            let requested = f.requestedTime > 0 ? f.requestedTime : run
            if run <= 0 {
                skipped[.runNotPositive, default: 0] += 1
                continue
            }
            if procs <= 0 {
                skipped[.procsNotPositive, default: 0] += 1
                continue
            }
            if procs > machineSize {
                skipped[.procsExceedMachine, default: 0] += 1
                continue
            }
            if run > requested {
                run = requested
                truncated += 1
            }
            jobs.append(ReplayJob(id: f.id, submit: f.submit, run: run, requested: requested, procs: procs))
        }
        return SWFWorkload(machineSize: machineSize, jobs: SWFWorkload.queueOrder(jobs), skipped: skipped,
                           truncatedToRequested: truncated, firstMalformedLine: firstMalformed)
    }

    // MARK: - Lines

    private struct UsedFields {
        var id, submit, runTime, allocatedProcs, requestedProcs, requestedTime: Int
    }

    private struct RawLine {
        var number: Int
        /// nil when the line is malformed.
        var fields: UsedFields?
    }

    private enum HeaderKey { case maxProcs, maxNodes }

    /// The 1-based fields a replay reads; the others only have to be present.
    private static let usedFieldCount = 18

    private static func jobLine(_ b: [UInt8], _ lo: Int, _ hi: Int, _ number: Int) -> RawLine {
        var values = [Int](repeating: 0, count: 10)
        var field = 0
        var i = lo
        var ok = true
        while i < hi {
            while i < hi && isSpace(b[i]) { i += 1 }
            if i >= hi { break }
            let start = i
            while i < hi && !isSpace(b[i]) { i += 1 }
            field += 1
            switch field {
            case 1, 2, 4, 5, 8, 9:
                if let v = integerValue(b, start, i) { values[field] = v } else { ok = false }
            default:
                break
            }
        }
        guard ok, field >= usedFieldCount else { return RawLine(number: number, fields: nil) }
        return RawLine(number: number, fields: UsedFields(
            id: values[1], submit: values[2], runTime: values[4], allocatedProcs: values[5],
            requestedProcs: values[8], requestedTime: values[9]))
    }

    /// `; MaxProcs: N` or `; MaxNodes: N` (key case-insensitive, spaces optional), else nil.
    private static func headerValue(_ b: [UInt8], _ from: Int, _ hi: Int) -> (HeaderKey, Int)? {
        var i = from
        while i < hi && isSpace(b[i]) { i += 1 }
        let keyStart = i
        while i < hi && b[i] != UInt8(ascii: ":") && !isSpace(b[i]) { i += 1 }
        let key = String(decoding: b[keyStart..<i].map { $0 | 0x20 }, as: UTF8.self)
        let headerKey: HeaderKey
        switch key {
        case "maxprocs": headerKey = .maxProcs
        case "maxnodes": headerKey = .maxNodes
        default: return nil
        }
        while i < hi && isSpace(b[i]) { i += 1 }
        guard i < hi, b[i] == UInt8(ascii: ":") else { return nil }
        i += 1
        while i < hi && isSpace(b[i]) { i += 1 }
        let valueStart = i
        while i < hi && !isSpace(b[i]) { i += 1 }
        guard let value = strictInteger(b, valueStart, i) else { return nil }
        return (headerKey, value)
    }

    // MARK: - Numbers

    /// An integer field; a non-integral number is truncated toward zero (`99.9` → 99).
    static func integerValue(_ b: [UInt8], _ lo: Int, _ hi: Int) -> Int? {
        if let v = strictInteger(b, lo, hi) { return v }
        // Decimal or exponent form: only digits, sign, '.', 'e' may appear.
        for c in b[lo..<hi] {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "+"),
                 UInt8(ascii: "-"), UInt8(ascii: "e"), UInt8(ascii: "E"):
                continue
            default:
                return nil
            }
        }
        guard let d = Double(String(decoding: b[lo..<hi], as: UTF8.self)), d.isFinite,
              d > -9.2e18, d < 9.2e18 else { return nil }
        return Int(d.rounded(.towardZero))
    }

    /// `[+-]?[0-9]+` that fits in Int, else nil.
    static func strictInteger(_ b: [UInt8], _ lo: Int, _ hi: Int) -> Int? {
        var i = lo
        var negative = false
        if i < hi && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) {
            negative = b[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < hi else { return nil }
        var value = 0
        while i < hi {
            let d = Int(b[i]) &- 48
            guard d >= 0 && d <= 9 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(d)
            guard !o1 && !o2 else { return nil }
            value = s
            i += 1
        }
        return negative ? -value : value
    }

    /// White space as Python's `str.split()` sees a Latin-1 string, so lines split the same way.
    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool {
        switch c {
        case 0x20, 0x09...0x0D, 0x1C...0x1F, 0x85, 0xA0: return true
        default: return false
        }
    }
}
