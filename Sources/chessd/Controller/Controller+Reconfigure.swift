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

        let names = Set(next.cluster.nodes.map(\.name))
        lock.lock()
        let stranded = records.values.filter { $0.job.state.isActive }.flatMap { $0.job.allocation?.nodeNames ?? [] }.filter { !names.contains($0) }
        guard stranded.isEmpty else {
            lock.unlock()
            throw .conflict("\(HostList.compress(Array(Set(stranded)).sorted())) run jobs and are not in \(path) any more: drain them and let their jobs end first; nothing changed")
        }
        let added = next.cluster.nodes.map(\.name).filter { nodes[$0] == nil }
        let removed = nodes.keys.filter { !names.contains($0) }.sorted()
        fileConfiguration.withLock { $0 = next }
        configuredTopology = Dictionary(next.cluster.nodes.map { ($0.name, $0.topology) }, uniquingKeysWith: { a, _ in a })
        state.nodeAgents = next.nodeAgents
        ledger.halfLife = next.fairShareHalfLife
        for name in removed {
            nodes[name] = nil
            reportedTopology[name] = nil
        }
        // The scheduled topology of each registered node is its probe checked against the new
        // configuration, as at a registration; the others are as configured until they register.
        effective = effectiveNext
        var cluster = effectiveNext.cluster
        var nodeWrites: [(String, NodeStatus)] = []
        for (i, node) in cluster.nodes.enumerated() {
            guard var status = nodes[node.name] else {
                nodes[node.name] = NodeStatus(unregistered: node)
                continue
            }
            guard status.registered, let reported = reportedTopology[node.name] else { continue }
            let before = (status.adminState, status.reason)
            checkTopologyLocked(reported, node: i, in: &cluster, status: &status)
            nodes[node.name] = status
            if before != (status.adminState, status.reason) { nodeWrites.append((node.name, status)) }
        }
        index = ClusterIndex(cluster)
        lock.unlock()
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
