/// A set of core (or GPU) indices on one node, as a bitset.
public struct CoreSet: Sendable, Hashable, Codable, Sequence {
    public private(set) var words: [UInt64]

    public init(capacity: Int) { words = Array(repeating: 0, count: (capacity + 63) / 64) }

    public init(_ indices: some Sequence<Int>, capacity: Int) {
        self.init(capacity: capacity)
        for i in indices { insert(i) }
    }

    public func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
    public mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    public mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public func makeIterator() -> AnyIterator<Int> {
        var w = 0
        var bits = words.first ?? 0
        let words = self.words
        return AnyIterator {
            while bits == 0 {
                w += 1
                guard w < words.count else { return nil }
                bits = words[w]
            }
            let i = bits.trailingZeroBitCount
            bits &= bits - 1
            return w * 64 + i
        }
    }
}

/// What a job holds on one node: cores, memory bound to NUMA domains, GPUs.
public struct NodeAllocation: Sendable, Hashable, Codable {
    public var node: String
    public var cores: [Int]
    public var memoryMB: Int
    /// NUMA domains holding the cores: memory binding follows them.
    public var numaDomains: [Int]
    /// GPU indices in PCI bus order (`CUDA_VISIBLE_DEVICES`).
    public var gpus: [Int]
    /// The job has the whole node.
    public var exclusive: Bool

    public init(node: String, cores: [Int], memoryMB: Int, numaDomains: [Int], gpus: [Int], exclusive: Bool) {
        self.node = node
        self.cores = cores
        self.memoryMB = memoryMB
        self.numaDomains = numaDomains
        self.gpus = gpus
        self.exclusive = exclusive
    }
}

public struct Allocation: Sendable, Hashable, Codable {
    public var nodes: [NodeAllocation]

    public init(nodes: [NodeAllocation]) { self.nodes = nodes }

    public var nodeNames: [String] { nodes.map(\.node) }

    public var tres: TRES {
        nodes.reduce(TRES.zero) { $0 + TRES(cpus: $1.cores.count, memoryMB: $1.memoryMB, gpus: $1.gpus.count, nodes: 1) }
    }
}
