// swift-tools-version:6.0
// CHESS — Cluster HPC Efficient Scheduling System.
// Module map and dependency rules: docs/architecture.md (and ../shared/DESIGN.md, the target).
import PackageDescription

let package = Package(
    name: "chess",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "chessctl", targets: ["chessctl"]),
        .executable(name: "chessd", targets: ["chessd"]),
        .executable(name: "chess-nodeagent", targets: ["NodeAgent"]),
        .executable(name: "chess-supervisor", targets: ["SupervisorMain"]),
        .executable(name: "srun", targets: ["srun"]),
        .executable(name: "sbatch", targets: ["sbatch"]),
        .executable(name: "chess-bench", targets: ["ChessBench"]),
        .executable(name: "chess-fuzz", targets: ["chess-fuzz"]),
        .library(name: "SchedulerCore", targets: ["SchedulerCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SHA-256, HMAC and HKDF for the signatures between daemons (BoringSSL underneath).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // TLS on chessd's TCP listener and in its agents (never our own cryptography).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries from Debian (see .ci/run for the packages).
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        .systemLibrary(name: "CHwloc", path: "Sources/CHwloc", providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "CNuma", path: "Sources/CNuma", providers: [.apt(["libnuma-dev"])]),
        .systemLibrary(name: "CIbverbs", path: "Sources/CIbverbs", providers: [.apt(["libibverbs-dev"])]),
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1", providers: [.apt(["libsecp256k1-dev"])]),

        // System calls Swift's Glibc module does not offer (close_range), for the child between
        // fork and exec.
        .target(name: "CChessSystem"),

        // Pure, deterministic scheduling: model, priority, allocation, planners, simulator.
        .target(name: "SchedulerCore"),
        // Prices, charges and rewards in integer money.
        .target(name: "Billing", dependencies: ["SchedulerCore"]),
        // Escrow life cycle and settlements for the compute marketplace.
        .target(name: "MarketBridge", dependencies: ["Billing", "CSecp256k1"]),
        // Wire and file formats: what crosses a process boundary.
        // What crosses a process boundary between an agent, a job's supervisor and srun: the
        // launch and its result, steps, signals, sockets, the small JSON reader and writer. No
        // Foundation, so that the per-job `chess-supervisor` links neither it nor ChessAPI.
        // Every target that uses these types through ChessAPI's re-export names ChessWire too:
        // without the direct dependency an incremental build does not recompile it when a
        // ChessWire type's layout changes (seen: a stale chessd crashing on a StepPlan copy).
        .target(name: "ChessWire", dependencies: ["CChessSystem"]),
        // Slurm's job options as sbatch and srun read them (command line, `#SBATCH` directives,
        // SBATCH_* variables), the JobSubmission they make, and the `submit` command itself. No
        // Foundation, so that the `sbatch` binary starts as fast as the supervisor does.
        .target(name: "BatchSubmission", dependencies: ["ChessWire", "SchedulerCore"]),
        .target(name: "ChessAPI", dependencies: ["ChessWire", "BatchSubmission", "SchedulerCore", "Billing", "CZlib",
                                                .product(name: "Crypto", package: "swift-crypto")]),

        // chessd's configuration: the TOML file's meaning (ControllerConfiguration, its checks,
        // runtime changes replayed over it). Not a wire format: chessctl does not link it.
        .target(name: "ChessConfig", dependencies: ["ChessAPI", "ChessWire", "SchedulerCore", "Billing"]),

        .executableTarget(
            name: "chessctl",
            dependencies: [
                "ChessAPI", "ChessWire", "Billing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // A fully static binary starts in a third of the time of a dynamically linked one
            // (no symbol relocation across a dozen shared libraries): `submit` in a loop is
            // what batch pipelines do.
            swiftSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]
        ),
        // TLS for one connection on a socket its owner drives (swift-nio-ssl): chessd's TCP
        // listener, the agent's and the marketplace's connections to it.
        .target(name: "TransportSecurity", dependencies: [
            "ChessAPI", "ChessWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // HTTP/1.1 over Unix sockets and TCP on SwiftNIO's event loops: chessd's API and the agent's /metrics.
        .target(name: "HTTPServer", dependencies: [
            "ChessAPI", "ChessWire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The daemons' log handler: text from the other side shown, not acted on (docs/security.md).
        .target(name: "DaemonLogging", dependencies: ["ChessWire", .product(name: "Logging", package: "swift-log")]),
        // The controller's state and its rules, pure like SchedulerCore: no I/O, no locks, no
        // clock reads (docs/architecture.md). chessd is the shell around it.
        .target(name: "ControllerCore", dependencies: ["SchedulerCore", "Billing", "MarketBridge", "ChessAPI", "ChessWire"]),
        .executableTarget(
            name: "chessd",
            dependencies: [
                "ControllerCore", "ChessAPI", "ChessWire", "ChessConfig", "SchedulerCore", "Billing", "MarketBridge", "HTTPServer", "TransportSecurity", "CChessSystem", "DaemonLogging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Starting programs with posix_spawn and reaping them by pid: the agent's, the
        // benchmarks' and the tests' (never Foundation's Process: see ChildProcess).
        .target(name: "Spawning", dependencies: ["CChessSystem"]),
        // One job's supervisor (cgroup, binding, fork/exec, limits, usage), shared by the agent and
        // the small `chess-supervisor` binary the agent starts for each job.
        .target(name: "NodeSupervisor", dependencies: ["ChessWire", "Spawning", "CNuma", "CChessSystem"]),
        .executableTarget(
            name: "NodeAgent",
            dependencies: [
                "ChessAPI", "ChessWire", "NodeSupervisor", "Spawning", "HTTPServer", "TransportSecurity", "CChessSystem", "CHwloc", "CNuma", "CIbverbs", "DaemonLogging",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "SupervisorMain",
            dependencies: ["NodeSupervisor"],
            // Started once per job: static, like chessctl, so that it starts in a millisecond.
            swiftSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]
        ),

        // Slurm's sbatch: `SubmitCommand` alone, static and without Foundation, so that a
        // pipeline's loop of submits pays a third of chessctl's start-up per job.
        .executableTarget(
            name: "sbatch",
            dependencies: ["BatchSubmission", "ChessWire"],
            swiftSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]
        ),

        // Job steps inside a job, through the node agent's step socket: Slurm's srun. Static and
        // without Foundation, like sbatch: every step pays its start-up.
        .executableTarget(
            name: "srun",
            dependencies: ["BatchSubmission", "ChessWire"],
            swiftSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))],
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]
        ),

        // Every parser of outside bytes behind one entry per kind of input: the fuzzers' and the
        // regression corpus's (scripts/fuzz.sh, docs/security.md).
        .target(name: "InputFuzzing", dependencies: ["ChessAPI", "ChessWire", "ChessConfig", "Billing", "HTTPServer"]),
        .executableTarget(name: "chess-fuzz", dependencies: ["InputFuzzing"]),

        .executableTarget(
            name: "ChessBench",
            dependencies: ["SchedulerCore", "ChessAPI", "ChessWire", "Billing", "Spawning"],
            path: "Benchmarks/ChessBench"
        ),

        .testTarget(name: "SchedulerCoreTests", dependencies: ["SchedulerCore"]),
        .testTarget(name: "BillingTests", dependencies: ["Billing"]),
        .testTarget(name: "SpawningTests", dependencies: ["Spawning"]),
        .testTarget(name: "MarketBridgeTests", dependencies: ["MarketBridge", "Billing", "ChessAPI", "ChessWire", "Spawning"], exclude: ["Interop"]),
        .testTarget(name: "ChessAPITests", dependencies: ["ChessAPI", "ChessWire", "ChessConfig", "InputFuzzing", "Spawning"], exclude: ["Fixtures"]),
        // Drives the built `chessctl` binary as a user would; needs the product built first.
        .testTarget(name: "ChessctlTests", dependencies: ["ChessAPI", "ChessWire", "MarketBridge", "Billing", "NodeSupervisor", "Spawning", "TransportSecurity"], exclude: ["Fixtures"]),
        .testTarget(name: "ControllerCoreTests", dependencies: ["ControllerCore", "SchedulerCore", "ChessAPI", "ChessWire", "MarketBridge"]),
        .testTarget(name: "ChessdTests", dependencies: ["chessd", "ControllerCore", "HTTPServer", "ChessAPI", "ChessWire", "ChessConfig", "SchedulerCore", "Billing", "MarketBridge",
                                                      "DaemonLogging", .product(name: "GRDB", package: "GRDB.swift"),
                                                      .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "NodeSupervisor", "ChessAPI", "ChessWire", "Spawning",
                                                          .product(name: "Logging", package: "swift-log")], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
