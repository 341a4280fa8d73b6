import Billing

/// MarketBridge will hold the escrow life cycle, settlements and their EIP-712 signatures
/// (issue 5). Today it only names the settlement currency it builds on, so that the module
/// boundary (MarketBridge ► Billing ► SchedulerCore) exists and is compiled.
public enum MarketBridge {
    public typealias SettlementAmount = MicroUSDC
}
