import Glibc

/// The calling process's environment, directory, user and files through libc: Foundation's
/// versions cost a short-lived `sbatch` or `chessctl` a visible share of its run time.
public enum CallingProcess {
    public static let environment: [String: String] = {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                out[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            p += 1
        }
        return out
    }()

    /// The user running the command, as the controller will see it on the socket.
    public static var userName: String {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(getuid(), &pwd, &buffer, buffer.count, &result) == 0, result != nil {
            return String(cString: pwd.pw_name)
        }
        return environment["USER"] ?? "\(getuid())"
    }

    public static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public struct FileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A batch script's text; at most 16 MiB (a larger file is not a script). With
    /// `descriptor`, read from that open descriptor (standard input) and `path` only names it.
    public static func readFile(_ path: String, descriptor: Int32? = nil) throws -> String {
        let fd = descriptor ?? open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let why = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw FileError(description: "\(path): \(why)")
        }
        defer { if descriptor == nil { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw FileError(description: "\(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= 16 << 20 else { throw FileError(description: "\(path): larger than 16 MiB; is this really a batch script?") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to standard error (unbuffered, as errors should be).
    public static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
        bytes.removeAll()
    }
}
