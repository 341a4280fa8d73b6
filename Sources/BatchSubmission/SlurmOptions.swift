import ChessWire
extension SlurmOptions {
    /// What a typed long-option name is, read as glibc's getopt_long reads it for Slurm.
    public enum Resolution: Equatable, Sendable {
        /// The option, under its first name in Slurm's table (`tasks-per-node` is
        /// `ntasks-per-node`, `cpu_bind` is `cpu-bind`, `pack-group` is `het-group`).
        case option(name: String, argument: Argument)
        /// A prefix of options that differ: the candidates, in table order.
        case ambiguous([String])
        case unknown
    }


    /// The name as typed (before any `=`): an exact name wins; otherwise the options it is a
    /// prefix of, which must all be one option (same code and argument) or it is ambiguous.
    public static func resolve(_ typed: String, in table: [Option]) -> Resolution {
        guard !typed.isEmpty else { return .unknown }
        if let exact = table.first(where: { $0.name == typed }) { return .option(name: canonical(exact, in: table), argument: exact.argument) }
        let candidates = table.filter { $0.name.hasPrefix(typed) }
        guard let first = candidates.first else { return .unknown }
        if candidates.allSatisfy({ $0.code == first.code && $0.argument == first.argument }) {
            return .option(name: canonical(first, in: table), argument: first.argument)
        }
        return .ambiguous(candidates.map(\.name))
    }

    /// The option a short letter stands for (`-N`), under its canonical name.
    public static func short(_ letter: Character, in table: [Option]) -> (name: String, argument: Argument)? {
        guard let o = table.first(where: { $0.short == letter }) else { return nil }
        return (canonical(o, in: table), o.argument)
    }

    /// Input environment variables as option words, in the variables' order: `--name=value`,
    /// or `--name` for a flag, which Slurm sets when the value is empty, `yes` or a non-zero
    /// number (and not otherwise).
    static func environmentWords(_ variables: [(variable: String, option: String)], in table: [Option],
                                 _ environment: [String: String]) -> [(variable: String, argument: String)] {
        var out: [(String, String)] = []
        for (variable, option) in variables {
            guard let value = environment[variable], let entry = table.first(where: { $0.name == option }) else { continue }
            switch entry.argument {
            case .none:
                if value.isEmpty || value.lowercased() == "yes" || (Int(value).map { $0 != 0 } ?? false) { out.append((variable, "--\(option)")) }
            case .optional:
                out.append((variable, value.isEmpty ? "--\(option)" : "--\(option)=\(value)"))
            case .required:
                out.append((variable, "--\(option)=\(value)"))
            }
        }
        return out
    }

    /// The first name in the table with the option's code.
    static func canonical(_ o: Option, in table: [Option]) -> String {
        table.first { $0.code == o.code && $0.argument == o.argument }?.name ?? o.name
    }
}
