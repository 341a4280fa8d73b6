import Foundation
import Glibc
import Testing

/// A job's files are its user's business: the supervisor runs as root, but the output and error
/// files and the working directory are entered and opened as the job's user, and the job gets no
/// descriptor of the agent's or supervisor's. Each case here was a way to root before.
@Suite("End to end: a job's files are opened as its user", .serialized)
struct JobFilesEndToEndTests {
    typealias Running = EndToEndTests.Running

    static let nobody: (uid: uid_t, gid: gid_t) = {
        guard let pw = getpwnam("nobody") else { return (65534, 65534) }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }()

    /// A folder of the cluster's directory owned by nobody (a user's home, say).
    func home(_ c: Running) throws -> String {
        let path = c.cluster.directory.appendingPathComponent("home-nobody").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chown(path, Self.nobody.uid, Self.nobody.gid)
        chmod(c.cluster.directory.path, 0o755)
        return path
    }

    /// Submits `script` as nobody with `options`; the job's id.
    func submitAsNobody(_ c: Running, _ options: [String], script: String, in directory: String) throws -> Int {
        let path = directory + "/job.sh"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chown(path, Self.nobody.uid, Self.nobody.gid)
        chmod(path, 0o755)
        let r = try runBinary("chessctl", ["submit", "--parsable", "-D", directory] + options + [path],
                              environment: ["CHESS_SOCKET": c.cluster.socket], user: "nobody")
        return try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stderr)")
    }

    func ended(_ c: Running, _ id: Int) throws -> [String: Any] {
        var record: [String: Any] = [:]
        try c.wait("job \(id) to end") {
            record = try c.accounting().first { $0["id"] as? Int == id } ?? [:]
            return !["PENDING", "RUNNING", "COMPLETING", "CONFIGURING", nil].contains(record["state"] as? String)
        }
        return record
    }

    @Test func anOutputPathInAFolderOnlyRootMayWriteIsRefused() throws {
        let c = try Running()
        let home = try home(c)
        // A root-only folder (think /etc): appending there would make the user's file root's way in.
        let secret = c.cluster.directory.appendingPathComponent("root-only").path
        try FileManager.default.createDirectory(atPath: secret, withIntermediateDirectories: true)
        chmod(secret, 0o700)
        let id = try submitAsNobody(c, ["--open-mode=append", "-o", secret + "/ld.so.preload"],
                                    script: "#!/bin/sh\necho owned\n", in: home)
        let record = try ended(c, id)
        #expect(record["state"] as? String == "FAILED", "\(record)")
        #expect((record["reason"] as? String ?? "").contains("cannot open the output file"), "\(record)")
        #expect((record["reason"] as? String ?? "").contains("Permission denied"), "\(record)")
        #expect(!FileManager.default.fileExists(atPath: secret + "/ld.so.preload"))
    }

    @Test func aSymlinkToARootFileIsNotFollowedWithRootsRights() throws {
        let c = try Running()
        let home = try home(c)
        let target = c.cluster.directory.appendingPathComponent("roots-file").path
        try "root's\n".write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o644)
        // The user's own folder, a link the user made: root would write through it.
        #expect(symlink(target, home + "/link.out") == 0)
        #expect(symlink(target, home + "/link.err") == 0)
        let id = try submitAsNobody(c, ["-o", "link.out"], script: "#!/bin/sh\necho owned\n", in: home)
        let record = try ended(c, id)
        #expect(record["state"] as? String == "FAILED", "\(record)")
        let id2 = try submitAsNobody(c, ["-o", "plain.out", "-e", "link.err"], script: "#!/bin/sh\necho owned >&2\n", in: home)
        let record2 = try ended(c, id2)
        #expect(record2["state"] as? String == "FAILED", "\(record2)")
        #expect((record2["reason"] as? String ?? "").contains("cannot open the error file"), "\(record2)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "root's\n")
    }

    @Test func aUsersOutputIsItsOwnAndTheJobInheritsNoDescriptor() throws {
        let c = try Running()
        let home = try home(c)
        // The descriptors a program the job runs holds: 0, 1, 2, and the one ls lists with.
        let id = try submitAsNobody(c, ["-o", "out.txt"], script: "#!/bin/sh\nid -un\nexec ls -1v /proc/self/fd\n",
                                    in: home)
        let record = try ended(c, id)
        #expect(record["state"] as? String == "COMPLETED", "\(record)")
        let out = (try? String(contentsOfFile: home + "/out.txt", encoding: .utf8)) ?? ""
        #expect(out.hasPrefix("nobody\n"), "\(out)")
        #expect(out.hasSuffix("\n0\n1\n2\n3\n"), "\(out)")
        var st = stat()
        #expect(stat(home + "/out.txt", &st) == 0 && st.st_uid == Self.nobody.uid)
        // A working directory the user may not enter: the job runs in /tmp, as slurmstepd does.
        let closed = c.cluster.directory.appendingPathComponent("closed").path
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true)
        chmod(closed, 0o700)
        let r = try runBinary("chessctl", ["submit", "--parsable", "-D", closed, "-o", home + "/where.txt", "--wrap", "pwd"],
                              environment: ["CHESS_SOCKET": c.cluster.socket], user: "nobody")
        let id2 = try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stderr)")
        let record2 = try ended(c, id2)
        #expect(record2["state"] as? String == "COMPLETED", "\(record2)")
        #expect((try? String(contentsOfFile: home + "/where.txt", encoding: .utf8)) == "/tmp\n")
    }
}
