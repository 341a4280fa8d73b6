import ChessWire
/// sbatch's `--export`: which of the submitter's environment a job starts with. `ALL` (the
/// default) is all of it; `NONE` (or `NIL`) none; a list names variables to take
/// (`PATH,HOME`) or to set (`FOO=bar`), after `ALL` to add to all of it. As in Slurm, the
/// submitter's `SLURM_*` (and here `CHESS_*`) variables go with any form but `NIL`. Applied by
/// chessd to the environment a submission carries, so that every client means the same by it.
public enum ExportSpec {
    public static func apply(_ spec: String, to environment: [String: String]) throws(JobSpecSyntax.Error) -> [String: String] {
        var items = spec.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
        guard !items.isEmpty else { throw JobSpecSyntax.Error("--export: empty; give ALL, NONE or a list of variables") }
        var out: [String: String] = [:]
        let head = items[0].uppercased()
        if head == "ALL" {
            out = environment
            items.removeFirst()
        } else if head == "NONE" || head == "NIL" {
            items.removeFirst()
        }
        if head != "NIL" {
            for (k, v) in environment where k.hasPrefix("SLURM_") || k.hasPrefix("CHESS_") { out[k] = v }
        }
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard let first = name.first, first == "_" || first.isLetter, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }),
                  name.allSatisfy(\.isASCII) else {
                throw JobSpecSyntax.Error("--export: '\(item)' is not NAME or NAME=value (after ALL, NONE or NIL, which come first)")
            }
            if parts.count == 2 { out[name] = String(parts[1]) } else if let v = environment[name] { out[name] = v }
        }
        return out
    }
}
