/// The configured cluster: what a pass plans against.
public struct Cluster: Sendable, Hashable, Codable {
    public var name: String
    public var nodes: [Node]
    public var partitions: [Partition]
    public var qos: [QoS]
    public var accounts: [Account]
    public var reservations: [Reservation]
    /// Cluster-wide licenses (Slurm's `Licenses=`): how many of each exist.
    public var licenses: [String: Int]

    public init(name: String = "chess", nodes: [Node], partitions: [Partition], qos: [QoS] = [QoS(name: "normal")],
                accounts: [Account] = [Account(name: "default")], reservations: [Reservation] = [], licenses: [String: Int] = [:]) {
        self.name = name
        self.nodes = nodes
        self.partitions = partitions
        self.qos = qos
        self.accounts = accounts
        self.reservations = reservations
        self.licenses = licenses
    }

    public func partition(named name: String) -> Partition? { partitions.first { $0.name == name } }
    public func qos(named name: String) -> QoS? { qos.first { $0.name == name } }
}
