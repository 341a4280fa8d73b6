import ChessAPI
import ChessConfig
import ControllerCore
import Foundation
import SchedulerCore

extension ControllerConfiguration {
    /// The file at `path`, with the environment's overrides of its state directory
    /// (`CHESS_STATE_DIR`), Unix socket (`CHESS_SOCKET`) and TCP address (`CHESS_LISTEN`; empty
    /// or `none` for no TCP): what chessd runs with, at start and at each `reconfigure`.
    static func load(path: String, environment: [String: String]) throws -> ControllerConfiguration {
        var c = try ConfigurationFile.load(path: path)
        if let dir = environment["CHESS_STATE_DIR"], !dir.isEmpty { c.stateDirectory = dir }
        if let socket = environment["CHESS_SOCKET"], !socket.isEmpty { c.socketPath = socket }
        if let listen = environment["CHESS_LISTEN"] {
            if listen.isEmpty || listen == "none" {
                c.listen = nil
            } else {
                guard HostPort(listen) != nil else { throw APIError.invalid("CHESS_LISTEN: '\(listen)' is not HOST:PORT") }
                c.listen = listen
            }
        }
        // Without [tls], agents' requests and chessd's commands cross the network in clear
        // (signed, not hidden): beyond this host only when the configuration says so.
        if let listen = c.listen, let hp = HostPort(listen), !hp.isLoopback, c.tls == nil, !c.server.cleartextTCP {
            throw APIError.invalid("listen = \"\(listen)\" is beyond this host and TCP here is cleartext (agents' requests and chessd's answers are signed, not encrypted): give [tls] certificate and private_key, or set cleartext_tcp = true under [server] to accept cleartext (on a trusted management network), or listen on 127.0.0.1")
        }
        return c
    }

    /// The runtime changes replayed over this configuration in order, as at every start; each
    /// one it no longer allows is skipped and named with why.
    func replaying(_ overrides: [ConfigOverride]) -> (ControllerConfiguration, skipped: [String]) {
        var config = self
        var skipped: [String] = []
        for o in overrides {
            do { config = try config.applying([o]) } catch { skipped.append("\(o.kind.singular) '\(o.name)': \(error)") }
        }
        return (config, skipped)
    }
}

/// `chessctl reconfigure` and SIGHUP (scontrol reconfigure): the configuration file read again
/// while chessd runs, with the runtime changes replayed over it as at a start.
extension Controller {
    /// Takes the configuration file as it is now: nodes, partitions, QoS, accounts,
    /// reservations, prices, scheduler settings, operators, time-outs. A file that does not parse
    /// or check changes nothing. What chessd reads only at start (its state directory, sockets,
    /// key file, cluster name, `[market]`, the billing rules settlements follow) keeps its value
    /// until a restart and is named in the answer. A node removed from the file while it runs
    /// jobs refuses the whole change.
    func reconfigure(identity: Identity) throws(APIError) -> ReconfigureResponse {
        guard identity.admin else { throw .forbidden("only root or an operator may reconfigure chessd") }
        guard let path = configPath else { throw .conflict("chessd was not started from a configuration file") }
        var next: ControllerConfiguration
        do {
            next = try ControllerConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw .invalid("\(error); nothing changed")
        }
        configChangeLock.lock()
        defer { configChangeLock.unlock() }
        let old = configuration
        var restart: [String] = []
        func keep<T: Equatable>(_ key: String, _ field: WritableKeyPath<ControllerConfiguration, T>) {
            if next[keyPath: field] != old[keyPath: field] {
                restart.append(key)
                next[keyPath: field] = old[keyPath: field]
            }
        }
        keep("cluster_name", \.clusterName)
        keep("state_dir", \.stateDirectory)
        keep("socket", \.socketPath)
        keep("listen", \.listen)
        keep("key_file", \.keyFile)
        keep("[tls]", \.tls)
        keep("[market]", \.market)
        if market != nil { keep("[billing]", \.billing) }

        let overrides: [ConfigOverride]
        do { overrides = try store.read { try ConfigTable.all(in: $0) } } catch { throw .internal("store: \(error)") }
        let (effectiveNext, skipped) = next.replaying(overrides)

        lock.lock()
        var changes = StateChanges()
        let outcome: ControllerState.NodesReconfigured
        do {
            outcome = try state.reconfigureNodes(file: next.cluster, effective: effectiveNext.cluster, nodeAgents: next.nodeAgents,
                                                 fairShareHalfLife: next.fairShareHalfLife, source: path, changes: &changes)
        } catch {
            lock.unlock()
            throw error
        }
        fileConfiguration.withLock { $0 = next }
        effective = effectiveNext
        lock.unlock()
        let (added, removed, nodeWrites) = (outcome.added, outcome.removed, changes.nodes)
        if !nodeWrites.isEmpty { persist(changed: [], events: [], nodes: nodeWrites, now: clock.now()) }
        for s in skipped { logger.error("a stored configuration change no longer fits the file; skipped", metadata: ["change": "\(s)"]) }
        logger.info("configuration file read again", metadata: [
            "path": "\(path)", "by": "\(identity.user)", "nodes_added": "\(HostList.compress(added))",
            "nodes_removed": "\(HostList.compress(removed))", "restart_needed": "\(restart.joined(separator: ","))",
        ])
        requestPass()
        return ReconfigureResponse(path: path, nodesAdded: added, nodesRemoved: removed, restartNeeded: restart, skipped: skipped)
    }
}
