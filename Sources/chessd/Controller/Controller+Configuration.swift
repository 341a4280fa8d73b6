import ChessAPI
import ChessConfig
import ControllerCore
import Foundation
import SchedulerCore

/// Partitions, QoS, accounts and reservations changed at run time. Each change is checked by
/// applying it to the configuration as the file would be checked, stored, and replayed over the
/// file at the next start.
extension Controller {
    enum ObjectChange {
        case create([String: DocumentNode])
        /// Fields to set; a null removes the field.
        case update([String: DocumentNode])
        case delete
    }

    func configObjects(_ kind: ConfigObjectKind) -> [[String: DocumentNode]] {
        lock.lock()
        defer { lock.unlock() }
        return effective.objects(kind)
    }

    func configObject(_ kind: ConfigObjectKind, _ name: String) throws(APIError) -> [String: DocumentNode] {
        lock.lock()
        defer { lock.unlock() }
        guard let o = effective.object(kind, named: name) else { throw .notFound("\(kind.singular) '\(name)' does not exist") }
        return o
    }

    @discardableResult
    func changeObject(_ kind: ConfigObjectKind, _ name: String, _ change: ObjectChange,
                      identity: Identity) throws(APIError) -> [String: DocumentNode]? {
        guard identity.admin else { throw .forbidden("only root or an operator may change \(kind.rawValue)") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw .badRequest("'\(name)' is not a valid name (letters, digits, '-', '_', '.')")
        }
        // One change at a time, so that each is checked against the one before.
        configChangeLock.lock()
        defer { configChangeLock.unlock() }
        lock.lock()
        let current = effective
        let existing = current.object(kind, named: name)
        let liveUse = state.liveJobsUse(kind, named: name)
        lock.unlock()

        var fields: [String: DocumentNode]?
        switch change {
        case .create(let f):
            guard existing == nil else { throw .conflict("\(kind.singular) '\(name)' already exists; use update") }
            fields = f
        case .update(let f):
            guard var merged = existing else { throw .notFound("\(kind.singular) '\(name)' does not exist; use create") }
            for (k, v) in f {
                if k == "name" { continue }
                if v == .null { merged[k] = nil } else { merged[k] = v }
            }
            fields = merged
        case .delete:
            guard existing != nil else { throw .notFound("\(kind.singular) '\(name)' does not exist") }
            if liveUse { throw .conflict("\(kind.singular) '\(name)' is used by pending or running jobs; cancel them or wait") }
            if kind == .partitions && name == current.defaultPartition {
                throw .conflict("partition '\(name)' is the default partition (default_partition in the configuration file)")
            }
        }
        if var f = fields { f["name"] = .string(name); fields = f }
        let override = ConfigOverride(kind: kind, name: name, fields: fields)
        let next: ControllerConfiguration
        do {
            next = try current.applying([override])
        } catch {
            throw .invalid("\(error)")
        }
        do {
            try store.writeAndWait { db in try ConfigTable.append(override, in: db) }
        } catch {
            throw .unavailable("the change could not be stored: \(error)")
        }
        lock.lock()
        adopt(next)
        lock.unlock()
        logger.info("configuration changed", metadata: ["kind": "\(kind.rawValue)", "name": "\(name)",
                                                        "by": "\(identity.user)", "change": "\(fields == nil ? "delete" : "set")"])
        requestPass()
        return fields
    }

    /// Makes `next` the running configuration, keeping what agents reported about nodes.
    func adopt(_ next: ControllerConfiguration) {
        effective = next
        state.adoptRuntimeChange(next.cluster)
    }
}
