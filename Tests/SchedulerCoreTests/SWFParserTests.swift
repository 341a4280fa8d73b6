import Testing
@testable import SchedulerCore

private func parse(_ text: String, limit: Int? = nil) throws -> SWFWorkload {
    try SWFParser.parse(Array(text.utf8), limit: limit)
}

/// A well-formed 18-field line.
private func line(_ id: Int, submit: Int, run: Int, alloc: Int, req: Int, reqTime: Int) -> String {
    "\(id) \(submit) -1 \(run) \(alloc) -1 -1 \(req) \(reqTime) -1 1 1 1 -1 -1 -1 -1 -1"
}

@Suite("SWF parsing (SIMULATION.md §1–2)")
struct SWFParserTests {
    @Test func machineSizeFromMaxProcsCaseAndSpacingInsensitive() throws {
        #expect(try parse(";maxprocs:64\n").machineSize == 64)
        #expect(try parse("  ;   MAXPROCS  :  32  \n").machineSize == 32)
        #expect(try parse("; MaxProcs: 16\n; MaxProcs: 99\n").machineSize == 16)
    }

    @Test func maxNodesOnlyWhenMaxProcsIsMissingOrNotPositive() throws {
        #expect(try parse("; MaxNodes: 8\n; MaxProcs: 128\n").machineSize == 128)
        #expect(try parse("; MaxProcs: -1\n; MaxNodes: 8\n").machineSize == 8)
        #expect(try parse("; MaxNodes: 256\n").machineSize == 256)
        #expect(try parse("; MaxProcs: 0\n; MaxNodes: 3\n; MaxNodes: 7\n").machineSize == 3)
    }

    @Test func noMachineSizeIsAnError() {
        #expect(throws: SWFError.noMachineSize) { try parse("; MaxProcs: 0\n" + line(1, submit: 0, run: 1, alloc: 1, req: 1, reqTime: 1)) }
        #expect(throws: SWFError.noMachineSize) { try parse("") }
    }

    @Test func preparationRulesAndSkipReasonsInOrder() throws {
        let text = [
            "; MaxProcs: 10",
            line(1, submit: 5, run: 10, alloc: 2, req: -1, reqTime: -1),   // procs from alloc, requested = run
            line(2, submit: 6, run: 10, alloc: 2, req: 4, reqTime: 20),    // requested procs win
            line(3, submit: 7, run: 0, alloc: 0, req: 0, reqTime: 5),      // run first: run_not_positive
            line(4, submit: 8, run: 5, alloc: 0, req: -1, reqTime: 5),     // procs_not_positive
            line(5, submit: 9, run: 5, alloc: 1, req: 11, reqTime: 5),     // procs_exceed_machine
            line(6, submit: 10, run: 30, alloc: 1, req: 1, reqTime: 20),   // truncated to 20
            "7 1 2 3",                                                    // too few fields
            "8 x -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1",                // non-numeric used field
            "9 11 ? 5 1 ? ? 1 5 ? ? ? ? ? ? ? ? ? extra fields",           // unused fields may be anything
        ].joined(separator: "\n")
        let w = try parse(text)
        #expect(w.jobs.map(\.id) == [1, 2, 6, 9])
        #expect(w.jobs[0] == ReplayJob(id: 1, submit: 5, run: 10, requested: 10, procs: 2))
        #expect(w.jobs[1] == ReplayJob(id: 2, submit: 6, run: 10, requested: 20, procs: 4))
        #expect(w.jobs[2] == ReplayJob(id: 6, submit: 10, run: 20, requested: 20, procs: 1))
        #expect(w.skipped == [.runNotPositive: 1, .procsNotPositive: 1, .procsExceedMachine: 1, .malformed: 2])
        #expect(w.truncatedToRequested == 1)
        #expect(w.firstMalformedLine == 8)
    }

    @Test func nonIntegralValuesTruncateTowardZero() throws {
        let w = try parse("; MaxProcs: 8\n1 0.9 -1 99.9 2.5 -1 -1 -1 -1.5 -1 1 1 1 -1 -1 -1 -1 -1\n")
        #expect(w.jobs == [ReplayJob(id: 1, submit: 0, run: 99, requested: 99, procs: 2)])
    }

    @Test func latin1BytesCarriageReturnsAndBlankLinesAreAccepted() throws {
        var bytes = Array("; MaxProcs: 4\r\n\r\n; Note: caf".utf8) + [0xE9, 0x0A]
        bytes += Array("\t1 0 -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1  \r\n".utf8)
        let w = try SWFParser.parse(bytes)
        #expect(w.jobs.count == 1)
        #expect(w.skippedTotal == 0)
    }

    @Test func queueOrderIsSubmitThenIdThenFileOrder() throws {
        let text = ["; MaxProcs: 4",
                    line(5, submit: 10, run: 1, alloc: 1, req: 1, reqTime: 1),
                    line(3, submit: 10, run: 2, alloc: 1, req: 1, reqTime: 2),
                    line(9, submit: 2, run: 3, alloc: 1, req: 1, reqTime: 3),
                    line(3, submit: 10, run: 4, alloc: 1, req: 1, reqTime: 4)].joined(separator: "\n")
        let w = try parse(text)
        #expect(w.jobs.map(\.id) == [9, 3, 3, 5])
        #expect(w.jobs.map(\.run) == [3, 2, 4, 1])
    }

    @Test func limitKeepsTheFirstKPassingJobsAndIgnoresTheRest() throws {
        let text = ["; MaxProcs: 4",
                    line(1, submit: 0, run: 0, alloc: 1, req: 1, reqTime: 1),   // skipped, counted
                    line(2, submit: 1, run: 1, alloc: 1, req: 1, reqTime: 1),
                    "garbage",                                                  // counted
                    line(3, submit: 2, run: 1, alloc: 1, req: 1, reqTime: 1),
                    "garbage",                                                  // after the K-th: ignored
                    line(4, submit: 3, run: 1, alloc: 1, req: 1, reqTime: 1)].joined(separator: "\n")
        let w = try parse(text, limit: 2)
        #expect(w.jobs.map(\.id) == [2, 3])
        #expect(w.skipped == [.runNotPositive: 1, .malformed: 1])
        #expect(try parse(text, limit: 0).jobs.isEmpty)
    }
}
