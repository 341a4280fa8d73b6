import Foundation
import InputFuzzing
import Testing

/// Replays the regression corpus (`Tests/Corpus/TARGET/`: inputs that trapped a parser or
/// recursed without bound, and the fuzzers' crashes once fixed) through every parser of outside
/// input. A file here that traps stops the whole test run: that is the failure.
@Suite struct RegressionCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus").path

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputIsReadOrRefused(_ target: FuzzTarget) throws {
        let folder = Self.corpus + "/" + target.rawValue
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(!files.isEmpty, "no corpus for \(target.rawValue)")
        for file in files {
            let data = try #require(FileManager.default.contents(atPath: folder + "/" + file))
            target.run(Array(data))
        }
    }
}
