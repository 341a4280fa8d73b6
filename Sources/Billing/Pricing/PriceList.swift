/// What one partition charges, in micro-USDC per unit-hour of each resource.
///
/// Prices are per hour because that is how sites publish them; charges are computed per second
/// from them in one integer division (see `PriceList.charge`), so no rounding accumulates.
public struct PriceList: Sendable, Hashable, Codable {
    /// Per core-hour (per allocated CPU).
    public var coreHour: MicroUSDC
    /// Per GPU-hour of a GPU whose type has no price of its own.
    public var gpuHour: MicroUSDC
    /// Per GPU-hour by GPU type (`a100`, `h100`), overriding `gpuHour`.
    public var gpuHourByType: [String: MicroUSDC]
    /// Per GiB-hour of memory.
    public var memoryGiBHour: MicroUSDC
    /// Per node-hour, charged only when the job holds its nodes exclusively.
    public var exclusiveNodeHour: MicroUSDC

    public init(coreHour: MicroUSDC = .zero, gpuHour: MicroUSDC = .zero, gpuHourByType: [String: MicroUSDC] = [:],
                memoryGiBHour: MicroUSDC = .zero, exclusiveNodeHour: MicroUSDC = .zero) {
        self.coreHour = coreHour
        self.gpuHour = gpuHour
        self.gpuHourByType = gpuHourByType
        self.memoryGiBHour = memoryGiBHour
        self.exclusiveNodeHour = exclusiveNodeHour
    }

    public func gpuHour(type: String) -> MicroUSDC { gpuHourByType[type] ?? gpuHour }

    // The configuration's own key names, so that `chessctl price set` and the file agree.
    enum CodingKeys: String, CodingKey {
        case coreHour = "core_hour", gpuHour = "gpu_hour", gpuHourByType = "gpu_hour_by_type"
        case memoryGiBHour = "mem_gib_hour", exclusiveNodeHour = "node_hour"
    }

    /// What `resources` cost per hour at this list, in micro-USDC × 1024 (memory is priced per
    /// GiB and held in MiB, so the hourly rate is kept in 1/1024 units to stay exact).
    func hourlyRateTimes1024(_ r: BillableResources) -> Int128 {
        var rate = Int128(r.cores) * Int128(coreHour.units) * 1024
        for (type, count) in r.gpus { rate += Int128(count) * Int128(gpuHour(type: type).units) * 1024 }
        rate += Int128(r.memoryMB) * Int128(memoryGiBHour.units)
        if r.exclusive { rate += Int128(r.nodes) * Int128(exclusiveNodeHour.units) * 1024 }
        return rate
    }

    /// The price of holding `resources` for `seconds` with a QoS usage factor (per mille:
    /// 1000 is list price, 400 the 60% discount of spot capacity), rounded down to the
    /// micro-USDC: a fraction of a micro-USDC is never charged. Nil if it does not fit in Int64.
    public func charge(_ resources: BillableResources, seconds: Int64, usageFactorPermille: Int64 = 1000) -> MicroUSDC? {
        guard seconds >= 0, usageFactorPermille >= 0 else { return nil }
        let numerator = hourlyRateTimes1024(resources) * Int128(seconds) * Int128(usageFactorPermille)
        let units = numerator / (1024 * 3600 * 1000)
        guard units <= Int128(Int64.max) else { return nil }
        return MicroUSDC(units: Int64(units))
    }
}

/// The resources a job is priced for: what it requested (quotes) or what it was allocated
/// (settlement).
public struct BillableResources: Sendable, Hashable, Codable {
    public var nodes: Int
    public var cores: Int
    public var memoryMB: Int
    /// GPU count by type; untyped GPUs under `""`.
    public var gpus: [String: Int]
    public var exclusive: Bool

    public init(nodes: Int, cores: Int, memoryMB: Int, gpus: [String: Int] = [:], exclusive: Bool = false) {
        self.nodes = nodes
        self.cores = cores
        self.memoryMB = memoryMB
        self.gpus = gpus.filter { $0.value > 0 }
        self.exclusive = exclusive
    }

    enum CodingKeys: String, CodingKey { case nodes, cores, gpus, exclusive, memoryMB = "memory_mb" }
}
