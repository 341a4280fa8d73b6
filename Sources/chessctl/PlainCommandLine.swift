/// A command line read without ArgumentParser, in its plain forms only: each option once, its
/// value as the next word (`-u alice`, `--state PD`), flags alone, operands where they fall.
/// Building ArgumentParser's command (reflection and protocol-conformance lookups across the
/// binary) is most of a short command's CPU — 3 to 5 ms of every `queue` or `show job` a
/// script runs in a loop. Anything else (`--user=alice`, `-ualice`, `-hs`, a repeated or
/// unknown option, `--help`, a value that looks like an option, too many operands) is not
/// read here: `init` returns nil and ArgumentParser reads the line and answers as it always did.
struct PlainCommandLine {
    enum Kind { case value, flag }

    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []
    private(set) var operands: [String] = []

    /// `names` maps each spelling (`-u`, `--user`) to its option's key and kind.
    init?(_ arguments: [String], names: [String: (key: String, kind: Kind)], maxOperands: Int = 0) {
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            guard word.hasPrefix("-") else {
                guard operands.count < maxOperands else { return nil }
                operands.append(word)
                i += 1
                continue
            }
            guard let (key, kind) = names[word], values[key] == nil, !flags.contains(key) else { return nil }
            switch kind {
            case .flag:
                flags.insert(key)
            case .value:
                i += 1
                guard i < arguments.count, !arguments[i].hasPrefix("-") else { return nil }
                values[key] = arguments[i]
            }
            i += 1
        }
    }

    /// The connection option every command takes.
    static let socket: [String: (key: String, kind: Kind)] = ["--socket": ("socket", .value)]
}
