/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not SHA3-256's (0x06).
///
/// Written out here (the sponge over Keccak-f[1600], rate 136 bytes) because no package on the
/// build machines provides it; checked against the published vectors and against `eth-hash`.
public enum Keccak256 {
    public static func hash(_ data: some Sequence<UInt8>) -> [UInt8] {
        var state = [UInt64](repeating: 0, count: 25)
        var scratch = Scratch()
        let rate = 136
        var block = [UInt8](repeating: 0, count: rate)
        var filled = 0
        for byte in data {
            block[filled] = byte
            filled += 1
            if filled == rate {
                absorb(block, into: &state, &scratch)
                filled = 0
            }
        }
        for i in filled..<rate { block[i] = 0 }
        block[filled] ^= 0x01
        block[rate - 1] ^= 0x80
        absorb(block, into: &state, &scratch)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for lane in state[0..<4] {
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: lane >> UInt64(shift))) }
        }
        return out
    }

    /// The permutation's working lanes, allocated once per hash rather than once per block.
    struct Scratch {
        var b = [UInt64](repeating: 0, count: 25)
        var c = [UInt64](repeating: 0, count: 5)
    }

    private static func absorb(_ block: [UInt8], into state: inout [UInt64], _ scratch: inout Scratch) {
        for lane in 0..<17 {
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(block[lane * 8 + b]) << UInt64(8 * b) }
            state[lane] ^= v
        }
        permute(&state, &scratch)
    }

    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    /// Rotation offsets r[x + 5y].
    private static let rotations: [UInt64] = [
        0, 1, 62, 28, 27,
        36, 44, 6, 55, 20,
        3, 10, 43, 25, 39,
        41, 45, 15, 21, 8,
        18, 2, 61, 56, 14,
    ]

    /// Keccak-f[1600]: 24 rounds of θ, ρ, π, χ, ι over lanes A[x + 5y].
    static func permute(_ a: inout [UInt64], _ scratch: inout Scratch) {
        var b: [UInt64] = [], c: [UInt64] = []
        swap(&b, &scratch.b)
        swap(&c, &scratch.c)
        defer {
            swap(&b, &scratch.b)
            swap(&c, &scratch.c)
        }
        for round in 0..<24 {
            for x in 0..<5 { c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1)
                for y in stride(from: 0, to: 25, by: 5) { a[x + y] ^= d }
            }
            // ρ and π: B[y, 2x + 3y] = rot(A[x, y], r[x, y]).
            for x in 0..<5 {
                for y in 0..<5 {
                    b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], rotations[x + 5 * y])
                }
            }
            for y in stride(from: 0, to: 25, by: 5) {
                for x in 0..<5 { a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]) }
            }
            a[0] ^= roundConstants[round]
        }
    }

    @inline(__always) private static func rotl(_ v: UInt64, _ n: UInt64) -> UInt64 {
        n == 0 ? v : (v << n) | (v >> (64 - n))
    }
}
