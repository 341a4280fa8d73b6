import CZlib

/// gzip decompression through the system zlib. Multi-member files (concatenated gzip streams, as
/// `cat a.gz b.gz` makes) decompress to the concatenation of their members, as `gunzip` does.
public enum Gzip {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// True when `bytes` start with the gzip magic `1f 8b`; the name of a file never decides.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    public static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: gzip framing only.
        guard chess_inflateInit2(&stream, 15 + 16) == Z_OK else {
            throw Error(description: "zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(input.count * 4)
        let chunkSize = 1 << 18
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunkSize - Int(stream.avail_out))])
                switch status {
                case Z_STREAM_END:
                    // Another member may follow; trailing zero padding is tolerated.
                    let rest = Int(stream.avail_in)
                    if rest == 0 { return }
                    let offset = inBuf.count - rest
                    if inBuf[offset...].allSatisfy({ $0 == 0 }) { return }
                    guard inflateReset(&stream) == Z_OK else {
                        throw Error(description: "zlib could not start the next gzip member")
                    }
                case Z_OK:
                    if stream.avail_in == 0 && stream.avail_out != 0 {
                        throw Error(description: "truncated gzip data (unexpected end of file)")
                    }
                case Z_BUF_ERROR:
                    throw Error(description: "truncated gzip data (unexpected end of file)")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw Error(description: "corrupt gzip data: \(message)")
                }
            }
        }
        return output
    }
}
