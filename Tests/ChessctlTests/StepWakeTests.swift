import Foundation
import Glibc
@testable import NodeSupervisor
import Spawning
import Testing

/// What a step's supervisor sleeps on (`StepWake`).
@Suite("a step supervisor's wake-ups") struct StepWakeTests {
    /// The job's supervisor ending wakes the step once; its pidfd, readable for good from then
    /// on, is closed and no longer polled (polled, it made every wait return at once: a busy
    /// loop for as long as the step's tasks took to die).
    @Test func anEndedJobSupervisorWakesTheStepOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chess-wake-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // StepWake blocks SIGCHLD for its thread (a supervisor has one): unblocked again here.
        defer {
            var chld = sigset_t()
            sigemptyset(&chld)
            sigaddset(&chld, SIGCHLD)
            pthread_sigmask(SIG_UNBLOCK, &chld, nil)
        }
        let jobSupervisor = try ChildProcess("/bin/sleep", ["0.3"])
        var wake = StepWake(job: (folder, jobSupervisor.processIdentifier))
        defer { wake.close() }
        func ready(within milliseconds: Int32) -> [Int32] {
            var fds = wake.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), milliseconds)
            return fds.filter { $0.revents != 0 }.map(\.fd)
        }
        let watched = wake.descriptors.count
        #expect(watched == 3, "a signalfd, the job's folder and its supervisor")
        jobSupervisor.waitUntilExit()
        let woke = ready(within: 5000)
        let aboutTheJob = woke.map { wake.consume($0) }
        #expect(aboutTheJob.contains(true), "\(woke)")
        #expect(wake.descriptors.count == watched - 1)
        // Nothing else happened: the next wait sleeps (and a change in the folder still wakes it).
        _ = ready(within: 0).map { wake.consume($0) }  // the child's SIGCHLD, if it came here
        #expect(ready(within: 100).isEmpty)
        FileManager.default.createFile(atPath: folder + "/cancel", contents: Data("x".utf8))
        let changed = ready(within: 5000)
        #expect(changed.count == 1 && wake.consume(changed[0]), "\(changed)")
    }
}
