import ArgumentParser
import ChessAPI
import Foundation
import Glibc

/// How a command reaches chessd: `--socket`, then `CHESS_SOCKET`, then /run/chess/chessd.sock.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("chessd's Unix socket (default: $CHESS_SOCKET, else \(ControllerClient.defaultSocket)).",
                               valueName: "path"))
    var socket: String?

    func client() -> ControllerClient {
        ControllerClient(socketPath: ControllerClient.resolveSocket(socket))
    }

    /// GETs `path` with the query `parameters`; with `--json`, prints the answer as it came and
    /// returns nil (every read's `--json` is chessd's own JSON).
    func read(_ path: String, _ parameters: [String] = [], json: Bool) throws -> Data? {
        let query = parameters.joined(separator: "&").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
        let target = parameters.isEmpty ? path : "\(path)?\(query)"
        let client = client()
        let data = try withController { try client.request("GET", target) }
        guard json else { return data }
        FileHandle.standardOutput.write(data)
        print()
        return nil
    }
}

/// `-o/--format` column lists of `queue` and `acct`.
enum ColumnList {
    /// Lower-cased names, each checked against `known`; `fallback` without a list.
    static func parse(_ format: String?, known: [String: String], fallback: [String]) throws -> [String] {
        guard let format else { return fallback }
        return try format.split(separator: ",").map { c in
            let name = c.lowercased()
            guard known[name] != nil else {
                throw CLIError("unknown column '\(c)'; columns: \(known.keys.sorted().joined(separator: ", "))")
            }
            return name
        }
    }
}

/// `-S/--starttime`-style options: sacct's time forms (`2026-11-01T08:00`, `now-7days`, Unix
/// seconds), with errors that name the option the user gave.
enum TimeOption {
    static func parse(_ text: String?, option: String, now: Int, default fallback: Int) throws -> Int {
        guard let text else { return fallback }
        do { return try BatchOptions.beginTime(text, now: now) } catch let e as BatchOptions.Error {
            throw CLIError(e.description.replacingOccurrences(of: "--begin", with: option))
        }
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
    /// Prints rows under headers, columns aligned (the last column unpadded). Padding is done by
    /// hand: `queue` prints tens of thousands of rows and Foundation's padding bridges to NSString.
    static func print(_ headers: [String], _ rows: [[String]], header: Bool = true) {
        // Widths in Unicode scalars: as good as characters for table cells, without grapheme breaking.
        var widths = headers.map(\.unicodeScalars.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.unicodeScalars.count) }
        }
        var out: [UInt8] = []
        out.reserveCapacity((rows.count + 1) * (widths.reduce(0, +) + 2 * widths.count + 1))
        func line(_ cells: [String]) {
            for (i, c) in cells.enumerated() {
                out.append(contentsOf: c.utf8)
                if i < cells.count - 1 {
                    let pad = widths[i] - c.unicodeScalars.count + 2
                    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
                }
            }
            out.append(0x0A)
        }
        if header { line(headers) }
        for row in rows { line(row) }
        out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}

/// Slurm's time forms (shared with chessd in ChessAPI).
typealias Time = SlurmTime
