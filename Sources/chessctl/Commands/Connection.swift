import ArgumentParser
import ChessAPI
import Foundation
import Glibc

/// How a command reaches chessd: `--socket`, then `CHESS_SOCKET`, then /run/chess/chessd.sock.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("chessd's Unix socket (default: $CHESS_SOCKET, else \(ControllerClient.defaultSocket)).",
                               valueName: "path"))
    var socket: String?

    func client() -> ControllerClient { Self.client(socket: socket) }

    /// The client for the socket `socket` names (nil: `$CHESS_SOCKET`, else the default).
    static func client(socket: String?) -> ControllerClient {
        ControllerClient(socketPath: ControllerClient.resolveSocket(socket))
    }

    /// GETs `path` with the query `parameters`; with `--json`, prints the answer as it came and
    /// returns nil (every read's `--json` is chessd's own JSON).
    func read(_ path: String, _ parameters: [String] = [], json: Bool) throws -> Data? {
        try Self.read(socket: socket, path, parameters, json: json)
    }

    /// `read` through the socket `socket` names (nil: the default), for a command whose options
    /// were read without ArgumentParser.
    static func read(socket: String?, _ path: String, _ parameters: [String] = [], json: Bool) throws -> Data? {
        try readBytes(socket: socket, path, parameters, json: json).map { Data($0) }
    }

    /// `read`'s answer as the bytes that came (`queue`'s table and rows: no copy into `Data`).
    static func readBytes(socket: String?, _ path: String, _ parameters: [String] = [], json: Bool) throws -> [UInt8]? {
        let query = parameters.joined(separator: "&").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
        let target = parameters.isEmpty ? path : "\(path)?\(query)"
        let client = Self.client(socket: socket)
        let data = try withController { try client.exchange("GET", target) }
        guard json else { return data }
        FileHandle.standardOutput.write(Data(data))
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
    /// straight from the bytes (`AlignedTable`), with other users' control characters made
    /// harmless (`TerminalText`).
    /// The rows are neutralized where they lie: a caller's last use of its buffer hands it over
    /// without a copy.
    static func print(_ headers: [String], tabSeparated rows: consuming [UInt8], header: Bool = true) {
        let head = Array(headers.joined(separator: "\t").utf8) + [0x0A]
        var rows = rows
        rows.withUnsafeMutableBytes { TerminalText.neutralize($0) }
        var table = AlignedTable(columns: headers.count)
        head.withUnsafeBytes { table.measure($0) }
        rows.withUnsafeBytes { table.measure($0) }
        var out = ByteOutput { writeAll(1, $0) }
        if header { head.withUnsafeBytes { table.emit($0, to: &out) } }
        rows.withUnsafeBytes { table.emit($0, to: &out) }
        out.finish()
    }

    /// Writes all of `bytes` to `fd` (a closed pipe ends it quietly, as before).
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Slurm's time forms (shared with chessd in ChessAPI).
typealias Time = SlurmTime
