import Glibc
import ChessWire
import FoundationEssentials

/// What the supervisor of one job needs, written by the agent into the job's spool folder
/// before the supervisor starts (so that a supervisor restarted or inspected later reads the
/// same thing).
public struct LaunchPlan: Codable, Sendable, Equatable {
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
    /// The job's user's groups (`getgrouplist`), resolved by the agent: the job's process takes
    /// them with `setgroups`. Not `initgroups` in the supervisor, a static binary: it would load
    /// the NSS modules (built against another glibc than the node's, perhaps) and ask the
    /// directory service (LDAP, SSSD) once per job — Slurm sends the groups for the same reasons
    /// (`send_gids`). Nil (a plan of an older agent): `initgroups`.
    public var groups: [UInt32]?

    public init(launch: JobLaunch, node: String, cpus: [Int], mems: [Int], memoryBytes: Int?, gpus: [Int], killWait: Int,
                clusterName: String, stepSocket: String? = nil, toolsDirectory: String? = nil, groups: [UInt32]? = nil) {
        self.groups = groups
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

extension LaunchPlan {
    /// Reads `plan.json` without `JSONDecoder` (see `JobLaunch(scanning:)`: a supervisor is a new
    /// process per job). Throws on anything the Codable form would not read the same way; the
    /// caller falls back to the Codable form.
    public init(scanning bytes: [UInt8]) throws {
        var s = JSONScanner(bytes)
        var launch: JobLaunch?, node: String?, cpus: [Int]?, mems: [Int]?, memoryBytes: Int?, gpus: [Int]?, killWait: Int?
        var clusterName: String?, stepSocket: String?, toolsDirectory: String?, groups: [UInt32]?
        try s.beginObject()
        while let key = try s.nextKey() {
            switch key {
            case "launch": launch = try JobLaunch(scanning: &s)
            case "node": node = try s.string()
            case "cpus": cpus = try s.intArray()
            case "mems": mems = try s.intArray()
            case "memoryBytes": memoryBytes = try s.optionalInt()
            case "gpus": gpus = try s.intArray()
            case "killWait": killWait = try s.int()
            case "clusterName": clusterName = try s.string()
            case "stepSocket": stepSocket = try s.optionalString()
            case "toolsDirectory": toolsDirectory = try s.optionalString()
            case "groups": groups = s.null() ? nil : try s.uint32Array()
            default: try s.skipValue()
            }
        }
        try s.end()
        guard let launch, let node, let cpus, let mems, let gpus, let killWait, let clusterName else {
            throw SpoolError(description: "plan.json: a required key is missing")
        }
        self.init(launch: launch, node: node, cpus: cpus, mems: mems, memoryBytes: memoryBytes, gpus: gpus, killWait: killWait,
                  clusterName: clusterName, stepSocket: stepSocket, toolsDirectory: toolsDirectory, groups: groups)
    }
}

/// How a job ended, as the supervisor writes it to `result.json`.
public typealias JobResult = JobCompletion

/// A job's folder in the agent's spool: `plan.json`, `script`, `supervisor.pid`, `job.pid` and `job.identity`,
/// `cancel` (why the agent stopped it), `result.json`. The result stays until the controller
/// acknowledges it, so a completion survives agent and controller restarts.
public struct JobSpool: Sendable {
    public let directory: String

    /// `jobs/<id>.<run>`: each run of a job (a requeued job runs again) has a folder of its own.
    public init(spool: String, job: Int, run: Int) { directory = "\(spool)/jobs/\(job).\(run)" }
    public init(directory: String) { self.directory = directory }

    public var job: Int? { Int(PathText.lastComponent(directory).split(separator: ".").first ?? "") }
    public var run: Int { Int(PathText.lastComponent(directory).split(separator: ".").dropFirst().first ?? "") ?? 0 }

    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    public func create() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o711])
    }

    /// Writes atomically and durably: a temporary file, fsync, rename, fsync of the folder.
    public func writeDurably(_ name: String, _ data: Data) throws {
        try data.withUnsafeBytes { try writeDurably(name, $0) }
    }

    /// The same from bytes (a supervisor's own writes: no `Data` to make in a new process).
    public func writeDurably(_ name: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeDurably(name, $0) }
    }

    private func writeDurably(_ name: String, _ data: UnsafeRawBufferPointer) throws {
        let tmp = path(".\(name).tmp")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SpoolError(description: "\(tmp): \(String(cString: strerror(errno)))") }
        let written = Glibc.write(fd, data.baseAddress, data.count)
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

    public func read(_ name: String) -> Data? { Self.readBytes(path(name)).map { Data($0) } }

    /// A file's bytes, through plain system calls (a supervisor reads its spool once per job
    /// and per wake: FileManager's first use costs more than the read); nil when it cannot be read.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes a whole file (created with `mode`, truncated if there; never through a symlink);
    /// the reason when it could not.
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { return "\(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return "\(path): \(String(cString: strerror(errno)))" }
            offset += n
        }
        return nil
    }

    public func exists(_ name: String) -> Bool {
        var st = stat()
        return stat(path(name), &st) == 0
    }

    public var plan: LaunchPlan? {
        guard let bytes = Self.readBytes(path("plan.json")) else { return nil }
        if let plan = try? LaunchPlan(scanning: bytes) { return plan }
        return try? JSONDecoder().decode(LaunchPlan.self, from: Data(bytes))
    }
    public var result: JobResult? { read("result.json").flatMap { try? JSONDecoder().decode(JobResult.self, from: $0) } }

    public func pid(_ name: String) -> Int32? {
        Self.readBytes(path(name)).flatMap { Int32(PlainText.trimmed($0)) }
    }

    /// The supervisor is still alive (a process with its pid exists and is ours). Every check
    /// of a supervisor's life goes through here: the agent signals the process groups of the
    /// steps it believes alive, as root, so a pid the kernel has given to another process since
    /// must not pass.
    public var supervisorAlive: Bool {
        guard let pid = pid("supervisor.pid") else { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // Supervisors run as the agent's user (root): another user's process at that pid is not
        // one, and its arguments — paths of that user's choosing — are not resolved below.
        var owner = stat()
        guard stat("/proc/\(pid)", &owner) == 0, owner.st_uid == geteuid() else { return false }
        // A reused pid would not have our spool folder as an argument: `chess-supervisor DIR`,
        // `chess-supervisor step DIR`. Whole arguments, not a substring (step 1's folder is a
        // prefix of step 10's); spelled as we spell it, or naming the same folder otherwise (an
        // agent before an upgrade may have written it through a link or with `//`).
        let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if arguments.contains(directory) { return true }
        guard let folder = Self.resolved(directory) else { return false }
        // A relative argument is relative to the supervisor's own working directory.
        return arguments.dropFirst().contains { Self.resolved($0.hasPrefix("/") ? $0 : "/proc/\(pid)/cwd/\($0)") == folder }
    }

    /// `path` resolved (`realpath`): absolute, without links, `.`, `..`, doubled or trailing
    /// slashes; nil when it names nothing.
    public static func resolved(_ path: String) -> String? {
        guard let full = realpath(path, nil) else { return nil }
        defer { free(full) }
        return String(cString: full)
    }

    /// The job's process group (`job.pid`), while it is still the job's: the process at that
    /// pid is the one the supervisor started (`job.identity`: same boot, same start time). A
    /// folder from before a reboot, or one whose job has long ended, names a pid the kernel may
    /// have given to any process since; the agent, as root, must not signal that group. Without
    /// `job.identity` (a supervisor that has not written it yet, or from before it existed), the
    /// group counts only while the job's supervisor lives.
    public var jobGroup: Int32? {
        guard let pgid = pid("job.pid") else { return nil }
        guard let recorded = Self.readBytes(path("job.identity")).flatMap({ ProcessIdentity(text: String(decoding: $0, as: UTF8.self)) }) else {
            return supervisorAlive ? pgid : nil
        }
        return ProcessIdentity.of(pgid) == recorded ? pgid : nil
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

public struct SpoolError: Error, CustomStringConvertible {
    public let description: String
}
