import Foundation
import Glibc
import Spawning
import Testing

/// chessctl called by Slurm's command names (links to it, as `make release` makes them): the
/// commands a site's scripts call, against a real chessd.
@Suite("Slurm's command names", .serialized)
struct SlurmNamesTests {
    /// Runs `name ARGS` through a link to the built chessctl, or for `sbatch` to the built
    /// `sbatch` binary (as `make release` installs them).
    func slurm(_ cluster: TestCluster, _ name: String, _ args: [String]) throws -> Run {
        let links = cluster.directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        let link = links.appendingPathComponent(name).path
        if !FileManager.default.fileExists(atPath: link) { symlink(builtBinary(name == "sbatch" ? "sbatch" : "chessctl").path, link) }
        let ran = try ChildProcess.run(link, args, environment: ProcessInfo.processInfo.environment.merging(["CHESS_SOCKET": cluster.socket]) { _, new in new },
                                       timeout: 60)
        return Run(status: ran.status, stdout: ran.stdoutText, stderr: ran.stderrText)
    }

    @Test func sbatchSqueueScontrolScancelSacctSinfo() throws {
        let cluster = try TestCluster()
        try cluster.start()
        let submitted = try slurm(cluster, "sbatch", ["--parsable", "-t", "5", "-J", "farm", "--wrap", "true"])
        let id = try #require(Int(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(submitted.stderr)")
        // sbatch's own error form, and its exit status.
        let refused = try slurm(cluster, "sbatch", ["--frobnicate", "--wrap", "true"])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("sbatch: error: unrecognized option --frobnicate"), "\(refused.stderr)")
        // chessctl called as sbatch (a link an earlier release made) is still the same command.
        let older = cluster.directory.appendingPathComponent("older-bin")
        try FileManager.default.createDirectory(at: older, withIntermediateDirectories: true)
        symlink(builtBinary("chessctl").path, older.appendingPathComponent("sbatch").path)
        let viaLink = try ChildProcess.run(older.appendingPathComponent("sbatch").path, ["--parsable", "-H", "--wrap", "true"],
                                           environment: ["CHESS_SOCKET": cluster.socket], timeout: 60)
        #expect(Int(viaLink.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) == id + 1, "\(viaLink.stderrText)")
        #expect(try slurm(cluster, "scancel", ["\(id + 1)"]).status == 0)
        let queued = try slurm(cluster, "squeue", ["-h", "-j", "\(id)", "-o", "%i %j %t"])
        #expect(queued.stdout == "\(id) farm PD\n", "\(queued.stdout) \(queued.stderr)")
        // scontrol's update forms: a job's fields, a node's state.
        let updated = try slurm(cluster, "scontrol", ["update", "JobId=\(id)", "TimeLimit=10", "Nice=5"])
        #expect(updated.status == 0, "\(updated.stderr)")
        let shown = try slurm(cluster, "scontrol", ["show", "job", "\(id)"]).stdout
        #expect(shown.contains("00:10:00") && shown.contains("Nice"), "\(shown)")
        #expect(try slurm(cluster, "scontrol", ["hold", "\(id)"]).status == 0)
        #expect(try slurm(cluster, "squeue", ["-h", "-j", "\(id)", "-o", "%r"]).stdout == "JobHeldUser\n")
        #expect(try slurm(cluster, "scontrol", ["update", "NodeName=n01", "State=DRAIN", "Reason=maintenance"]).status == 0)
        #expect(try slurm(cluster, "sinfo", ["-R"]).stdout.contains("maintenance"))
        #expect(try slurm(cluster, "scontrol", ["update", "NodeName=n01", "State=RESUME"]).status == 0)
        #expect(!(try slurm(cluster, "sinfo", ["-R"]).stdout.contains("maintenance")))
        #expect(try slurm(cluster, "scontrol", ["show", "hostnames", "n[01-02]"]).stdout == "n01\nn02\n")
        // slurm.conf's partition keys.
        let partition = try slurm(cluster, "scontrol", ["update", "PartitionName=batch", "MaxTime=2:00:00", "MaxNodes=2"])
        #expect(partition.status == 0 && partition.stdout.contains("max_time=2:00:00") && partition.stdout.contains("max_nodes=2"),
                "\(partition.stdout) \(partition.stderr)")
        #expect(try slurm(cluster, "scancel", ["\(id)"]).status == 0)
        let acct = try slurm(cluster, "sacct", ["-j", "\(id)", "-X", "-P", "-n", "-o", "jobid,jobname,state"])
        #expect(acct.stdout == "\(id)|farm|CANCELLED\n", "\(acct.stdout) \(acct.stderr)")
        // What CHESS does not have is named.
        let unknown = try slurm(cluster, "scontrol", ["create", "res"])
        #expect(unknown.status == 1 && unknown.stderr.contains("is not one of the scontrol commands"), "\(unknown.stderr)")
        // Any other name is chessctl itself.
        #expect(try slurm(cluster, "chess", ["ping"]).status == 0)
    }
}
