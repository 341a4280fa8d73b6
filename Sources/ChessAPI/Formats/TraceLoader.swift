import Foundation
import SchedulerCore

/// Reads a Standard Workload Format trace from disk, plain or gzip-compressed (by magic bytes).
public enum TraceLoader {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func load(path: String, limit: Int? = nil) throws -> SWFWorkload {
        let bytes = try readBytes(path: path)
        do {
            return try SWFParser.parse(bytes, limit: limit)
        } catch let error as SWFError {
            throw Error(path: path, reason: error.description)
        }
    }

    /// The file's bytes, decompressed when they are gzip.
    public static func readBytes(path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Error(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw Error(path: path, reason: "is a directory, not a trace file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, reason: "cannot be read (permission denied?)")
        }
        let raw = [UInt8](data)
        guard Gzip.isCompressed(raw) else { return raw }
        do {
            return try Gzip.decompress(raw)
        } catch let error as Gzip.Error {
            throw Error(path: path, reason: error.description)
        }
    }
}
