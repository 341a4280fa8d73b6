import Billing
import Testing

/// A deterministic generator, so that a failing case can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct SettlementSplitTests {
    let policy = BillingPolicy()

    @Test func worksThroughThePublishedExample() throws {
        // 10 USDC escrow, 6 USDC charge, 10% staking discount: cost 5.4, fee 3% = 0.162.
        let s = try SettlementSplit(escrow: MicroUSDC(units: 10_000_000), charge: MicroUSDC(units: 6_000_000),
                                    discount: .percent(10), policy: policy)
        #expect(s.cost.units == 5_400_000)
        #expect(s.platformFee.units == 162_000)
        #expect(s.providerPayout.units == 5_238_000)
        #expect(s.userRefund.units == 4_600_000)
    }

    @Test func capsTheCostAtTheEscrow() throws {
        let s = try SettlementSplit(escrow: MicroUSDC(units: 1_000), charge: MicroUSDC(units: 5_000), discount: .percent(0), policy: policy)
        #expect(s.cost.units == 1_000)
        #expect(s.userRefund.units == 0)
        #expect(s.platformFee.units == 30)
    }

    @Test func refusesDiscountsThatAreNotOffered() {
        #expect(throws: SettlementSplit.Failure.discountNotOffered(.percent(7))) {
            try SettlementSplit(escrow: MicroUSDC(units: 100), charge: MicroUSDC(units: 50), discount: .percent(7), policy: policy)
        }
        #expect(throws: SettlementSplit.Failure.negative("the charge")) {
            try SettlementSplit(escrow: MicroUSDC(units: 100), charge: MicroUSDC(units: -1), discount: .percent(0), policy: policy)
        }
    }

    /// No money is created or lost: payout + fee + refund = escrow, every part within bounds,
    /// for every fee in range, every tier, amounts up to Int64.max.
    @Test func noMoneyIsCreatedOrLost() throws {
        var rng = SplitMix64(state: 20261125)
        for i in 0..<50_000 {
            var p = BillingPolicy()
            p.platformFee = BasisPoints(Int64.random(in: 200...500, using: &rng))
            let magnitude = [Int64(1_000), 1_000_000_000, Int64.max][i % 3]
            let escrow = MicroUSDC(units: Int64.random(in: 0...magnitude, using: &rng))
            let charge = MicroUSDC(units: Int64.random(in: 0...magnitude, using: &rng))
            let tier = p.discountTiers.randomElement(using: &rng)!
            let s = try SettlementSplit(escrow: escrow, charge: charge, discount: tier, policy: p)
            let total = Int128(s.providerPayout.units) + Int128(s.platformFee.units) + Int128(s.userRefund.units)
            #expect(total == Int128(escrow.units), "seed case \(i)")
            #expect(s.cost <= escrow && s.cost <= charge && s.cost.units >= 0)
            #expect(s.platformFee.units >= 0 && s.providerPayout.units >= 0 && s.userRefund.units >= 0)
            #expect(s.platformFee <= s.cost)
            if s.cost != .zero { #expect(s.providerPayout.units > 0) }
        }
    }

    @Test func fullRefundReturnsEverything() throws {
        let s = try SettlementSplit.fullRefund(escrow: MicroUSDC(units: 7_777), charge: MicroUSDC(units: 500),
                                               discount: .percent(0), policy: policy)
        #expect(s.userRefund.units == 7_777 && s.cost == .zero && s.providerPayout == .zero && s.platformFee == .zero)
        #expect(s.charge.units == 500)
    }
}

@Suite struct PricingTests {
    let list = PriceList(coreHour: MicroUSDC(units: 40_000), gpuHour: MicroUSDC(units: 2_000_000),
                         gpuHourByType: ["h100": MicroUSDC(units: 3_500_000)], memoryGiBHour: MicroUSDC(units: 5_000),
                         exclusiveNodeHour: MicroUSDC(units: 100_000))

    @Test func pricesEachResourcePerSecond() {
        // 4 cores, 8 GiB, one h100, one hour: 0.16 + 0.04 + 3.5.
        let r = BillableResources(nodes: 1, cores: 4, memoryMB: 8192, gpus: ["h100": 1])
        #expect(list.charge(r, seconds: 3600)?.units == 3_700_000)
        // One second of it, rounded down: 3.7 / 3600 = 1027.77… micro-USDC.
        #expect(list.charge(r, seconds: 1)?.units == 1_027)
        // Exclusive adds the node price; untyped GPUs take the default GPU price.
        let x = BillableResources(nodes: 2, cores: 64, memoryMB: 0, gpus: ["": 2], exclusive: true)
        let hourly: Int64 = 64 * 40_000 + 2 * 2_000_000 + 2 * 100_000
        #expect(list.charge(x, seconds: 1800)?.units == hourly / 2)
    }

