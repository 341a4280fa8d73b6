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
    /// Prints rows under headers, columns aligned (the last column unpadded).
    static func print(_ headers: [String], _ rows: [[String]], header: Bool = true) {
        var tsv: [UInt8] = []
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i > 0 { tsv.append(0x09) }
                QueueColumns.appendCell(cell, to: &tsv)
            }
            tsv.append(0x0A)
        }
        print(headers, tabSeparated: tsv, header: header)
    }

    /// Prints tab-separated lines (as chessd renders `queue` rows) under headers, aligned,
    /// straight from the bytes: `queue` prints tens of thousands of rows, and a String per cell
    /// cost more than the request. Widths count Unicode scalars (UTF-8 lead bytes): as good as
    /// characters for table cells, without grapheme breaking.
    static func print<Bytes: ContiguousBytes>(_ headers: [String], tabSeparated rows: Bytes, header: Bool = true) {
        let head = Array(headers.joined(separator: "\t").utf8) + [0x0A]
        var widths = [Int](repeating: 0, count: headers.count)
        func measure(_ raw: UnsafeRawBufferPointer) {
            var column = 0, width = 0
            for b in raw {
                switch b {
                case 0x09, 0x0A:
                    if column < widths.count { widths[column] = max(widths[column], width) }
                    column = b == 0x09 ? column + 1 : 0
                    width = 0
                default:
                    if b & 0xC0 != 0x80 { width += 1 }
                }
            }
            if column < widths.count { widths[column] = max(widths[column], width) }
        }
        var out: [UInt8] = []
        func emit(_ raw: UnsafeRawBufferPointer) {
            var lineStart = 0
            while lineStart < raw.count {
                let lineEnd = raw[lineStart...].firstIndex(of: 0x0A) ?? raw.count
                var cellStart = lineStart, column = 0
                while true {
                    let cellEnd = raw[cellStart..<lineEnd].firstIndex(of: 0x09) ?? lineEnd
                    out.append(contentsOf: raw[cellStart..<cellEnd])
                    guard cellEnd < lineEnd else { break }
                    let width = raw[cellStart..<cellEnd].reduce(0) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
                    let pad = (column < widths.count ? widths[column] : width) - width + 2
                    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
                    cellStart = cellEnd + 1
                    column += 1
                }
                out.append(0x0A)
                lineStart = lineEnd + 1
            }
        }
        head.withUnsafeBytes(measure)
        rows.withUnsafeBytes { raw in
            measure(raw)
            out.reserveCapacity(raw.count + raw.count / 2 + head.count * 2)
            if header { head.withUnsafeBytes(emit) }
            emit(raw)
        }
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
