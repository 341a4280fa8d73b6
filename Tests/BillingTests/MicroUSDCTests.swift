import Billing
import Testing

@Suite struct MicroUSDCTests {
    @Test func parsesAndPrintsExactly() {
        #expect(MicroUSDC(parsing: "12.5")?.units == 12_500_000)
        #expect(MicroUSDC(parsing: "0.000001")?.units == 1)
        #expect(MicroUSDC(parsing: "-3")?.units == -3_000_000)
        #expect(MicroUSDC(parsing: "12.5")?.description == "12.500000")
        #expect(MicroUSDC(units: -1).description == "-0.000001")
    }

    @Test func rejectsWhatIsNotAnExactAmount() {
        for bad in ["", ".5", "1.", "1.0000001", "1e3", "abc", "1.2.3", "99999999999999999999"] {
            #expect(MicroUSDC(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func overflowIsReportedNotWrapped() {
        let max = MicroUSDC(units: .max)
        #expect(max.adding(MicroUSDC(units: 1)) == nil)
        #expect(MicroUSDC(units: .min).subtracting(MicroUSDC(units: 1)) == nil)
        #expect(MicroUSDC(units: 5).adding(MicroUSDC(units: 7)) == MicroUSDC(units: 12))
    }
}
