import ChessAPI
import NodeSupervisor
import DaemonLogging
import Foundation
import Glibc
import HTTPServer
import Logging
import TransportSecurity

// chess-nodeagent: the CHESS node agent.
//
//   chess-nodeagent --controller HOST:PORT --key FILE [--name NAME] [--topology FILE.xml]
//                   [--emulate NAME=FILE.xml ...] [--spool DIR] [--id AGENT] [--metrics HOST:PORT]
//                   [--tls-ca FILE [--tls-name NAME]]
//   chess-nodeagent --probe [--topology FILE.xml] [--hwloc-summary | --node-config]
//                                                     print the topology it would register
//   chess-nodeagent --export-topology                 print this machine's hwloc XML
//   chess-nodeagent supervise SPOOL/jobs/ID            (internal) one job's supervisor
//   chess-nodeagent step SPOOL/jobs/ID/steps/N         (internal) one job step's supervisor
let version = "0.1.0"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("chess-nodeagent: \(message)\n".utf8))
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "supervise" {
    guard args.count == 2 else { fail("supervise needs the job's spool folder") }
    signal(SIGPIPE, SIG_IGN)
    exit(Supervisor.main(directory: args[1]))
}
if args.first == "step" {
    guard args.count == 2 else { fail("step needs the step's spool folder") }
    signal(SIGPIPE, SIG_IGN)
    exit(StepSupervisor.main(directory: args[1]))
}

// SIGTERM and SIGINT are blocked in every thread (threads inherit the mask of the one that starts
// them, and none is started yet) and taken by the main thread's `sigwait` at the end: one that
// arrives while the agent starts stays pending, so that a stop just after a start still stops.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

var controller: String?
var keyFile: String?
var tlsCA: String?
var tlsName: String?
var name: String?
var topologyFile: String?
var emulate: [(String, String)] = []
var spool = ProcessInfo.processInfo.environment["CHESS_SPOOL"] ?? "/var/spool/chess"
var agentID: String?
var killWait = 30
var probe = false
var hwlocSummary = false
var nodeConfig = false
var metricsAddress: String?
var stepSocket: String?
var advertise: String?

@MainActor func value(_ option: String) -> String {
    guard !args.isEmpty else { fail("\(option) needs a value") }
    return args.removeFirst()
}

while !args.isEmpty {
    let arg = args.removeFirst()
    switch arg {
    case "--controller": controller = value(arg)
    case "--key": keyFile = value(arg)
    case "--tls-ca": tlsCA = value(arg)
    case "--tls-name": tlsName = value(arg)
    case "--name": name = value(arg)
    case "--topology": topologyFile = value(arg)
    case "--emulate":
        let v = value(arg)
        guard let eq = v.firstIndex(of: "="), eq != v.startIndex else { fail("--emulate takes NAME=FILE.xml, got '\(v)'") }
        emulate.append((String(v[..<eq]), String(v[v.index(after: eq)...])))
    case "--spool": spool = value(arg)
    case "--id": agentID = value(arg)
    case "--kill-wait":
        guard let k = Int(value(arg)), k >= 0 else { fail("--kill-wait takes seconds") }
        killWait = k
    case "--probe": probe = true
    case "--hwloc-summary": probe = true; hwlocSummary = true
    case "--node-config": probe = true; nodeConfig = true
    case "--metrics": metricsAddress = value(arg)
    case "--step-socket": stepSocket = value(arg)
    case "--address": advertise = value(arg)
    case "--export-topology":
        do { print(try HwlocProbe.exportXML(), terminator: "") } catch { fail("\(error)") }
        exit(0)
    case "--version":
        print("chess-nodeagent \(version)")
        exit(0)
    case "--help", "-h":
        print("""
            usage: chess-nodeagent --controller HOST:PORT --key FILE [--name NAME] [--topology FILE.xml]
                                   [--emulate NAME=FILE.xml ...] [--spool DIR] [--id AGENT] [--kill-wait SECONDS]
                                   [--metrics HOST:PORT] [--step-socket PATH] [--address HOST]
                                   [--tls-ca FILE [--tls-name NAME]]
                   chess-nodeagent --probe [--topology FILE.xml] [--hwloc-summary | --node-config]
                   chess-nodeagent --export-topology

            --probe prints what the agent would register (JSON); with --hwloc-summary, hwloc's
            own counts (as hwloc-calc gives them); with --node-config, the [[nodes]] lines of
            chessd's configuration that describe it (Slurm's `slurmd -C`).

            Registers this host (as NAME, default its short host name; its hardware from hwloc, or
            from FILE.xml) and any emulated nodes with chessd, and runs the jobs chessd sends.
            Jobs run under supervisors that outlive the agent; the spool (default /var/spool/chess,
            or $CHESS_SPOOL) is how a restarted agent finds them again. `srun` inside a job reaches
            the agent on its step socket (default SPOOL/srun.sock; `none`: no steps). A step over
            other agents' nodes has them connect back to this host at --address (default: the
            address this host reaches the controller from).

            The agent is AGENT (default NAME): it signs with its own key, FILE, which
            `chessd --agent-key AGENT` makes on the controller (or the cluster key itself, from
            which it derives that key), and speaks only for the nodes chessd's configuration
            assigns it (`agent` in [[nodes]], default each node's own name).

            With --tls-ca the agent speaks TLS to chessd (whose configuration has [tls]) and
            accepts only a certificate that chains to a CA in FILE (PEM) and names the controller's
            host (or NAME; an IP address is checked against the certificate's IP entries).
            """)
        exit(0)
    default:
        fail("unknown argument '\(arg)' (chess-nodeagent --help)")
    }
}

