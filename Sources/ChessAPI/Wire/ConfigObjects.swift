import Foundation

/// The kinds of configuration objects `chessctl` can create, update and delete at run time.
public enum ConfigObjectKind: String, CaseIterable, Sendable, Codable {
    case partitions, qos, accounts, reservations

    /// `partition`, `qos`, … as the CLI and messages say it.
    public var singular: String {
        switch self {
        case .partitions: return "partition"
        case .qos: return "qos"
        case .accounts: return "account"
        case .reservations: return "reservation"
        }
    }
}

/// One runtime change: an object's full fields (created or updated), or its deletion.
public struct ConfigOverride: Sendable, Codable, Equatable {
    public var kind: ConfigObjectKind
    public var name: String
    /// nil: deleted.
    public var fields: [String: DocumentNode]?

    public init(kind: ConfigObjectKind, name: String, fields: [String: DocumentNode]?) {
        self.kind = kind
        self.name = name
        self.fields = fields
    }
}
