import ChessAPI
import ControllerCore
import Foundation
import GRDB

/// Node states admins set (drain, down), kept across restarts.
enum NodeTable {
    static func save(_ name: String, _ status: NodeStatus, in db: Database) throws {
        let json = String(decoding: try StreamingJSONEncoder().encode(status), as: UTF8.self)
        try db.execute(sql: "INSERT OR REPLACE INTO nodes (name, record) VALUES (?, ?)", arguments: [name, json])
    }

    static func all(in db: Database) throws -> [String: NodeStatus] {
        var out: [String: NodeStatus] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, record FROM nodes") {
            let json: String = row["record"]
            out[row["name"]] = try JSONDecoder().decode(NodeStatus.self, from: Data(json.utf8))
        }
        return out
    }
}
