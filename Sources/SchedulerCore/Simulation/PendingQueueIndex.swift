/// The pending queue of a flat replay, indexed for backfill scans.
///
/// Queue order is the global `(submit, id)` order, so a job's position never changes: the queue is
/// a set of positions. A segment tree over positions keeps, for each range, the smallest procs and
/// the smallest requested time among queued jobs; an EASY scan then jumps straight to the next job
/// that can start instead of walking every pending job. No depth limit is needed.
struct PendingQueueIndex {
    private let leaves: Int
    private var minProcs: [Int]
    private var minRequested: [Int]
    /// Lowest queued position, or `count` when none (kept exact by `remove`).
    private(set) var head: Int
    let count: Int
    private(set) var size = 0

    init(count: Int) {
        self.count = count
        var l = 1
        while l < max(count, 1) { l *= 2 }
        leaves = l
        minProcs = Array(repeating: Int.max, count: 2 * l)
        minRequested = Array(repeating: Int.max, count: 2 * l)
        head = count
    }

    var isEmpty: Bool { size == 0 }

    func contains(_ position: Int) -> Bool { minProcs[leaves + position] != Int.max }

    mutating func insert(_ position: Int, procs: Int, requested: Int) {
        set(position, procs, requested)
        size += 1
        if position < head { head = position }
    }

    mutating func remove(_ position: Int) {
        set(position, Int.max, Int.max)
        size -= 1
        if position == head { head = firstQueued(from: position + 1) ?? count }
    }

    /// First queued position at or after `from`.
    func firstQueued(from: Int) -> Int? {
        first(from: from) { node in minProcs[node] != Int.max }
    }

    /// First queued position at or after `from` whose job may be started by an EASY scan:
    /// `procs <= free` and (`requested <= window` or `procs <= extra`).
    func firstBackfillCandidate(from: Int, free: Int, window: Int, extra: Int) -> Int? {
        first(from: from) { node in
            minProcs[node] <= free && (minRequested[node] <= window || minProcs[node] <= extra)
        }
    }

    private mutating func set(_ position: Int, _ procs: Int, _ requested: Int) {
        var node = leaves + position
        minProcs[node] = procs
        minRequested[node] = requested
        node /= 2
        while node >= 1 {
            minProcs[node] = Swift.min(minProcs[2 * node], minProcs[2 * node + 1])
            minRequested[node] = Swift.min(minRequested[2 * node], minRequested[2 * node + 1])
            node /= 2
        }
    }

    /// Leftmost leaf at or after `from` whose subtree passes `mayContain` all the way down.
    /// `mayContain` must be true for a node whenever it is true for one of its leaves.
    private func first(from: Int, _ mayContain: (Int) -> Bool) -> Int? {
        guard from < count else { return nil }
        return descend(node: 1, lo: 0, hi: leaves, from: from, mayContain)
    }

    private func descend(node: Int, lo: Int, hi: Int, from: Int, _ mayContain: (Int) -> Bool) -> Int? {
        if hi <= from || !mayContain(node) { return nil }
        if hi - lo == 1 { return lo }
        let mid = (lo + hi) / 2
        return descend(node: 2 * node, lo: lo, hi: mid, from: from, mayContain)
            ?? descend(node: 2 * node + 1, lo: mid, hi: hi, from: from, mayContain)
    }
}
