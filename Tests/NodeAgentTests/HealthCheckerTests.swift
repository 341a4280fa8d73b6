import ChessAPI
import Foundation
import XCTest
@testable import NodeAgent

/// The health check program run for real: its exit status and first line decide; a program
/// that hangs is killed, with whatever it started.
final class HealthCheckerTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "chess-hc-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func program(_ body: String) throws -> String {
        let path = "\(directory!)/check-\(UUID().uuidString.prefix(4)).sh"
        FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n\(body)\n".utf8), attributes: [.posixPermissions: 0o755])
        return path
    }

    func testExitZeroIsHealthy() throws {
        let r = HealthChecker.run(HealthCheckSettings(program: try program("echo all good; exit 0"), timeout: 10))
        XCTAssertTrue(r.ok)
        XCTAssertNil(r.message)
    }

    func testAFailureSaysItsFirstLine() throws {
        let r = HealthChecker.run(HealthCheckSettings(program: try program("echo; echo '  NHC: check_fs_mount: /scratch not mounted  ' >&2; echo more; exit 1"), timeout: 10))
        XCTAssertFalse(r.ok)
        XCTAssertEqual(r.message, "NHC: check_fs_mount: /scratch not mounted")
        let silent = HealthChecker.run(HealthCheckSettings(program: try program("exit 3"), timeout: 10))
        XCTAssertFalse(silent.ok)
        XCTAssertTrue(silent.message?.hasSuffix("exited with 3") == true, "\(silent)")
    }

    func testAHangingCheckIsKilledWithItsChildren() throws {
        let marker = "\(directory!)/child.pid"
        let started = Date()
        let r = HealthChecker.run(HealthCheckSettings(program: try program("sleep 30 & echo $! > \(marker); wait"), timeout: 1))
        XCTAssertFalse(r.ok)
        XCTAssertTrue(r.message?.contains("did not finish within 1s") == true, "\(r)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        let child = try XCTUnwrap(Int32(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The group was killed: the backgrounded sleep is gone (or a zombie about to be reaped by init).
        var gone = false
        for _ in 0..<50 {
            let state = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            if state == nil || state == "Z" { gone = true; break }
            usleep(100_000)
        }
        XCTAssertTrue(gone, "the check's child \(child) outlived the timeout")
    }

    func testAMissingProgramIsAFailure() {
        let r = HealthChecker.run(HealthCheckSettings(program: "/nonexistent/nhc", timeout: 5))
        XCTAssertFalse(r.ok)
        XCTAssertTrue(r.message?.contains("cannot run /nonexistent/nhc") == true, "\(r)")
    }
}
