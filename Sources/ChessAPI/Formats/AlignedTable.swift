/// Tab-separated lines (as chessd renders `queue` rows) laid out as a table: each cell but a
/// line's last padded with spaces to its column's widest cell and two more.
///
/// Why bytes and two passes (widths, then the padded copy), and why eight bytes at a time:
/// `chessctl queue` prints tens of thousands of rows, and a String per cell cost more than the
/// request; byte by byte, the two passes were still half of chessctl's CPU over 10,000 rows.
/// Most of a row is ASCII between tabs, which is taken a word at a time. Widths count Unicode
/// scalars (UTF-8 lead bytes): as good as characters for table cells, without grapheme breaking.
public struct AlignedTable {
    /// The widest cell of each column so far (columns past the headers' count are not padded).
    public private(set) var widths: [Int]

    public init(columns: Int) {
        widths = [Int](repeating: 0, count: max(columns, 0))
    }

    /// Widens the columns to the cells of `raw`'s lines.
    public mutating func measure(_ raw: UnsafeRawBufferPointer) {
        widths.withUnsafeMutableBufferPointer { widths in
            var column = 0
            Self.forEachCell(raw) { _, _, width, ending in
                if column < widths.count && width > widths[column] { widths[column] = width }
                column = ending == 0x0A ? 0 : column + 1
            }
        }
    }

    /// Writes `raw`'s lines, padded, into `out`; a last line without its line break gets one.
    public func emit(_ raw: UnsafeRawBufferPointer, to out: inout ByteOutput) {
        guard let base = raw.baseAddress else { return }
        widths.withUnsafeBufferPointer { widths in
            var column = 0
            Self.forEachCell(raw) { start, end, width, ending in
                out.write(base + start, end - start)
                if ending == 0x09 {
                    out.spaces((column < widths.count ? widths[column] : width) - width + 2)
                    column += 1
                } else {
                    out.newline()
                    column = 0
                }
            }
        }
    }

    /// Hands `cell` each cell of `raw`: where its bytes start and end, its width, and what ends
    /// it (a tab, a line break, or nil: the end of `raw`, for a last line without its break).
    @inline(__always)
    private static func forEachCell(_ raw: UnsafeRawBufferPointer, _ cell: (_ start: Int, _ end: Int, _ width: Int, _ ending: UInt8?) -> Void) {
        guard let base = raw.baseAddress else { return }
        let end = raw.count
        var i = 0, cellStart = 0, width = 0
        while i < end {
            if end - i >= 8 && isPlain(base + i) {
                width += 8
                i += 8
                continue
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b == 0x09 || b == 0x0A {
                cell(cellStart, i, width, b)
                cellStart = i + 1
                width = 0
            } else if b & 0xC0 != 0x80 {
                width += 1
            }
            i += 1
        }
        if cellStart < end { cell(cellStart, end, width, nil) }
    }

    /// Whether none of the eight bytes at `p` is a tab, a line break or part of a multi-byte
    /// character (a zero byte of `w ^ 0x0909…` is a tab: `(x - 0x01…) & ~x & 0x80…` finds one).
    @inline(__always)
    static func isPlain(_ p: UnsafeRawPointer) -> Bool {
        let w = p.loadUnaligned(as: UInt64.self)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let tabs = w ^ (ones &* 0x09), breaks = w ^ (ones &* 0x0A)
        return ((tabs &- ones) & ~tabs | (breaks &- ones) & ~breaks | w) & (ones &* 0x80) == 0
    }
}

/// Bytes gathered in a fixed buffer and handed to `flush` as it fills (and at `finish`): the
/// buffer does not grow with what is written, however wide one cell and however many lines.
public struct ByteOutput: ~Copyable {
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private let flushing: (UnsafeRawBufferPointer) -> Void

    public init(capacity: Int = 64 * 1024, flush: @escaping (UnsafeRawBufferPointer) -> Void) {
        buffer = .allocate(byteCount: max(capacity, 1), alignment: 1)
        flushing = flush
    }

    deinit {
        if used > 0 { flushing(UnsafeRawBufferPointer(start: buffer.baseAddress, count: used)) }
        buffer.deallocate()
    }

    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawPointer, _ count: Int) {
        if used + count > buffer.count { finish() }
        guard count <= buffer.count else { return flushing(UnsafeRawBufferPointer(start: bytes, count: count)) }
        (buffer.baseAddress! + used).copyMemory(from: bytes, byteCount: count)
        used += count
    }

    @inline(__always)
    public mutating func spaces(_ count: Int) {
        if count > 0 && used + count <= buffer.count {
            (buffer.baseAddress! + used).initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: count)
            used += count
            return
        }
        spacesSlowly(count)
    }

    private mutating func spacesSlowly(_ count: Int) {
        var left = count
        while left > 0 {
            if used == buffer.count { finish() }
            let n = min(left, buffer.count - used)
            (buffer.baseAddress! + used).initializeMemory(as: UInt8.self, repeating: UInt8(ascii: " "), count: n)
            used += n
            left -= n
        }
    }

    @inline(__always)
    public mutating func newline() {
        if used == buffer.count { finish() }
        buffer[used] = 0x0A
        used += 1
    }

    /// Hands what is buffered to `flush`.
    public mutating func finish() {
        guard used > 0 else { return }
        flushing(UnsafeRawBufferPointer(start: buffer.baseAddress, count: used))
        used = 0
    }
}
