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
        let query = parameters.joined(separator: "&").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
        let target = parameters.isEmpty ? path : "\(path)?\(query)"
        let client = Self.client(socket: socket)
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
    /// characters for table cells, without grapheme breaking. Two passes over raw bytes (widths,
    /// then the aligned copy through a fixed buffer): over 10,000 rows, slices and closures over
    /// the width table made this half of `chessctl queue`'s time. The buffer does not grow with
    /// what chessd sent, however wide one cell and however many short lines.
    static func print<Bytes: ContiguousBytes>(_ headers: [String], tabSeparated rows: Bytes, header: Bool = true) {
        let head = Array(headers.joined(separator: "\t").utf8) + [0x0A]
        var widths = [Int](repeating: 0, count: headers.count)
        widths.withUnsafeMutableBufferPointer { widths in
            head.withUnsafeBytes { measure($0, &widths) }
            rows.withUnsafeBytes { measure($0, &widths) }
        }
        var out = StandardOutput()
        if header { head.withUnsafeBytes { emit($0, widths, to: &out) } }
        rows.withUnsafeBytes { emit($0, widths, to: &out) }
        out.flush()
    }

    /// Widens `widths` to the cells of `raw` (tab-separated lines).
    private static func measure(_ raw: UnsafeRawBufferPointer, _ widths: inout UnsafeMutableBufferPointer<Int>) {
        var column = 0, width = 0
        for b in raw {
            switch b {
            case 0x09, 0x0A:
                if column < widths.count && width > widths[column] { widths[column] = width }
                column = b == 0x09 ? column + 1 : 0
                width = 0
            default:
                if b & 0xC0 != 0x80 { width += 1 }
            }
        }
        if column < widths.count && width > widths[column] { widths[column] = width }
    }

    /// Writes the lines of `raw`, each cell but a line's last padded with spaces to its
    /// column's width and two more.
    private static func emit(_ raw: UnsafeRawBufferPointer, _ widths: [Int], to out: inout StandardOutput) {
        guard let base = raw.baseAddress else { return }
        var cellStart = 0, column = 0, width = 0
        for i in 0..<raw.count {
            let b = raw[i]
            if b == 0x09 || b == 0x0A {
                out.write(base + cellStart, i - cellStart)
                if b == 0x09 {
                    out.spaces((column < widths.count ? widths[column] : width) - width + 2)
                    column += 1
                } else {
                    out.newline()
                    column = 0
                }
                cellStart = i + 1
                width = 0
            } else if b & 0xC0 != 0x80 {
                width += 1
            }
        }
        if cellStart < raw.count {  // a last line without its line break
            out.write(base + cellStart, raw.count - cellStart)
            out.newline()
        }
    }
}

/// Standard output through a fixed 64 KiB buffer, written with write(2) as it fills.
struct StandardOutput: ~Copyable {
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
    private var used = 0

    deinit { buffer.deallocate() }

    mutating func write(_ bytes: UnsafeRawPointer, _ count: Int) {
        if used + count > buffer.count { flush() }
        guard count <= buffer.count else { return Self.writeAll(bytes, count) }
        (buffer.baseAddress! + used).copyMemory(from: bytes, byteCount: count)
        used += count
    }

    mutating func spaces(_ count: Int) {
        var left = count
        while left > 0 {
            if used == buffer.count { flush() }
            let n = min(left, buffer.count - used)
            (buffer.baseAddress! + used).initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: n)
            used += n
            left -= n
        }
    }

    mutating func newline() {
        if used == buffer.count { flush() }
        buffer[used] = 0x0A
        used += 1
    }

    mutating func flush() {
        Self.writeAll(buffer.baseAddress!, used)
        used = 0
    }

    private static func writeAll(_ bytes: UnsafeRawPointer, _ count: Int) {
        var offset = 0
        while offset < count {
            let n = Glibc.write(1, bytes + offset, count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Slurm's time forms (shared with chessd in ChessAPI).
typealias Time = SlurmTime
