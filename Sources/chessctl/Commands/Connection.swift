import ArgumentParser
import ChessAPI
import Foundation

/// How a command reaches chessd: `--socket`, then `CHESS_SOCKET`, then /run/chess/chessd.sock.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("chessd's Unix socket (default: $CHESS_SOCKET, else \(ControllerClient.defaultSocket)).",
                               valueName: "path"))
    var socket: String?

    func client() -> ControllerClient {
        ControllerClient(socketPath: ControllerClient.resolveSocket(socket))
    }
}

/// Runs a client call, turning controller errors into CLI errors (message, exit status 1).
func withController<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ControllerClient.Failure {
        throw CLIError(e.description)
    }
}

extension Array where Element == (String, String) {
    /// Appends when there is a value.
    mutating func add(_ key: String, _ value: String?) {
        if let value, !value.isEmpty { append((key, value)) }
    }
}

enum Table {
    /// Prints rows under headers, columns aligned (the last column unpadded).
    static func print(_ headers: [String], _ rows: [[String]]) {
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var out = line(headers) + "\n"
        for row in rows { out += line(row) + "\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

enum Time {
    /// `[D-]HH:MM:SS`, Slurm's form.
    static func duration(_ seconds: Int?) -> String {
        guard let seconds else { return "UNLIMITED" }
        let s = max(seconds, 0)
        let d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60
        let hms = String(format: "%02d:%02d:%02d", h, m, sec)
        return d > 0 ? "\(d)-\(hms)" : hms
    }

    /// Local ISO-like time, as `sacct` prints.
    static func timestamp(_ t: Int?) -> String {
        guard let t else { return "Unknown" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }
}
