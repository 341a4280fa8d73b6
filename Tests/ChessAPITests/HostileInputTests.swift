import ChessAPI
import Foundation
import Testing

/// Inputs that trapped or recursed without bound in a daemon before (each was found by trying,
/// as an attacker would): they are refused with a reason now, or read safely.
@Suite struct HostileInputTests {
    func nested(_ depth: Int, inside key: String = "x") -> [UInt8] {
        Array("{\"\(key)\":".utf8) + Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
            + [UInt8(ascii: "}")]
    }

    @Test func bodiesNestedTooDeeplyAreRefusedBeforeAnyDecoder() throws {
        try JSONBodyCheck.check(nested(InputLimits.jsonDepth - 1))
        #expect(throws: InputLimits.Violation.self) { try JSONBodyCheck.check(nested(InputLimits.jsonDepth)) }
        #expect(throws: InputLimits.Violation.self) { try JSONBodyCheck.check(nested(200_000)) }
        // Brackets inside strings are text.
        try JSONBodyCheck.check(Array("{\"s\":\"\(String(repeating: "[", count: 1000))\\\"[\"}".utf8))
    }

    @Test func integersPastTwoToTheFiftyThreeAreRefusedNamingTheField() throws {
        try JSONBodyCheck.check(Array("{\"ntasks\":9007199254740991,\"x\":-9007199254740991,\"f\":1.5e300}".utf8))
        for bad in ["9007199254740992", "-9223372036854775808", "99999999999999999999999", "00000000000000000001"] {
            do {
                try JSONBodyCheck.check(Array("{\"script\":\"1\",\"ntasks\":\(bad)}".utf8))
                Issue.record("\(bad) passed")
            } catch {
                #expect(error.description.hasPrefix("ntasks:"), "\(error)")
            }
        }
    }

    @Test func theScannerReadsLoneSurrogatesAndRefusesOverflowingNumbers() throws {
        let lone = try JobSubmission(scanning: Array(#"{"name":"\ud800\u0041","script":"\udc00x"}"#.utf8))
        #expect(lone.name == "\u{FFFD}A")
        #expect(lone.script == "\u{FFFD}x")
        let pair = try JobSubmission(scanning: Array(#"{"name":"\ud83d\ude00"}"#.utf8))
        #expect(pair.name == "😀")
        #expect(throws: JSONScanner.Failure.self) { try JobSubmission(scanning: Array(#"{"ntasks":-9223372036854775808}"#.utf8)) }
        #expect(throws: JSONScanner.Failure.self) { try JobSubmission(scanning: Array(#"{"ntasks":18446744073709551617}"#.utf8)) }
        // An unknown field nested deeply is skipped within bounds, or refused: never a crash.
        #expect(throws: JSONScanner.Failure.self) { try JobSubmission(scanning: nested(100_000, inside: "unknown")) }
    }

    @Test func jobOptionValuesRefuseWhatWouldOverflow() {
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.licenses("matlab:9223372036854775807,matlab:9223372036854775807") }
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.licenses("matlab:16777216,matlab:1") }
        #expect((try? JobSpecSyntax.licenses("matlab:3,matlab:2")) == ["matlab": 5])
        for time in ["153722867280912930", "9999999999-00", "99999999:00:00", "5124095576030431-00:00:00"] {
            #expect(throws: JobSpecSyntax.Error.self, "\(time)") { try JobSpecSyntax.timeLimit(time) }
        }
        #expect((try? JobSpecSyntax.timeLimit("36600-00:00:00")) == 36_600 * 86_400)
        for mem in ["9223372036854775807T", "9007199254740993G", "17T", "9223372036854775807"] {
            #expect(throws: JobSpecSyntax.Error.self, "\(mem)") { try JobSpecSyntax.memoryMB(mem) }
        }
        #expect((try? JobSpecSyntax.memoryMB("9223372036854775807K")) == nil)
        #expect((try? JobSpecSyntax.memoryMB("16T")) == 16 * 1024 * 1024)
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.array("0-9223372036854775807:9223372036854775807") }
        #expect(throws: JobSpecSyntax.Error.self) { try JobSpecSyntax.array("4000001") }
    }

    @Test func hostListsStayWithinAMillionNamesWhateverTheirShape() throws {
        #expect(throws: HostList.Error.self) { try HostList.expand("a[1-1000]b[1-1000]c[1-1000]") }
        #expect(throws: HostList.Error.self) { try HostList.expand(Array(repeating: "n[1-999999]", count: 3).joined(separator: ",")) }
        // Many groups in one name: expanded without recursion.
        #expect(try HostList.expand(String(repeating: "[1]", count: 100_000)) == [String(repeating: "1", count: 100_000)])
        #expect(try HostList.expand("r[1-2]n[1-2]x") == ["r1n1x", "r1n2x", "r2n1x", "r2n2x"])
    }
}