    @Test func appliesTheQoSUsageFactor() {
        let r = BillableResources(nodes: 1, cores: 10, memoryMB: 0)
        #expect(list.charge(r, seconds: 3600, usageFactorPermille: 400)?.units == 160_000)
        #expect(list.charge(r, seconds: -1) == nil)
    }

    @Test func chargesAddUpOverSplitsWithinOneMicroUSDCPerPiece() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<2_000 {
            let r = BillableResources(nodes: 1, cores: Int.random(in: 1...256, using: &rng),
                                      memoryMB: Int.random(in: 0...1_000_000, using: &rng), gpus: ["": Int.random(in: 0...8, using: &rng)])
            let a = Int64.random(in: 0...86_400, using: &rng), b = Int64.random(in: 0...86_400, using: &rng)
            let whole = list.charge(r, seconds: a + b)!.units
            let parts = list.charge(r, seconds: a)!.units + list.charge(r, seconds: b)!.units
            #expect(whole >= parts && whole - parts <= 1)
        }
    }

    @Test func escrowCoversThePriceWithItsBuffer() {
        let p = BillingPolicy()
        #expect(p.requiredEscrow(price: MicroUSDC(units: 1_000_000))?.units == 1_200_000)
        #expect(p.requiredEscrow(price: MicroUSDC(units: 1))?.units == 2)
        #expect(p.requiredEscrow(price: MicroUSDC(units: .max)) == nil)
    }
}

@Suite struct RewardTests {
    @Test func convertsAtTheOraclePriceRoundingDown() {
        // 100 USDC cost, 2% = 2 USD; CPT at 0.50 USD → 4 CPT.
        let r = RewardCalculator.reward(cost: MicroUSDC(units: 100_000_000), rate: .percent(2), cptPriceE8: 50_000_000)
        #expect(r?.baseUnits == 4_000_000_000_000_000_000)
        #expect(r?.description == "4.000000000000000000")
        // 1 micro-USDC at 3% and a price of 3 USD: 0.00000003 / 3 = 10^-8 CPT = 10^10 base units.
        #expect(RewardCalculator.reward(cost: MicroUSDC(units: 1), rate: .percent(3), cptPriceE8: 300_000_000)?.baseUnits == 10_000_000_000)
        // Rounds down: 1 micro-USDC × 2% at 7 USD = 2.857142…e9 base units.
        #expect(RewardCalculator.reward(cost: MicroUSDC(units: 1), rate: .percent(2), cptPriceE8: 700_000_000)?.baseUnits == 2_857_142_857)
        #expect(RewardCalculator.reward(cost: MicroUSDC(units: 1), rate: .percent(2), cptPriceE8: 0) == nil)
    }

    @Test func neverOverflowsAtTheLargestCost() {
        let r = RewardCalculator.reward(cost: MicroUSDC(units: .max), rate: BasisPoints(500), cptPriceE8: 1)
        #expect(r != nil)
        #expect(r!.baseUnits == UInt128(Int64.max) * 500 * 10_000_000_000_000_000)
    }
}

@Suite struct BasisPointsTests {
    @Test func parsesPercentages() {
        #expect(BasisPoints(percent: "3")?.value == 300)
        #expect(BasisPoints(percent: "2.5")?.value == 250)
        #expect(BasisPoints(percent: "0.01")?.value == 1)
        #expect(BasisPoints(percent: "0.001") == nil)
        #expect(BasisPoints(percent: "-1") == nil)
        #expect(BasisPoints(250).description == "2.5%")
        #expect(BasisPoints(1).description == "0.01%")
    }
}

@Suite struct InvoiceTests {
    @Test func groupsByUserAndPartitionWithinThePeriod() {
        func job(_ id: Int, _ user: String, _ account: String, _ partition: String, end: Int, _ units: Int64) -> ChargedJob {
            ChargedJob(jobID: id, user: user, account: account, partition: partition, endTime: end, seconds: 60,
                       coreSeconds: 60, gpuSeconds: 0, charge: MicroUSDC(units: units))
        }
        let jobs = [job(1, "alice", "phys", "cpu", end: 100, 10), job(2, "alice", "phys", "gpu", end: 150, 20),
                    job(3, "bob", "phys", "cpu", end: 199, 5), job(4, "alice", "phys", "cpu", end: 200, 1000),
                    job(5, "alice", "phys", "cpu", end: 120, 7)]
        let byUser = Invoice.build(jobs, by: .user, start: 100, end: 200)
        #expect(byUser.map(\.name) == ["alice", "bob"])
        #expect(byUser[0].total.units == 37)
        #expect(byUser[0].lines.map(\.partition) == ["cpu", "gpu"])
        #expect(byUser[0].lines[0].jobs == 2)
        let byAccount = Invoice.build(jobs, by: .account, start: 100, end: 200)
        #expect(byAccount.count == 1 && byAccount[0].total.units == 42)
    }
}
