/// A binary min-heap keyed by an integer, with the ties broken by the payload's position of
/// insertion (first in, first out) so that event processing is deterministic.
public struct MinHeap<Payload>: Sendable where Payload: Sendable {
    private var keys: [Int] = []
    private var order: [Int] = []
    private var payloads: [Payload] = []
    private var inserted = 0

    public init() {}

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }
    /// The smallest key, or nil when empty.
    public var minKey: Int? { keys.first }
    public var min: (key: Int, payload: Payload)? { keys.isEmpty ? nil : (keys[0], payloads[0]) }

    public mutating func push(_ key: Int, _ payload: Payload) {
        keys.append(key)
        order.append(inserted)
        payloads.append(payload)
        inserted += 1
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    public mutating func pop() -> (key: Int, payload: Payload)? {
        guard !keys.isEmpty else { return nil }
        let top = (keys[0], payloads[0])
        let last = keys.count - 1
        swapAt(0, last)
        keys.removeLast()
        order.removeLast()
        payloads.removeLast()
        var i = 0
        let n = keys.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < n && less(l, m) { m = l }
            if r < n && less(r, m) { m = r }
            if m == i { break }
            swapAt(i, m)
            i = m
        }
        return top
    }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        keys[a] < keys[b] || (keys[a] == keys[b] && order[a] < order[b])
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        keys.swapAt(a, b)
        order.swapAt(a, b)
        payloads.swapAt(a, b)
    }
}
