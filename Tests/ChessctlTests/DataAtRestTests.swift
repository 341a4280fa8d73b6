import Foundation
import Glibc
import Spawning
import Testing

/// The state and the keys are root's alone: the database holds every user's scripts and
/// environments, the cluster key lets its holder speak for any node.
@Suite("State and keys closed to other users", .serialized)
struct DataAtRestTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0o7777
    }

    @Test func theStateDirectoryAndDatabaseAreRootsAlone() throws {
        let cluster = try TestCluster()
        // A state directory left open by an earlier version (or by hand) is closed too.
        try FileManager.default.createDirectory(atPath: cluster.stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try cluster.start()
        _ = try cluster.ctl(["submit", "--hold", "--wrap", "echo secret"])
        #expect(mode(cluster.stateDirectory) == 0o700)
        for file in ["chess.sqlite", "chess.sqlite-wal"] {
            let path = cluster.stateDirectory + "/" + file
            #expect(mode(path) == 0o600, "\(file): \(String(mode(path), radix: 8))")
        }
        // Another user gets nothing of it.
        #expect(access(cluster.stateDirectory + "/chess.sqlite", R_OK) == 0)
        let other = try ChildProcess.run("/usr/sbin/runuser", ["-u", "nobody", "--", "/bin/cat", cluster.stateDirectory + "/chess.sqlite"],
                                         timeout: 60)
        #expect(other.status != 0)
        #expect(other.stdout.isEmpty)
    }

    @Test func aKeyFileOthersCouldReadOrReplaceIsRefusedAtStart() throws {
        let cluster = try TestCluster(withAgents: true)
        let key = cluster.directory.appendingPathComponent("cluster.key").path
        chmod(key, 0o644)
        #expect(throws: TestCluster.Failure.self) { try cluster.start() }
        #expect(cluster.log.contains("key_file:") && cluster.log.contains("chmod 600"), "\(cluster.log)")
        chmod(key, 0o600)
        chown(key, 65534, 65534)
        #expect(throws: TestCluster.Failure.self) { try cluster.start() }
        #expect(cluster.log.contains("chown root"), "\(cluster.log)")
        chown(key, 0, 0)
        try cluster.start()
        // The agent refuses it the same way.
        chmod(key, 0o640)
        let agent = try runBinary("chess-nodeagent", ["--controller", cluster.listen!, "--key", key, "--name", "n01"], timeout: 20)
        #expect(agent.status != 0 && agent.stderr.contains("chmod 600"), "\(agent.stderr)")
    }

    @Test func cleartextTCPBeyondThisHostIsAnExplicitChoice() throws {
        let cluster = try TestCluster(withAgents: true)
        let wide = "0.0.0.0:\(TestCluster.freePort())"
        let refused = try runBinary("chessd", ["--config", cluster.configPath], environment: ["CHESS_LISTEN": wide], timeout: 20)
        #expect(refused.status != 0 && refused.stderr.contains("cleartext_tcp = true"), "\(refused.stderr)")
    }
}
