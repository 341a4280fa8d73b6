import Foundation
import Testing

/// ControllerCore stays pure (docs/architecture.md): it imports no module that does I/O,
/// synchronises threads or reads a clock, and names none of the APIs that would. chessd is where
/// those belong.
@Suite("ControllerCore purity") struct PurityTests {
    static let allowedImports: Set<String> = ["ChessAPI", "SchedulerCore", "Billing", "MarketBridge"]
    /// What the core must not call, even through a module it may import (ChessAPI has the
    /// client's sockets and the key-file reader).
    static let forbidden = ["NSLock", "Mutex", "NSCondition", "Date(", "clock_gettime", "time(nil)", "FileManager",
                            "ControllerClient", "UnixSocket", "KeyFile", "SubmitCommand", "CallingProcess", "Thread", "DispatchQueue", "fopen", "read(fd"]

    static func sources() throws -> [(name: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/ControllerCore").standardized
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        return try files.sorted().map { ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test func importsOnlyPureModulesAndCallsNoIO() throws {
        let sources = try Self.sources()
        #expect(sources.count >= 10)
        for (name, text) in sources {
            for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@_exported import ") {
                let module = String(line.split(separator: " ").last!)
                #expect(Self.allowedImports.contains(module), "\(name) imports \(module)")
            }
            let code = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
            for word in Self.forbidden {
                #expect(!code.contains(word), "\(name) uses \(word)")
            }
        }
    }
}
