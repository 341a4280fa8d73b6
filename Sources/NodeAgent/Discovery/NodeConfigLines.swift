import ChessAPI

/// The `[[nodes]]` block of chessd's configuration that describes a probed node, as Slurm's
/// `slurmd -C` prints a NodeName line: what a sysadmin pastes, then trims (memory kept for the
/// system, cores left out), since the controller schedules the configured amounts.
enum NodeConfigLines {
    static func toml(name: String, _ t: AgentTopology) -> String {
        let cores = t.numa.reduce(0) { $0 + $1.cores.count }
        let sockets = max(t.sockets, 1)
        // Configured cores are sockets × cores_per_socket: whole sockets, rounded down where
        // sockets differ, so the node is never configured with more than it has.
        let perSocket = max(cores / sockets, 1)
        var lines = ["[[nodes]]", "names = \"\(name)\"", "sockets = \(sockets)", "cores_per_socket = \(perSocket)",
                     "memory_mb = \(t.numa.reduce(0) { $0 + $1.memoryMB })"]
        if !t.gpus.isEmpty {
            lines.append("gpus = \(t.gpus.count)")
            let types = Set(t.gpus.map(\.type))
            lines.append("gpu_type = \"\(types.count == 1 ? types.first! : t.gpus[0].type)\"")
        }
        var notes = ["# probed: \(cores) cores, \(t.cpus ?? cores * max(t.threadsPerCore, 1)) hardware threads, \(t.numa.count) NUMA domain(s)"]
        if cores % sockets != 0 { notes.append("# sockets differ: \(cores - perSocket * sockets) core(s) left out") }
        if Set(t.gpus.map(\.type)).count > 1 { notes.append("# GPU types differ: \(t.gpus.map(\.type).joined(separator: ","))") }
        return (lines + notes).joined(separator: "\n")
    }
}
