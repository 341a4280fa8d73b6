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
        // Other tests in this process fork children too, and their SIGCHLDs may make the
        // signalfd readable at any time: it is left out of the wait (reading it could take a
        // signal another test's process handling waits for).
        func ready(within milliseconds: Int32) -> [Int32] {
            var fds = wake.descriptors.filter { $0 != wake.childEnded }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), milliseconds)
            return fds.filter { $0.revents != 0 }.map(\.fd)
        }
        let watched = wake.descriptors.count
        #expect(watched == 3, "a signalfd, the job's folder and its supervisor")
        jobSupervisor.waitUntilExit()
        var aboutTheJob = false
        for _ in 0..<50 where !aboutTheJob {
            aboutTheJob = ready(within: 100).map { wake.consume($0) }.contains(true)
        }
        #expect(aboutTheJob)
        #expect(wake.descriptors.count == watched - 1)
        // Nothing else happened: the next wait sleeps (and a change in the folder still wakes it).
        #expect(ready(within: 100).isEmpty)
        _ = FileManager.default.createFile(atPath: folder + "/cancel", contents: Data("x".utf8))
        var changed: [Int32] = []
        for _ in 0..<50 where changed.isEmpty { changed = ready(within: 100) }
        #expect(changed.count == 1 && wake.consume(changed[0]), "\(changed)")
    }
}