let hostName: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count)
    let full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(full.split(separator: ".").first ?? "localhost")
}()

var nodes: [(name: String, topology: HostTopology, emulated: Bool)] = []
do {
    if emulate.isEmpty || name != nil || topologyFile != nil {
        var host = try HwlocProbe.load(xml: topologyFile)
        if topologyFile == nil {
            // The live host: its RDMA ports as libibverbs reports them (none is a valid answer).
            let ports = InfiniBandProbe.ports()
            if !ports.isEmpty { host.wire.hcas = ports.map(InfiniBandProbe.describe) }
            host.wire.numaDistances = NUMADistances.read(osIndexes: host.wire.numa.map { host.numaOSIndex[$0.id] ?? $0.id })
            // GPU names and UUIDs from NVML (or nvidia-smi); their NUMA domains came from hwloc.
            GPUProbe.merge(GPUProbe.discover(), into: &host.wire)
        }
        nodes.append((name ?? hostName, host, topologyFile != nil))
    }
    for (n, file) in emulate {
        nodes.append((n, try HwlocProbe.load(xml: file), true))
    }
} catch {
    fail("\(error)")
}

if probe, hwlocSummary {
    // hwloc's own counts, tab-separated as ../shared/data/hwloc/EXPECTED.tsv has them.
    print(HwlocSummary.columns.joined(separator: "\t"))
    for n in nodes { print(HwlocSummary(n.topology).description) }
    exit(0)
}
if probe, nodeConfig {
    // Slurm's `slurmd -C`: the configuration lines that describe what was probed.
    for n in nodes { print(NodeConfigLines.toml(name: n.name, n.topology.wire)) }
    exit(0)
}
if probe {
    let report = nodes.map { AgentNodeReport(name: $0.name, topology: $0.topology.wire) }
    print(String(decoding: WireJSON.encode(report, pretty: true), as: UTF8.self))
    exit(0)
}

guard let controller, let address = HostPort(controller) else { fail("--controller HOST:PORT is required") }
guard let keyFile else { fail("--key FILE (this agent's key, or the cluster key) is required") }
// The agent is named after the node it presents, unless --id says otherwise: chessd lets it speak
// for the nodes its configuration assigns to that name.
let agentName = agentID ?? name ?? hostName
let key: [UInt8]
do { key = try RequestSigning.loadAgentKey(path: keyFile, agent: agentName) } catch { fail("\(error)") }
var security: ConnectionSecurityFactory?
if let tlsCA {
    do { security = try TLSClientTrust(caFile: tlsCA, serverName: tlsName).factory(host: address.host) } catch { fail("--tls-ca: \(error)") }
} else if tlsName != nil {
    fail("--tls-name goes with --tls-ca")
}

LoggingSystem.bootstrap { label in
    var handler = NeutralizingLogHandler(StreamLogHandler.standardError(label: label))
    handler.logLevel = ProcessInfo.processInfo.environment["CHESS_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    return handler
}
let logger = Logger(label: "chess-nodeagent")
signal(SIGPIPE, SIG_IGN)

let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
let agent: Agent
do {
    agent = try Agent(id: agentName, nodes: nodes, spool: spool, executable: executable, killWait: killWait, logger: logger)
} catch {
    fail("\(spool): \(error)")
}
// The step socket for srun, before the first launch: jobs are told where it is.
let stepPath = stepSocket ?? "\(spool)/srun.sock"
if stepPath != "none" {
    do {
        let listener = try StepListener(agent: agent, path: stepPath)
        listener.start()
        agent.stepSocket = stepPath
    } catch {
        logger.error("no step socket: srun will not work in jobs here", metadata: ["error": "\(error)"])
    }
}
agent.removeStaleMembers()
agent.adoptSteps()
let running = agent.runningJobs()
logger.info("chess-nodeagent started", metadata: [
    "agent": "\(agent.id)", "nodes": "\(nodes.map(\.name).joined(separator: ","))", "controller": "\(address)",
    "spool": "\(spool)", "adopted_jobs": "\(running)", "cgroup": "\(Cgroup.detectedVersion?.rawValue ?? "none")",
])
let link = ControllerLink(agent: agent, address: address, key: key, security: security, version: version, logger: logger)
agent.controllerClient = { link.makeClient() }
agent.advertisedHost = advertise ?? TCPConnection.localAddress(towards: address)
link.start()
var metricsServer: SocketServer?
if let metricsAddress {
    guard let hp = HostPort(metricsAddress) else { fail("--metrics takes HOST:PORT, got '\(metricsAddress)'") }
    do {
        metricsServer = try SocketServer(endpoint: .tcp(hp), handler: AgentMetrics(agent: agent, link: link))
        metricsServer?.start()
        logger.info("serving /metrics", metadata: ["address": "\(hp.host):\(metricsServer?.boundPort ?? hp.port)"])
    } catch {
        fail("\(error)")
    }
}

// SIGTERM or SIGINT (blocked since the start, taken here) stops the agent; the jobs go on under
// their supervisors.
var received: Int32 = 0
while sigwait(&stopSignals, &received) != 0 {}
logger.info("stopping; running jobs continue under their supervisors")
link.stop()
exit(0)
