/// squeue's `-o/--format` with `%` fields (`"%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"`), as
/// scripts written for Slurm pass it: `%[.][width]letter`, `.` right-justifies, a width pads
/// and truncates (as squeue does), text between fields is kept, `%%` is a percent sign.
public struct SqueueFormat: Sendable {
    enum Piece: Sendable {
        case literal(String)
        case field(QueueColumns.Column, width: Int?, right: Bool)
    }

    let pieces: [Piece]

    /// The letters understood, with the column each shows.
    public static let letters: [Character: QueueColumns.Column] = [
        "i": .id, "A": .id, "P": .partition, "j": .name, "u": .user, "t": .state, "T": .statelong, "M": .time,
        "l": .timeLimit, "D": .nodes, "C": .cpus, "b": .gpus, "R": .reasonNodelist, "N": .nodelist, "r": .reason,
        "Q": .priority, "p": .priority, "q": .qos, "a": .account, "V": .submit, "S": .start,
    ]

    public init(_ text: String) throws(JobSpecSyntax.Error) {
        var pieces: [Piece] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            i = text.index(after: i)
            guard c == "%" else { literal.append(c); continue }
            guard i < text.endIndex else { throw JobSpecSyntax.Error("--format: '\(text)' ends with a lone %") }
            if text[i] == "%" {
                literal.append("%")
                i = text.index(after: i)
                continue
            }
            var right = false
            if text[i] == "." || text[i] == "-" {
                right = text[i] == "."  // `-` (left, as printf writes it) is the default anyway
                i = text.index(after: i)
            }
            var digits = ""
            while i < text.endIndex, text[i].isASCII, text[i].isNumber {
                digits.append(text[i])
                i = text.index(after: i)
            }
            guard i < text.endIndex, let column = Self.letters[text[i]] else {
                let known = Self.letters.keys.map(String.init).sorted().joined()
                throw JobSpecSyntax.Error("--format: '\(text)': a field is %[.][width]LETTER with a letter among \(known)")
            }
            i = text.index(after: i)
            if !literal.isEmpty { pieces.append(.literal(literal)); literal = "" }
            pieces.append(.field(column, width: Int(digits).flatMap { $0 > 0 ? $0 : nil }, right: right))
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    /// The header line: each field's column name, fitted like its values.
    public func header() -> String {
        render { QueueColumns.headers[$0.rawValue] ?? $0.rawValue.uppercased() }
    }

    public func row(_ job: JobInfo, now: Int) -> String {
        render { QueueColumns.cell($0, job, now: now) }
    }

    private func render(_ value: (QueueColumns.Column) -> String) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .field(let column, let width, let right):
                var v = value(column)
                guard let width else { out += v; continue }
                if v.count > width { v = String(v.prefix(width)) }
                let pad = String(repeating: " ", count: width - v.count)
                out += right ? pad + v : v + pad
            }
        }
        return out
    }
}
