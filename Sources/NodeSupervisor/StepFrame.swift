/// What a step's member supervisor sends its hub over TCP: a hello (the step's token and the
/// member's nodes), its tasks' output, and their ends. A frame is a kind byte, the task number
/// and the payload's length (4 bytes each, big-endian), then the payload. The hub answers with
/// text lines: `signal N`, `stop`, `pmi TASK LINE`.
enum StepFrame {
    enum Kind: UInt8 {
        /// `pmi`: a task's PMI request line, for the hub's PMI server (which answers with a
        /// `pmi TASK LINE` line).
        case hello = 0x68, stdout = 0x6f, stderr = 0x65, end = 0x78, pmi = 0x70
    }

    struct Hello: Codable {
        var token: String
        var nodes: [String]
    }

    /// Larger frames are not sent (output goes in reads of at most 64 KiB).
    static let maxPayload = 1 << 22

    static func encode(_ kind: Kind, task: Int, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [kind.rawValue]
        for value in [UInt32(truncatingIfNeeded: task), UInt32(payload.count)] {
            out += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
        }
        return out + payload
    }

    /// The first whole frame in `buffer`, taken out of it; nil until one has arrived. A frame
    /// of an unknown kind or too long empties the buffer (the connection is not ours to trust).
    static func take(from buffer: inout [UInt8]) -> (kind: Kind, task: Int, payload: [UInt8])? {
        guard buffer.count >= 9 else { return nil }
        func word(_ at: Int) -> Int {
            buffer[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        let length = word(5)
        guard let kind = Kind(rawValue: buffer[0]), length <= maxPayload else {
            buffer = []
            return nil
        }
        guard buffer.count >= 9 + length else { return nil }
        let frame = (kind, word(1), Array(buffer[9..<(9 + length)]))
        buffer.removeFirst(9 + length)
        return frame
    }
}

/// Output lines prefixed with their task's number (`-l`): what a read gave, cut at line ends,
/// the rest kept for the next. Without labels, bytes pass as they come.
struct LineLabeler {
    let width: Int
    let label: Bool
    private var partial: [Int: [[UInt8]]] = [:]

    init(width: Int, label: Bool) {
        self.width = width
        self.label = label
    }

    private func prefix(_ task: Int) -> [UInt8] {
        Array((String(repeating: " ", count: max(width - String(task).count, 0)) + "\(task): ").utf8)
    }

    /// What to write now for these bytes of a task's stream (0 stdout, 1 stderr).
    mutating func feed(task: Int, stream: Int, _ bytes: [UInt8]) -> [UInt8] {
        guard label else { return bytes }
        var pending = (partial[task]?[stream] ?? []) + bytes
        var out: [UInt8] = []
        let p = prefix(task)
        while let nl = pending.firstIndex(of: 10) {
            out += p + pending[...nl]
            pending.removeSubrange(...nl)
        }
        partial[task, default: [[], []]][stream] = pending
        return out
    }

    /// The stream's unfinished last line, ended (at the stream's end).
    mutating func flush(task: Int, stream: Int) -> [UInt8] {
        guard label, let rest = partial[task]?[stream], !rest.isEmpty else { return [] }
        partial[task]?[stream] = []
        return prefix(task) + rest + [10]
    }
}
