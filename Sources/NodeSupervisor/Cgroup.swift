import FoundationEssentials
import Glibc

/// A job's control group: CPU set, memory limit, and freezing for suspend. Written straight
/// into the cgroup file system: the v2 unified tree when the machine has it (no system bus
/// needed, as with a delegated subtree), else the v1 controllers. Where neither is writable
/// (a container, a non-root agent) the job runs without one and the reason is logged.
public struct Cgroup {
    public enum Version: String, Sendable { case v1, v2 }

    let version: Version
    /// v2: the job's directory. v1: one directory per controller.
    let paths: [String: String]

    public static let root = "/sys/fs/cgroup"

    public static var detectedVersion: Version? {
        if exists("\(root)/cgroup.controllers") { return .v2 }
        if exists("\(root)/cpuset/cpuset.cpus") { return .v1 }
        return nil
    }

    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A run's group name: `<cluster>_<node>_job_<id>`, with `.<run>` for later runs of a
    /// requeued job. The cluster is in it because one host may serve several clusters (test
    /// clusters side by side, say), each with its own job 1: a shared group would let one job's
    /// end kill the other's processes. The node says which emulated node the job runs on.
    public static func name(cluster: String, node: String, job: Int, run: Int) -> String {
        // A slash would make a path of it (by hand, not Foundation's replacing: once per job in a new process).
        let base = String(decoding: "\(cluster)_\(node)_job_\(job)".utf8.map { $0 == UInt8(ascii: "/") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
        return run == 0 ? base : "\(base).\(run)"
    }

    /// The group of the run a launch plan describes.
    public static func name(_ plan: LaunchPlan) -> String {
        name(cluster: plan.clusterName, node: plan.node, job: plan.launch.job, run: plan.launch.run)
    }

    /// Whether the group `chess/<name>` is there (a step joins its job's group rather than
    /// making one it would remove).
    static func exists(name: String) -> Bool {
        switch detectedVersion {
        case .v2: return exists("\(root)/chess/\(name)")
        case .v1: return exists("\(root)/cpuset/chess/\(name)")
        case nil: return false
        }
    }

    /// Creates `chess/<name>` with the CPUs, memory nodes and memory limit given.
    static func create(name: String, cpus: [Int], mems: [Int], memoryBytes: Int?) throws -> Cgroup {
        guard let version = detectedVersion else { throw Failure(description: "no cgroup file system at \(root)") }
        let cpuList = cpus.map(String.init).joined(separator: ",")
        let memList = mems.map(String.init).joined(separator: ",")
        switch version {
        case .v2:
            let parent = "\(root)/chess"
            try makeDirectory(parent)
            // Delegate the controllers to the children of `chess`.
            try? write("+cpuset +memory +pids", to: "\(root)/cgroup.subtree_control")
            try? write("+cpuset +memory +pids", to: "\(parent)/cgroup.subtree_control")
            let dir = "\(parent)/\(name)"
            try makeDirectory(dir)
            if !cpuList.isEmpty { try? write(cpuList, to: "\(dir)/cpuset.cpus") }
            if !memList.isEmpty { try? write(memList, to: "\(dir)/cpuset.mems") }
            if let memoryBytes { try write("\(memoryBytes)", to: "\(dir)/memory.max") }
            try? write("0", to: "\(dir)/memory.swap.max")
            return Cgroup(version: .v2, paths: ["unified": dir])
        case .v1:
            var paths: [String: String] = [:]
            let cpuset = "\(root)/cpuset/chess"
            try makeDirectory(cpuset)
            // A v1 cpuset needs its CPUs and memory nodes before it takes tasks, parents first.
            try inheritIfEmpty(cpuset, "cpuset.cpus")
            try inheritIfEmpty(cpuset, "cpuset.mems")
            let cpusetJob = "\(cpuset)/\(name)"
            try makeDirectory(cpusetJob)
            try write(cpuList.isEmpty ? try read("\(cpuset)/cpuset.cpus") : cpuList, to: "\(cpusetJob)/cpuset.cpus")
            try write(memList.isEmpty ? try read("\(cpuset)/cpuset.mems") : memList, to: "\(cpusetJob)/cpuset.mems")
            paths["cpuset"] = cpusetJob
            let memory = "\(root)/memory/chess/\(name)"
            if (try? makeDirectory("\(root)/memory/chess")) != nil, (try? makeDirectory(memory)) != nil {
                if let memoryBytes { try write("\(memoryBytes)", to: "\(memory)/memory.limit_in_bytes") }
                paths["memory"] = memory
            }
            let freezer = "\(root)/freezer/chess/\(name)"
            if (try? makeDirectory("\(root)/freezer/chess")) != nil, (try? makeDirectory(freezer)) != nil {
                paths["freezer"] = freezer
            }
            return Cgroup(version: .v1, paths: paths)
        }
    }

    /// Moves a process (and its future children) into the group.
    func add(pid: Int32) throws {
        for (_, dir) in paths {
            try Cgroup.write("\(pid)", to: "\(dir)/\(version == .v2 ? "cgroup.procs" : "tasks")")
        }
    }

    /// Freezes (suspend) or thaws (resume) every process of the job.
    func freeze(_ frozen: Bool) throws {
        switch version {
        case .v2: try Cgroup.write(frozen ? "1" : "0", to: "\(paths["unified"]!)/cgroup.freeze")
        case .v1:
            guard let f = paths["freezer"] else { throw Failure(description: "no freezer controller") }
            try Cgroup.write(frozen ? "FROZEN" : "THAWED", to: "\(f)/freezer.state")
        }
    }

    /// Peak memory in bytes, as the kernel counted it for the whole group.
    var peakMemoryBytes: Int? {
        switch version {
        case .v2: return (try? Cgroup.read("\(paths["unified"]!)/memory.peak")).flatMap { Int($0) }
        case .v1: return paths["memory"].flatMap { try? Cgroup.read("\($0)/memory.max_usage_in_bytes") }.flatMap { Int($0) }
        }
    }

    /// Whether the kernel killed something in the group for running out of memory.
    var hadOOMKill: Bool {
        switch version {
        case .v2:
            guard let events = try? Cgroup.read("\(paths["unified"]!)/memory.events") else { return false }
            return events.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        case .v1:
            guard let m = paths["memory"], let ctl = try? Cgroup.read("\(m)/memory.oom_control") else { return false }
            return ctl.split(separator: "\n").contains { $0.hasPrefix("oom_kill ") && !$0.hasSuffix(" 0") }
        }
    }

    /// Kills what is left in the group and removes it.
    func remove() {
        for (_, dir) in paths {
            let tasks = (try? Cgroup.read("\(dir)/\(version == .v2 ? "cgroup.procs" : "tasks")")) ?? ""
            for pid in tasks.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        for _ in 0..<50 {
            var remaining = false
            for (_, dir) in paths where rmdir(dir) != 0 && errno != ENOENT { remaining = true }
            if !remaining { return }
            usleep(20_000)
        }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
        }
    }

    static func inheritIfEmpty(_ dir: String, _ file: String) throws {
        let current = (try? read("\(dir)/\(file)")) ?? ""
        if current.isEmpty {
            let parent = String(dir[..<(dir.lastIndex(of: "/") ?? dir.endIndex)])
            try write(try read("\(parent)/\(file)"), to: "\(dir)/\(file)")
        }
    }

    public static func write(_ value: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw Failure(description: "\(path): writing '\(value)': \(String(cString: strerror(errno)))")
        }
    }

    static func read(_ path: String) throws -> String {
        guard let bytes = JobSpool.readBytes(path) else { throw Failure(description: "\(path): cannot read") }
        return PlainText.trimmed(bytes)
    }
}
