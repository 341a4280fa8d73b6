import ArgumentParser
import ChessAPI
import Foundation

/// An error the user can act on: printed as `Error: message`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

enum JSONOutput {
    static func string(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

enum Format {
    /// A fixed-point rendering for humans (never used for money).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", x)
    }

    /// `key  value` lines with the values aligned.
    static func printRows(_ rows: [(String, String)]) {
        let width = rows.map(\.0.count).max() ?? 0
        for (key, value) in rows {
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + TerminalText.neutralized(value))
        }
    }
}

/// Progress on standard error: a line redrawn in place on a terminal, or forced with --progress.
final class ProgressReporter {
    private let label: String
    private let enabled: Bool
    private let inPlace: Bool
    private var lastPercent = -1

    init(label: String, force: Bool) {
        self.label = label
        inPlace = isatty(STDERR_FILENO) == 1
        enabled = force || inPlace
    }

    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        guard percent != lastPercent, inPlace || percent % 10 == 0 else { return }
        lastPercent = percent
        let text = "\(label): \(percent)% (\(done)/\(total) jobs)"
        FileHandle.standardError.write(Data((inPlace ? "\r\(text)" : text + "\n").utf8))
    }

    func finish() {
        if enabled && inPlace { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
