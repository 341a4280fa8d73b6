/// `--output`/`--error` patterns: `%j` job id, `%A` array job id, `%a` task id, `%u` user,
/// `%x` job name, `%N` node, `%%` a percent sign. Relative paths are in the working directory.
///
/// Shared by the supervisor, which opens the files, and `chessctl show job`, which tells the
/// user where they are (as `scontrol show job` does).
public enum OutputPattern {
    /// Slurm's default when `--output` is not given.
    public static func defaultOutput(isArrayTask: Bool) -> String {
        isArrayTask ? "slurm-%A_%a.out" : "slurm-%j.out"
    }

    /// `node` nil leaves `%N` as it is (a job not started has no node yet).
    public static func resolve(_ pattern: String, job: Int, arrayJobID: Int?, arrayTaskID: Int?, user: String, name: String,
                               node: String?, workdir: String) -> String {
        var out = ""
        var it = pattern.makeIterator()
        while let c = it.next() {
            guard c == "%" else { out.append(c); continue }
            switch it.next() {
            case "j": out += "\(job)"
            case "A": out += "\(arrayJobID ?? job)"
            case "a": out += arrayTaskID.map(String.init) ?? "4294967294"
            case "u": out += user
            case "x": out += name
            case "N": out += node ?? "%N"
            case "%": out += "%"
            case let other?: out += "%\(other)"
            case nil: out += "%"
            }
        }
        return out.hasPrefix("/") ? out : "\(workdir)/\(out)"
    }
}
