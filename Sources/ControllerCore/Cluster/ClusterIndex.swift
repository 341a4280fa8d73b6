import SchedulerCore

/// Lookups over the configured cluster that reads need often: rebuilt when the cluster changes.
package struct ClusterIndex: Sendable {
    package let cluster: Cluster
    package let nodeByName: [String: Int]
    /// What sizing a pending job takes from its partition, in one lookup: the cores of its
    /// smallest and largest node, and whether its jobs are exclusive by default.
    package let sizing: [String: (smallestCores: Int, largestCores: Int, exclusiveByDefault: Bool)]
    package let partitionsOfNode: [String: [String]]
    /// Each partition's nodes grouped by what a submit checks (capacity, features, GPU types):
    /// a thousand identical nodes are one class, so checking a submit does not walk them.
    package let nodeClasses: [String: [NodeClass]]

    package struct NodeClass: Sendable {
        package var capacity: NodeCapacity
        package var features: Set<String>
        package var gpuTypes: Set<String>
        package var count: Int
    }

    package init(_ cluster: Cluster) {
        self.cluster = cluster
        nodeByName = Dictionary(cluster.nodes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var sizes: [String: (smallestCores: Int, largestCores: Int, exclusiveByDefault: Bool)] = [:]
        var partitionsOf: [String: [String]] = [:]
        for p in cluster.partitions {
            var m = Int.max
            var x = 1
            for n in p.nodes {
                partitionsOf[n, default: []].append(p.name)
                if let i = nodeByName[n] {
                    m = min(m, cluster.nodes[i].topology.coreCount)
                    x = max(x, cluster.nodes[i].topology.coreCount)
                }
            }
            sizes[p.name] = (m == Int.max ? 1 : m, x, p.exclusiveByDefault)
        }
        sizing = sizes
        partitionsOfNode = partitionsOf
        var classes: [String: [NodeClass]] = [:]
        for p in cluster.partitions {
            var list: [NodeClass] = []
            for n in p.nodes {
                guard let i = nodeByName[n] else { continue }
                let node = cluster.nodes[i]
                let cap = node.topology.capacity
                let types = node.topology.gpuTypes
                if let k = list.firstIndex(where: { $0.capacity == cap && $0.features == node.features && $0.gpuTypes == types }) {
                    list[k].count += 1
                } else {
                    list.append(NodeClass(capacity: cap, features: node.features, gpuTypes: types, count: 1))
                }
            }
            classes[p.name] = list
        }
        nodeClasses = classes
    }

    package func node(_ name: String) -> Node? { nodeByName[name].map { cluster.nodes[$0] } }

    /// What a job holds, or will hold once placed as far as can be known before.
    package func tres(of job: Job) -> TRES {
        if let a = job.allocation { return a.tres }
        return tres(partition: job.partition, request: job.request)
    }

    /// What a pending job of `partition` asking for `request` will hold, as far as can be known
    /// before it is placed.
    package func tres(partition: String, request: JobRequest) -> TRES {
        shape(partition: partition, request: request)?.tres
            ?? TRES(cpus: request.cpusPerTask * (request.tasks ?? 1), nodes: request.nodes ?? 1)
    }

    /// The shape `request` takes on `partition`'s nodes; nil if it fits none (or no such partition).
    package func shape(partition: String, request: JobRequest) -> JobShape? {
        guard let p = sizing[partition] else { return nil }
        return request.shape(smallestCores: p.smallestCores, largestCores: p.largestCores, exclusiveByDefault: p.exclusiveByDefault)
    }
}
