import ChessAPI
import Foundation
import GRDB

/// Runtime configuration changes (`chessctl partition|qos|account|reservation …`), kept in the
/// order they were made and replayed over the file at start-up.
enum ConfigTable {
    static func append(_ o: ConfigOverride, in db: Database) throws {
        let fields = try o.fields.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try db.execute(sql: "INSERT INTO config_objects (kind, name, fields) VALUES (?, ?, ?)",
                       arguments: [o.kind.rawValue, o.name, fields])
    }

    static func all(in db: Database) throws -> [ConfigOverride] {
        try Row.fetchAll(db, sql: "SELECT kind, name, fields FROM config_objects ORDER BY seq").compactMap { row in
            guard let kind = ConfigObjectKind(rawValue: row["kind"]) else { return nil }
            let json: String? = row["fields"]
            let fields = try json.map { try JSONDecoder().decode([String: DocumentNode].self, from: Data($0.utf8)) }
            return ConfigOverride(kind: kind, name: row["name"], fields: fields)
        }
    }
}
