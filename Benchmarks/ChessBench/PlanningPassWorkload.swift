import SchedulerCore

/// A synthetic live-controller moment: `nodes` nodes of 64 cores (2 NUMA domains) and 4 GPUs,
/// 32 per leaf switch, about 70% busy, with `pending` waiting jobs of mixed sizes. Deterministic.
struct PlanningPassWorkload {
    let snapshot: SchedulingSnapshot

    init(nodes nodeCount: Int, pending: Int, policy: SchedulingPolicy, seed: UInt64 = 1) {
        var rng = SplitMix64(seed: seed)
        let nodes = (0..<nodeCount).map { i in
            Node(name: "n\(i)", topology: .uniform(sockets: 2, coresPerSocket: 32, memoryMB: 512_000, gpus: 4,
                                                  gpuType: "a100", leafSwitch: "sw\(i / 32)"))
        }
        let cluster = Cluster(nodes: nodes,
                              partitions: [Partition(name: "batch", nodes: nodes.map(\.name), maxTime: 7 * 86400)],
                              qos: [QoS(name: "normal"), QoS(name: "high", priority: 100)])
        let now = 1_000_000
        var jobs: [Job] = []
        var id = 1
        // Running: on most nodes, one job holding 16, 32, 48 or 64 cores and some GPUs.
        for node in nodes where rng.next(10) < 8 {
            let cores = 16 * (1 + rng.next(4))
            let gpus = rng.next(5)
            var job = Job(id: id, user: "u\(rng.next(200))", partition: "batch",
                          request: JobRequest(timeLimit: 3600 * (1 + rng.next(24))), submitTime: now - 100_000)
            job.state = .running
            job.startTime = now - rng.next(3600)
            job.allocation = Allocation(nodes: [NodeAllocation(node: node.name, cores: Array(0..<cores), memoryMB: cores * 4000,
                                                               numaDomains: cores > 32 ? [0, 1] : [0], gpus: Array(0..<gpus),
                                                               exclusive: false)])
            jobs.append(job)
            id += 1
        }
        // Pending: mostly small, some whole nodes and GPU jobs, some wide multi-node jobs.
        for _ in 0..<pending {
            let kind = rng.next(100)
            var request: JobRequest
            switch kind {
            case 0..<55: request = JobRequest(tasks: 1 + rng.next(16), memory: .perCPU(2000))
            case 55..<75: request = JobRequest(nodes: 1, tasksPerNode: 64, gpus: GPURequest(count: 1 + rng.next(4), type: "a100"))
            case 75..<95: request = JobRequest(nodes: 2 + rng.next(15), tasksPerNode: 64)
            default: request = JobRequest(nodes: 32 + rng.next(97), tasksPerNode: 64, exclusive: true)
            }
            request.timeLimit = 600 * (1 + rng.next(144))
            jobs.append(Job(id: id, user: "u\(rng.next(200))", partition: "batch", qos: rng.next(20) == 0 ? "high" : "normal",
                            request: request, submitTime: now - rng.next(86400)))
            id += 1
        }
        snapshot = SchedulingSnapshot(now: now, cluster: cluster, jobs: jobs,
                                      configuration: PlannerConfiguration(policy: policy))
    }
}
