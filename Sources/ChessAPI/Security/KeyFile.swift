import Foundation
import Glibc

/// Reading a secret from a file, as ssh reads a private key: a key that another user could read
/// or replace is refused, not used. The file must be a regular file owned by root (or by the
/// user the daemon runs as) that neither group nor others may read or write.
public enum KeyFile {
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// The file's bytes; `what` names the key in the messages ("the cluster key").
    public static func read(_ path: String, what: String) throws(Refusal) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Refusal(description: "\(path): cannot read \(what): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Refusal(description: "\(path): \(what) is not a regular file")
        }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw Refusal(description: "\(path): \(what) belongs to uid \(info.st_uid): it must be root's (chown root \(path))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw Refusal(description: "\(path): \(what) is open to group or others (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 1 << 20 {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}
