/// The PMI-1 wire protocol MPI libraries speak to their process manager (MPICH's and Intel
/// MPI's "simple PMI": `PMI_FD`, `PMI_RANK`, `PMI_SIZE`), served by a step's hub for every task of
/// the step: ranks find each other through its key-value space and barriers, as under Slurm's
/// `srun --mpi=pmi1`/Hydra. Lines are `cmd=NAME key=value …`; each request gets one answer, a
/// barrier's when every task has entered it.
struct PMIServer {
    let size: Int
    let kvsName: String
    /// `PMI_process_mapping`: which ranks share a node, `(vector,(first node,nodes,ranks each),…)`.
    let mapping: String
    private var kvs: [String: String] = [:]
    private var waiting: [Int] = []
    /// The task that called `PMI_Abort` (the step is then stopped, as Slurm stops it), and why.
    private(set) var abort: (task: Int, message: String)?

    /// `tasksPerNode`: the step's tasks on each of its nodes, in order (ranks in blocks).
    init(job: Int, step: Int, tasksPerNode: [Int]) {
        size = tasksPerNode.reduce(0, +)
        kvsName = "kvs_\(job)_\(step)"
        var runs: [(first: Int, nodes: Int, ranks: Int)] = []
        for (i, n) in tasksPerNode.enumerated() {
            if let last = runs.last, last.ranks == n { runs[runs.count - 1].nodes += 1 } else { runs.append((i, 1, n)) }
        }
        mapping = "(vector," + runs.map { "(\($0.first),\($0.nodes),\($0.ranks))" }.joined(separator: ",") + ")"
    }

    /// `cmd=put kvsname=k key=a value=b c` → ["cmd": "put", …]: values run to the next ` word=`
    /// (a value may hold spaces and `=`).
    static func fields(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        var key: String?
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if let eq = word.firstIndex(of: "="), word[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !word[..<eq].isEmpty {
                key = String(word[..<eq])
                out[key!] = String(word[word.index(after: eq)...])
            } else if let k = key {
                out[k, default: ""] += " " + word
            }
        }
        return out
    }

    /// The answers to one task's request: (task, line without its newline).
    mutating func handle(task: Int, line: String) -> [(Int, String)] {
        let f = Self.fields(line)
        let thread = f["thrid"].map { " thrid=\($0)" } ?? ""
        func reply(_ text: String) -> [(Int, String)] { [(task, text + thread)] }
        switch f["cmd"] ?? "" {
        case "init":
            return reply("cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0")
        case "get_maxes":
            return reply("cmd=maxes kvsname_max=256 keylen_max=256 vallen_max=4096 rc=0")
        case "get_appnum":
            return reply("cmd=appnum appnum=0 rc=0")
        case "get_my_kvsname":
            return reply("cmd=my_kvsname kvsname=\(kvsName) rc=0")
        case "get_universe_size":
            return reply("cmd=universe_size size=\(size) rc=0")
        case "put":
            guard let key = f["key"] else { return reply("cmd=put_result rc=-1 msg=no_key") }
            kvs[key] = f["value"] ?? ""
            return reply("cmd=put_result rc=0")
        case "get":
            let key = f["key"] ?? ""
            if key == "PMI_process_mapping" { return reply("cmd=get_result rc=0 value=\(mapping)") }
            if let value = kvs[key] { return reply("cmd=get_result rc=0 value=\(value)") }
            return reply("cmd=get_result rc=-1 msg=key_\(key)_not_found")
        case "barrier_in":
            if !waiting.contains(task) { waiting.append(task) }
            guard waiting.count >= size else { return [] }
            defer { waiting = [] }
            return waiting.map { ($0, "cmd=barrier_out rc=0") }
        case "finalize":
            return reply("cmd=finalize_ack rc=0")
        case "abort":
            if abort == nil { abort = (task, f["exitcode"].map { "exit code \($0)" } ?? "no exit code") }
            return []
        default:
            return reply("cmd=\(f["cmd"] ?? "unknown")_result rc=-1 msg=unsupported")
        }
    }
}
