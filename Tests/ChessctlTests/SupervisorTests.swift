import ChessAPI
import Foundation
import NodeSupervisor
import Testing

/// The real `chess-supervisor` binary, run on spool folders written here.
@Suite("chess-supervisor") struct SupervisorTests {
    /// Two clusters (or two emulating agents) on one host both have a job 1. When the short one
    /// ends, removing its cgroup must not kill the other's processes: each run has a group of
    /// its own. (Found when parallel end-to-end tests killed each other's job 1.)
    @Test func twoClustersJobOneDoNotShareACgroup() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func start(cluster: String, script: String) throws -> (JobSpool, Process) {
            let spool = JobSpool(spool: "\(dir)/\(cluster)", job: 1, run: 0)
            try spool.create()
            let launch = JobLaunch(job: 1, arrayJobID: nil, arrayTaskID: nil, name: "one", user: "root", uid: 0, gid: 0,
                                   account: "default", partition: "batch", script: script, workdir: spool.directory,
                                   output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                                   nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
            let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                                  clusterName: cluster)
            try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
            let p = Process()
            p.executableURL = builtBinary("chess-supervisor")
            p.arguments = [spool.directory]
            try p.run()
            return (spool, p)
        }
        let (long, longProcess) = try start(cluster: "alpha", script: "#!/bin/sh\nsleep 2\necho survived\n")
        usleep(300_000)
        let (short, shortProcess) = try start(cluster: "beta", script: "#!/bin/sh\ntrue\n")
        for p in [shortProcess, longProcess] {
            let deadline = Date().addingTimeInterval(30)
            while p.isRunning, Date() < deadline { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        #expect(short.result?.state == "COMPLETED")
        #expect(long.result?.state == "COMPLETED", "\(String(describing: long.result))")
        #expect(String(decoding: long.read("out") ?? Data(), as: UTF8.self) == "survived\n")
    }

    /// Root runs a job as root only when its plan says uid 0: a plan without a user id (an old
    /// record, a forged step) runs nothing.
    @Test func aPlanWithoutAUserIDRunsNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-sup-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spool = JobSpool(spool: dir, job: 2, run: 0)
        try spool.create()
        let marker = dir + "/ran"
        let launch = JobLaunch(job: 2, arrayJobID: nil, arrayTaskID: nil, name: "anon", user: "root", uid: nil, gid: nil,
                               account: "default", partition: "batch", script: "#!/bin/sh\ntouch \(marker)\n", workdir: spool.directory,
                               output: "out", error: nil, environment: [:], timeLimit: 60, nodeList: "host",
                               nodes: [.init(node: "host", cores: [0], memoryMB: 0, numa: [], gpus: [])], tasks: 1, cpusPerTask: 1)
        let plan = LaunchPlan(launch: launch, node: "host", cpus: [], mems: [], memoryBytes: nil, gpus: [], killWait: 2,
                              clusterName: "anon")
        try spool.writeDurably("plan.json", JSONEncoder().encode(plan))
        let p = Process()
        p.executableURL = builtBinary("chess-supervisor")
        p.arguments = [spool.directory]
        try p.run()
        p.waitUntilExit()
        #expect(spool.result?.state == "FAILED")
        #expect(spool.result?.reason?.contains("cannot become the job's user") == true, "\(String(describing: spool.result))")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
