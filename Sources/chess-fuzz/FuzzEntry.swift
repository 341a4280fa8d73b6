import Foundation
import InputFuzzing

// `chess-fuzz`: built with libFuzzer (`scripts/fuzz.sh TARGET`, which passes -DFUZZING and
// -sanitize=fuzzer,address), libFuzzer's driver runs the target named by
// CHESS_FUZZ_TARGET. Built plainly, it replays files: `chess-fuzz TARGET FILE...`.

#if FUZZING
nonisolated(unsafe) let fuzzTarget: FuzzTarget = {
    guard let name = ProcessInfo.processInfo.environment["CHESS_FUZZ_TARGET"], let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set CHESS_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return t
}()

/// libFuzzer's driver (SwiftPM names this module's entry point `main`, so libFuzzer's own `main`
/// is not used: this one hands it the command line).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
struct Fuzz {
    static func main() {
        _ = fuzzTarget
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: chess-fuzz TARGET FILE...   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else { print("\(file): cannot read"); exit(1) }
            target.run(Array(data))
            print("\(file): ok")
        }
    }
}
#endif
