import ChessAPI
import Foundation
import SchedulerCore
import Spawning
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The system's own gunzip, to check our zlib binding against the real tool.
private func gunzip(_ path: String) throws -> [UInt8] {
    let ran = try ChildProcess.run("/bin/gzip", ["-dc", path], timeout: 60)
    guard ran.status == 0 else { throw ChildProcess.Failure(description: "gzip -dc \(path): \(ran.stderrText)") }
    return ran.stdout
}

@Suite("Trace loading")
final class TraceLoaderTests {
    let fixture = fixtures.appendingPathComponent("kth-head.swf.gz").path
    /// Each test's files, removed when it ends.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chess-tests-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func temporaryFile(_ bytes: [UInt8], name: String = "trace") throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func decompressesLikeGunzip() throws {
        let ours = try TraceLoader.readBytes(path: fixture)
        #expect(ours == (try gunzip(fixture)))
        #expect(ours.count > 10_000)
    }

    @Test func gzipIsRecognisedByMagicBytesNotByName() throws {
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
        let renamed = try temporaryFile(compressed, name: "plain.swf")
        let plain = try temporaryFile(try gunzip(fixture), name: "looks-compressed.swf.gz")
        let a = try TraceLoader.load(path: renamed)
        let b = try TraceLoader.load(path: plain)
        #expect(a == b)
        #expect(a.machineSize == 100)
        #expect(a.jobs.count > 500)
    }

    @Test func concatenatedMembersDecompressToTheConcatenation() throws {
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
        let twice = try TraceLoader.readBytes(path: try temporaryFile(compressed + compressed))
        let once = try gunzip(fixture)
        #expect(twice == once + once)
    }

    @Test func truncatedOrCorruptGzipIsAClearError() throws {
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
        let truncated = try temporaryFile(Array(compressed.prefix(compressed.count / 2)))
        #expect {
            try TraceLoader.load(path: truncated)
        } throws: { error in
            "\(error)".contains(truncated) && "\(error)".contains("truncated")
        }
        var corrupt = compressed
        for i in 40..<80 { corrupt[i] ^= 0x5A }
        let corruptPath = try temporaryFile(corrupt)
        #expect {
            try TraceLoader.load(path: corruptPath)
        } throws: { error in
            "\(error)".contains(corruptPath) && "\(error)".contains("corrupt")
        }
    }

    @Test func missingFileAndDirectoryAreClearErrors() throws {
        #expect { try TraceLoader.load(path: "/nonexistent/x.swf") } throws: { "\($0)".contains("no such file") }
        #expect { try TraceLoader.load(path: "/tmp") } throws: { "\($0)".contains("directory") }
    }

    @Test func missingMachineSizeNamesTheFile() throws {
        let path = try temporaryFile(Array("1 0 -1 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n".utf8))
        #expect { try TraceLoader.load(path: path) } throws: { error in
            "\(error)".hasPrefix(path) && "\(error)".contains("MaxProcs")
        }
    }
}
