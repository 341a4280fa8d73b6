import ChessAPI
import ChessConfig
import ControllerCore
import DaemonLogging
import Foundation
import Glibc
import HTTPServer
import Logging
import TransportSecurity

/// chessd: the CHESS controller. `chessd --config FILE` (default /etc/chess/chess.toml).
/// CHESS_STATE_DIR, CHESS_SOCKET and CHESS_LISTEN override the file's state directory, Unix
/// socket and TCP address.
let version = "0.1.0"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("chessd: \(message)\n".utf8))
    exit(1)
}

// SIGTERM, SIGINT and SIGHUP are blocked in every thread (threads inherit the mask of the one
// that starts them, and none is started yet) and taken by the main thread's `sigwait` at the
// end: one that arrives while chessd starts stays pending rather than being lost or killing it.
var handledSignals = sigset_t()
sigemptyset(&handledSignals)
for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&handledSignals, s) }
pthread_sigmask(SIG_BLOCK, &handledSignals, nil)

var configPath = ControllerConfiguration.defaultPath
var agentKeyFor: String?
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--agent-key":
        guard let name = arguments.popFirst(), !name.isEmpty else { fail("--agent-key needs the agent's name") }
        agentKeyFor = name
    case "--config", "-c":
        guard let p = arguments.popFirst() else { fail("--config needs a file") }
        configPath = p
    case _ where arg.hasPrefix("--config="):
        configPath = String(arg.dropFirst("--config=".count))
    case "--version":
        print("chessd \(version)")
        exit(0)
    case "--help", "-h":
        print("""
            usage: chessd [--config FILE]
                   chessd [--config FILE] --agent-key AGENT > agent.key

            The CHESS controller. FILE defaults to /etc/chess/chess.toml (see etc/chess.toml).
            --agent-key prints the key agent AGENT signs with, derived from the cluster key (give
            it to that node alone, as a root-only file: chess-nodeagent --key agent.key).
            Environment: CHESS_STATE_DIR, CHESS_SOCKET and CHESS_LISTEN override the file's
            state_dir, socket and listen.
            """)
        exit(0)
    default:
        fail("unknown argument '\(arg)' (chessd --help)")
    }
}

let environment = ProcessInfo.processInfo.environment
let configuration: ControllerConfiguration
do {
    configuration = try ControllerConfiguration.load(path: configPath, environment: environment)
} catch {
    fail("\(error)")
}
if let agent = agentKeyFor {
    guard let keyFile = configuration.keyFile else { fail("no key_file in \(configPath): there is no cluster key to derive from") }
    do {
        print(RequestSigning.agentKeyFile(clusterKey: try RequestSigning.loadKey(path: keyFile), agent: agent), terminator: "")
    } catch {
        fail("\(error)")
    }
    exit(0)
}

LoggingSystem.bootstrap { label in
    var handler = NeutralizingLogHandler(StreamLogHandler.standardError(label: label))
    handler.logLevel = environment["CHESS_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    return handler
}
let logger = Logger(label: "chessd")

signal(SIGPIPE, SIG_IGN)
// Everything chessd creates (the state directory, the database, its journals) is root's alone:
// the database holds every user's scripts and environments.
umask(0o077)
Memory.limitArenas(2)
let store: Store
let controller: Controller
var servers: [SocketServer] = []
do {
    store = try Store(directory: configuration.stateDirectory)
    controller = try Controller(configuration: configuration, configPath: configPath, store: store, logger: logger)
    let socketDirectory = (configuration.socketPath as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
    let authenticator = AgentAuthenticator(keyFile: configuration.keyFile)
    if let problem = authenticator.problem {
        // A key file that is named but refused (unreadable, another user's, open to others)
        // stops the start: running with it would mean trusting a secret others may hold.
        if configuration.keyFile != nil { fail("key_file: \(problem)") }
        if configuration.listen != nil { logger.warning("agents cannot connect", metadata: ["reason": "\(problem)"]) }
    }
    let router = Router(controller: controller, version: version, agents: authenticator)
    let s = configuration.server
    let limits = SocketServer.Limits(connections: s.maxConnections, connectionsPerPeer: s.maxConnectionsPerPeer,
                                     requestTimeout: Double(s.requestTimeout), idleTimeout: Double(s.idleTimeout))
    servers.append(try SocketServer(endpoint: .unix(path: configuration.socketPath), handler: router, limits: limits))
    if let listen = configuration.listen, let hp = HostPort(listen) {
        var security: ConnectionSecurityFactory?
        if let tls = configuration.tls {
            do {
                security = try TLSServerIdentity(certificate: tls.certificate, privateKey: tls.privateKey).factory
            } catch {
                fail("[tls]: \(error)")
            }
        }
        servers.append(try SocketServer(endpoint: .tcp(hp), handler: router, limits: limits, security: security))
    }
} catch {
    fail("\(error)")
}
for server in servers { server.start() }
controller.startSchedulingLoop()
controller.requestPass()
logger.info("chessd started", metadata: [
    "cluster": "\(configuration.clusterName)", "socket": "\(configuration.socketPath)",
    "listen": "\(servers.compactMap { s in s.boundPort.map { "\(s.endpoint) (port \($0))" } }.first ?? "none")",
    "tls": "\(configuration.listen == nil ? "-" : configuration.tls == nil ? "off" : "on")", "state_dir": "\(configuration.stateDirectory)",
    "policy": "\(configuration.planner.policy.rawValue)", "pid": "\(getpid())",
])

// The main thread takes the signals blocked at the start, one at a time. SIGHUP reads the
// configuration file again, as `chessctl reconfigure` does (slurmctld's SIGHUP); SIGTERM and
// SIGINT shut down gracefully: stop accepting, finish the pass, commit what is queued, exit.
while true {
    var received: Int32 = 0
    guard sigwait(&handledSignals, &received) == 0 else { continue }
    if received == SIGHUP {
        do {
            _ = try controller.reconfigure(identity: Identity(user: "root", uid: 0, gid: 0, admin: true))
        } catch {
            logger.error("the configuration file was not taken", metadata: ["path": "\(configPath)", "error": "\(error)"])
        }
        continue
    }
    logger.info("shutting down", metadata: ["signal": "\(received)"])
    for server in servers { server.stop() }
    controller.stop()
    store.close()
    exit(0)
}
