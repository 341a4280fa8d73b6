/// Prices for every partition, from the configuration (`[billing.prices.NAME]`) with the changes
/// made at run time (`chessctl price set`).
public struct PriceCatalogue: Sendable, Hashable, Codable {
    public var partitions: [String: PriceList]

    public init(partitions: [String: PriceList] = [:]) { self.partitions = partitions }

    /// A partition without a price list is not for sale: marketplace quotes for it are refused.
    public func prices(for partition: String) -> PriceList? { partitions[partition] }
}
