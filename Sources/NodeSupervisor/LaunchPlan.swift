import ChessAPI
import Foundation

/// What the supervisor of one job needs, written by the agent into the job's spool folder
/// before the supervisor starts (so that a supervisor restarted or inspected later reads the
/// same thing).
public struct LaunchPlan: Codable, Sendable {
    public var launch: JobLaunch
    /// The node this agent runs the batch script on (the allocation's first).
    public var node: String
    /// OS CPUs to bind to (the allocated cores' hardware threads on this host).
    public var cpus: [Int]
    /// OS NUMA nodes to bind memory to.
    public var mems: [Int]
    /// The cgroup memory limit; nil: none.
    public var memoryBytes: Int?
    /// GPU indices, PCI bus order.
    public var gpus: [Int]
    /// Seconds between TERM and KILL (Slurm's KillWait).
    public var killWait: Int
    public var clusterName: String
    /// The agent's step socket, for `srun` (`CHESS_STEP_SOCKET`); nil: the agent has none.
    public var stepSocket: String?
    /// A folder with CHESS's `srun`, put first in the job's `PATH` (before a Slurm installation
    /// on the same machine): where the agent's binaries are.
    public var toolsDirectory: String?

    public init(launch: JobLaunch, node: String, cpus: [Int], mems: [Int], memoryBytes: Int?, gpus: [Int], killWait: Int,
                clusterName: String, stepSocket: String? = nil, toolsDirectory: String? = nil) {
        self.stepSocket = stepSocket
        self.toolsDirectory = toolsDirectory
        self.launch = launch
        self.node = node
        self.cpus = cpus
        self.mems = mems
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.killWait = killWait
        self.clusterName = clusterName
    }
}

/// How a job ended, as the supervisor writes it to `result.json`.
public typealias JobResult = JobCompletion

/// A job's folder in the agent's spool: `plan.json`, `script`, `supervisor.pid`, `job.pid`,
/// `cancel` (why the agent stopped it), `result.json`. The result stays until the controller
/// acknowledges it, so a completion survives agent and controller restarts.
public struct JobSpool: Sendable {
    public let directory: String

    /// `jobs/<id>.<run>`: each run of a job (a requeued job runs again) has a folder of its own.
    public init(spool: String, job: Int, run: Int) { directory = "\(spool)/jobs/\(job).\(run)" }
    public init(directory: String) { self.directory = directory }

    public var job: Int? { Int((directory as NSString).lastPathComponent.split(separator: ".").first ?? "") }
    public var run: Int { Int((directory as NSString).lastPathComponent.split(separator: ".").dropFirst().first ?? "") ?? 0 }

    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o711])
    }

    /// Writes atomically and durably: a temporary file, fsync, rename, fsync of the folder.
    public func writeDurably(_ name: String, _ data: Data) throws {
        let tmp = path(".\(name).tmp")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError(description: "\(tmp): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == data.count else { throw SpoolError(description: "\(tmp): short write") }
        guard rename(tmp, path(name)) == 0 else { throw SpoolError(description: "\(path(name)): \(String(cString: strerror(errno)))") }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    public func read(_ name: String) -> Data? { FileManager.default.contents(atPath: path(name)) }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    public var plan: LaunchPlan? { read("plan.json").flatMap { try? JSONDecoder().decode(LaunchPlan.self, from: $0) } }
    public var result: JobResult? { read("result.json").flatMap { try? JSONDecoder().decode(JobResult.self, from: $0) } }

    public func pid(_ name: String) -> Int32? {
        read(name).flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The supervisor is still alive (a process with its pid exists and is ours).
    public var supervisorAlive: Bool {
        guard let pid = pid("supervisor.pid") else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // A reused pid would not have our spool folder on its command line.
        let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
        return cmdline.contains(directory)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

public struct SpoolError: Error, CustomStringConvertible {
    public let description: String
}
