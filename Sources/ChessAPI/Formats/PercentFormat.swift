/// Slurm's `-o/--format` strings with `%` fields (squeue's, sinfo's): `%[.][width]letter`, `.`
/// right-justifies, a width pads and truncates (as Slurm does), text between fields is kept,
/// `%%` is a percent sign. `Field` is what a letter stands for.
public struct PercentFormat<Field: Sendable>: Sendable {
    enum Piece: Sendable {
        case literal(String)
        case field(Field, width: Int?, right: Bool)
    }

    let pieces: [Piece]

    /// The fields of the format, in order.
    public var fields: [Field] {
        pieces.compactMap { if case .field(let f, _, _) = $0 { return f } else { return nil } }
    }

    public init(_ text: String, letters: [Character: Field]) throws(JobSpecSyntax.Error) {
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
            guard i < text.endIndex, let field = letters[text[i]] else {
                let known = letters.keys.map(String.init).sorted().joined()
                throw JobSpecSyntax.Error("--format: '\(text)': a field is %[.][width]LETTER with a letter among \(known)")
            }
            i = text.index(after: i)
            if !literal.isEmpty { pieces.append(.literal(literal)); literal = "" }
            pieces.append(.field(field, width: Int(digits).flatMap { $0 > 0 ? $0 : nil }, right: right))
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    /// One line: each field's value, fitted to its width.
    public func render(_ value: (Field) -> String) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .field(let field, let width, let right):
                var v = value(field)
                guard let width else { out += v; continue }
                if v.count > width { v = String(v.prefix(width)) }
                let pad = String(repeating: " ", count: width - v.count)
                out += right ? pad + v : v + pad
            }
        }
        return out
    }
}
