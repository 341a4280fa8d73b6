import Foundation
import Testing

/// The `sbatch` and `srun` binaries link no Foundation and no ArgumentParser: sbatch's start-up
/// is most of a sequential submit's cost, and srun's is paid by every step (docs/architecture.md).
/// Every module they are built from imports only these, so that an `import Foundation` added to
/// one of them fails here rather than silently making every submit and step slower.
@Suite("sbatch's and srun's modules import no Foundation") struct SbatchImportsTests {
    static let modules = ["sbatch", "srun", "BatchSubmission", "ChessWire", "SchedulerCore"]
    static let allowed: Set<String> = ["Glibc", "Synchronization", "CChessSystem", "ChessWire", "SchedulerCore", "BatchSubmission"]

    @Test func onlyFoundationFreeImports() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized
        var files = 0
        for module in Self.modules {
            let root = sources.appendingPathComponent(module)
            let names = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            for name in names {
                files += 1
                let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ")
                    guard let at = words.firstIndex(of: "import"), words[..<at].allSatisfy({ $0.hasPrefix("@") }), at + 1 < words.count else { continue }
                    let imported = String(words[at + 1].split(separator: ".").first!)
                    #expect(Self.allowed.contains(imported), "\(module)/\(name) imports \(imported)")
                }
            }
        }
        #expect(files >= 40, "the sources were found")
    }
}
