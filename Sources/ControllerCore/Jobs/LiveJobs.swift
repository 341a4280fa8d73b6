import SchedulerCore

/// The controller's live job records by id, held in pages of 256 records.
///
/// Why not a `[JobID: JobRecord]`: a dictionary keeps its values inline in a table that doubles
/// and is never more than three quarters full, so with records of some 600 bytes each pending
/// job cost up to twice its size in empty buckets (the budget is 2 KiB per pending
/// job). Here memory grows one page at a time, the index from id to slot costs a dozen bytes a
/// job, and the slots of ended jobs are used again.
package struct LiveJobs {
    private static let pageShift = 8
    private static let pageMask = (1 << pageShift) - 1

    private var slotOf: [JobID: Int32] = [:]
    private var pages: [ContiguousArray<JobRecord?>] = []
    private var freeSlots: [Int32] = []

    package init() {}

    package var count: Int { slotOf.count }

    /// The ids, in no particular order.
    package var keys: Dictionary<JobID, Int32>.Keys { slotOf.keys }

    /// The records, in no particular order.
    package var values: some Sequence<JobRecord> { pages.joined().lazy.compactMap { $0 } }

    /// A record by id; setting nil removes it. Changes through it (`records[id]!.job.reason =`)
    /// are made in place.
    package subscript(id: JobID) -> JobRecord? {
        get { slotOf[id].flatMap { pages[Int($0) >> Self.pageShift][Int($0) & Self.pageMask] } }
        _modify {
            let existing = slotOf[id].map(Int.init)
            let slot = existing ?? takeSlot()
            yield &pages[slot >> Self.pageShift][slot & Self.pageMask]
            if pages[slot >> Self.pageShift][slot & Self.pageMask] == nil {
                if existing != nil { slotOf[id] = nil }
                freeSlots.append(Int32(slot))
            } else if existing == nil {
                slotOf[id] = Int32(slot)
            }
        }
    }

    /// What `body` takes from a record, read in place. Through the subscript,
    /// `records[id]?.job.state` copies the whole record first (some 660 bytes, a retain and a
    /// release of each of its strings): for the reads a pass makes of every job, use this.
    @inline(__always)
    package func read<T>(_ id: JobID, _ body: (JobRecord) -> T) -> T? {
        guard let slot = slotOf[id].map(Int.init) else { return nil }
        return pages[slot >> Self.pageShift][slot & Self.pageMask].map(body)
    }

    /// Every record by increasing id (the queue's order), through a pointer to where it lies:
    /// one sort of the ids, no lookup by id per record, and no copy of a record. (A record lent
    /// as a value from storage the callee might change is copied first, a retain and a release
    /// of each of its strings and arrays: over ten thousand records, a quarter of a listing.)
    /// The pointer is valid only during `body`, which must not change the records.
    package func forEachByID(_ body: (UnsafePointer<JobRecord>) -> Void) {
        for slot in slotsByID() { withRecord(slot: Int(slot), body) }
    }

    /// The slots of every record, by increasing id (for `withRecord`).
    package func slotsByID() -> [Int32] {
        // Id and slot in one word when the ids fit (they count up from 1): a sort of plain
        // integers costs a third of one of pairs.
        guard slotOf.keys.allSatisfy({ $0 >= 0 && $0 < 1 << 32 }) else { return slotOf.sorted { $0.key < $1.key }.map(\.value) }
        var packed: [UInt64] = []
        packed.reserveCapacity(slotOf.count)
        for (id, slot) in slotOf { packed.append(UInt64(id) << 32 | UInt64(UInt32(bitPattern: slot))) }
        packed.sort()
        return packed.map { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }
    }

    /// The record in `slot` (one `slotOf` holds, from `slotsByID`: never empty), lent to `body`
    /// where it lies. An `Optional` of a struct keeps its payload at the start of its storage,
    /// so the record is read there.
    @inline(__always)
    package func withRecord(slot: Int, _ body: (UnsafePointer<JobRecord>) -> Void) {
        pages[slot >> Self.pageShift].withUnsafeBufferPointer { page in
            body(UnsafeRawPointer(page.baseAddress! + (slot & Self.pageMask)).assumingMemoryBound(to: JobRecord.self))
        }
    }

    @discardableResult
    package mutating func removeValue(forKey id: JobID) -> JobRecord? {
        guard let slot = slotOf.removeValue(forKey: id).map(Int.init) else { return nil }
        freeSlots.append(Int32(slot))
        defer { pages[slot >> Self.pageShift][slot & Self.pageMask] = nil }
        return pages[slot >> Self.pageShift][slot & Self.pageMask]
    }

    private mutating func takeSlot() -> Int {
        if let free = freeSlots.popLast() { return Int(free) }
        pages.append(ContiguousArray(repeating: nil, count: 1 << Self.pageShift))
        let first = (pages.count - 1) << Self.pageShift
        freeSlots.append(contentsOf: (first + 1..<first + (1 << Self.pageShift)).reversed().map(Int32.init))
        return first
    }
}
