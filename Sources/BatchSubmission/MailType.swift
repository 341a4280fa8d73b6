import ChessWire
/// sbatch's `--mail-type`: the job events that send mail, read as Slurm 22.05 reads it
/// (`parse_mail_type`): comma-separated, any case; `NONE` clears what came before it and stops;
/// `ALL` is BEGIN, END, FAIL, REQUEUE, INVALID_DEPEND and STAGE_OUT. A word Slurm does not know
/// is skipped, unless no word is known (then it is an error, as in Slurm).
public struct MailType: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let begin = MailType(rawValue: 1 << 0)
    public static let end = MailType(rawValue: 1 << 1)
    public static let fail = MailType(rawValue: 1 << 2)
    public static let requeue = MailType(rawValue: 1 << 3)
    public static let timeLimit = MailType(rawValue: 1 << 4)
    public static let timeLimit90 = MailType(rawValue: 1 << 5)
    public static let timeLimit80 = MailType(rawValue: 1 << 6)
    public static let timeLimit50 = MailType(rawValue: 1 << 7)
    public static let arrayTasks = MailType(rawValue: 1 << 8)
    public static let invalidDepend = MailType(rawValue: 1 << 9)
    public static let stageOut = MailType(rawValue: 1 << 10)
    public static let all: MailType = [.begin, .end, .fail, .requeue, .invalidDepend, .stageOut]

    /// Slurm's names, in the order `scontrol show job` prints them.
    static let names: [(String, MailType)] = [
        ("ARRAY_TASKS", .arrayTasks), ("INVALID_DEPEND", .invalidDepend), ("BEGIN", .begin), ("END", .end),
        ("FAIL", .fail), ("REQUEUE", .requeue), ("STAGE_OUT", .stageOut), ("TIME_LIMIT_50", .timeLimit50),
        ("TIME_LIMIT_80", .timeLimit80), ("TIME_LIMIT_90", .timeLimit90), ("TIME_LIMIT", .timeLimit),
    ]

    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(MailType.Error) {
        var value: MailType = []
        var none = false
        for word in text.split(separator: ",") {
            let upper = word.uppercased()
            if upper == "NONE" { value = []; none = true; break }
            if upper == "ALL" { value.formUnion(.all); continue }
            if let (_, type) = Self.names.first(where: { $0.0 == upper }) { value.formUnion(type) }
        }
        guard none || !value.isEmpty else {
            throw Error(description: "--mail-type=\(text): expected NONE, BEGIN, END, FAIL, REQUEUE, ALL, INVALID_DEPEND, "
                + "STAGE_OUT, TIME_LIMIT, TIME_LIMIT_90, TIME_LIMIT_80, TIME_LIMIT_50 or ARRAY_TASKS, comma-separated")
        }
        self = value
    }

    /// `END,FAIL`, as `scontrol show job` prints MailType; `NONE` when empty.
    public var description: String {
        isEmpty ? "NONE" : Self.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }

    /// The subject word of a mail for one event (Slurm's `_mail_type_str`).
    public var subjectWord: String {
        switch self {
        case .invalidDepend: return "Invalid dependency"
        case .begin: return "Began"
        case .end: return "Ended"
        case .fail: return "Failed"
        case .requeue: return "Requeued"
        case .stageOut: return "StageOut/Teardown"
        case .timeLimit: return "Reached time limit"
        case .timeLimit90: return "Reached 90% of time limit"
        case .timeLimit80: return "Reached 80% of time limit"
        case .timeLimit50: return "Reached 50% of time limit"
        default: return "unknown"
        }
    }
}
