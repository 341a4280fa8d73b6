import Foundation
import Glibc
import Logging
import NodeSupervisor
import Spawning
import Testing
@testable import NodeAgent

/// The spool an agent makes: traversable by the jobs' users, readable by root only, and a bell
/// only root can ring.
@Suite("the agent's spool") struct AgentSpoolTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0o7777
    }

    @Test func aFreshSpoolIsRootsWithABellOnlyRootCanRing() throws {
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("chess-spool-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let agent = try Agent(id: "a1", nodes: [], spool: spool, executable: "/bin/true", logger: Logger(label: "test"))
        #expect(mode(spool) == 0o711, "\(String(mode(spool), radix: 8))")
        #expect(mode(spool + "/jobs") == 0o711)
        let bell = try #require(agent.bell)
        #expect(bell.path == SpoolBell.path(spool: spool))
        #expect(mode(bell.path) == 0o600)
        // A supervisor's ring wakes the reporter; nothing else does.
        #expect(bell.wait(milliseconds: 0) == false)
        SpoolBell.ring(spool: SpoolBell.spool(ofFolder: spool + "/jobs/7.0"))
        #expect(bell.wait(milliseconds: 1000) == true)
    }

    /// Restarted with the spool spelled another way (a trailing slash, `..`, a link), the agent
    /// names its folders as before: its supervisors are known by their folder, word for word.
    @Test func theSpoolHasOneSpellingWhateverTheOptionSays() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("chess-spool-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let spool = base + "/spool"
        let canonical = try Agent(id: "a1", nodes: [], spool: spool, executable: "/bin/true", logger: Logger(label: "test")).spoolDirectory
        #expect(canonical.hasPrefix("/") && canonical.hasSuffix("/spool") && !canonical.contains("//"))
        symlink(spool, base + "/link")
        for spelling in [spool + "/", base + "//spool", spool + "/jobs/..", base + "/link"] {
            let agent = try Agent(id: "a1", nodes: [], spool: spelling, executable: "/bin/true", logger: Logger(label: "test"))
            #expect(agent.spoolDirectory == canonical, "\(spelling)")
        }
    }
}

/// The groups the agent puts in a job's plan: the user database's, as `id -G` lists them.
@Suite("a job's user's groups") struct UserGroupsTests {
    @Test func theUserDatabasesGroupsWithThePrimaryOne() throws {
        for user in ["root", "daemon", "nobody"] {
            guard let entry = getpwnam(user) else { continue }
            let gid = entry.pointee.pw_gid
            let listed = try ChildProcess.run("/usr/bin/id", ["-G", user], timeout: 10).stdoutText
            let expected = Set(listed.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) })
            #expect(Set(UserGroups.of(user: user, gid: gid)) == expected, "\(user): id -G says \(listed)")
        }
        #expect(UserGroups.of(user: "no-such-user-\(getpid())", gid: 4242) == [4242])
        // Root's jobs keep the agent's groups; so do all jobs of an agent that is not root.
        #expect(UserGroups.forJob(user: "root", uid: 0, gid: 0) == nil)
        if getuid() == 0 { #expect(UserGroups.forJob(user: "nobody", uid: 65534, gid: nil)?.contains(65534) == true) }
    }
}
