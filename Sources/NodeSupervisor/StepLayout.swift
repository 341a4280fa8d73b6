/// Where a step's tasks run among its job's nodes, as `srun` lays them out inside an allocation:
/// the job's first nodes, tasks dealt to them in turn while each has CPUs for one more
/// (`cpus-per-task` each), numbered in blocks (node 0 has tasks 0…k−1, node 1 the next, …).
public struct StepLayout: Equatable, Sendable {
    /// Tasks on each of the job's first `counts.count` nodes.
    public var counts: [Int]
    public var warnings: [String]

    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ d: String) { description = d }
    }

    public var tasks: Int { counts.reduce(0, +) }

    /// The first task number on node `i` of the step.
    public func firstTask(onNode i: Int) -> Int { counts.prefix(i).reduce(0, +) }

    /// - Parameters:
    ///   - cpus: CPUs the job holds on each of its nodes, in the allocation's order.
    ///   - defaultTasks: the job's own task count (`--ntasks`, or `--ntasks-per-node` × nodes);
    ///     nil: one task per node, as Slurm does for a job that gave neither.
    public static func plan(tasks: Int?, nodes: Int?, tasksPerNode: Int?, cpusPerTask: Int?, overlap: Bool,
                            cpus: [Int], defaultTasks: Int?) throws(Refusal) -> StepLayout {
        let jobNodes = cpus.count
        guard jobNodes > 0 else { throw Refusal("the job holds no nodes") }
        let cpt = max(cpusPerTask ?? 1, 1)
        if let n = nodes, n > jobNodes {
            throw Refusal("-N \(n): the job has \(jobNodes) node\(jobNodes == 1 ? "" : "s")")
        }
        var warnings: [String] = []
        let total: Int
        if let t = tasks {
            total = t
        } else if let tpn = tasksPerNode {
            total = tpn * (nodes ?? jobNodes)
        } else if nodes != nil {
            total = nodes!
        } else {
            total = defaultTasks ?? jobNodes
        }
        guard total >= 1 else { throw Refusal("a step needs at least one task") }
        var nodeCount: Int
        if let n = nodes {
            nodeCount = n
            if total < n {
                warnings.append("can't run \(total) process\(total == 1 ? "" : "es") on \(n) nodes, setting nnodes to \(total)")
                nodeCount = total
            }
        } else if let tpn = tasksPerNode {
            nodeCount = min(jobNodes, (total + tpn - 1) / tpn)
        } else {
            nodeCount = min(jobNodes, total)
        }
        var counts = [Int](repeating: 0, count: nodeCount)
        let capacity = cpus.prefix(nodeCount).map { $0 / cpt }
        let cap = { (i: Int) -> Int in min(tasksPerNode ?? Int.max, overlap ? Int.max : capacity[i]) }
        var left = total
        // Dealt in turn, each node taking one more while it has room: balanced where CPUs allow.
        while left > 0 {
            var dealt = false
            for i in 0..<nodeCount where left > 0 && counts[i] < cap(i) {
                counts[i] += 1
                left -= 1
                dealt = true
            }
            if !dealt { break }
        }
        if left > 0 {
            if let tpn = tasksPerNode, total > tpn * nodeCount {
                throw Refusal("\(total) tasks do not fit \(nodeCount) node\(nodeCount == 1 ? "" : "s") at --ntasks-per-node=\(tpn)")
            }
            let held = cpus.prefix(nodeCount).reduce(0, +)
            throw Refusal("more processors requested than permitted: \(total) task\(total == 1 ? "" : "s") × \(cpt) CPU\(cpt == 1 ? "" : "s") "
                + "on \(nodeCount) node\(nodeCount == 1 ? "" : "s") where the job holds \(held) CPUs (--overlap shares them)")
        }
        if let i = counts.firstIndex(of: 0) {
            throw Refusal("node \(i) of the job has no room for a task of \(cpt) CPUs (--overlap shares them)")
        }
        return StepLayout(counts: counts, warnings: warnings)
    }
}
