/// QoS preemption: a waiting job whose QoS may preempt others gets the smallest set of
/// lowest-priority, most-recently-started victims that lets it start now. The victims are only
/// signalled in this pass; the preemptor starts in a later pass, once their resources are back.
extension PlanningPass {
    mutating func planPreemptions(for preemptors: [Job], qosByName: [String: QoS], partitions: [String: Partition]) {
        var taken = Set<JobID>()
        let startedNow = Set(decisions.starts.map(\.job))
        for preemptor in preemptors {
            guard let qos = qosByName[preemptor.qos], let partition = partitions[preemptor.partition],
                  preemptor.request.reservation == nil else { continue }
            guard let shape = shape(of: preemptor.request, in: partition) else { continue }
            // A `--nodelist` that is the whole allocation is the pool; one with others added
            // to it is not planned for here (the job waits for its nodes instead).
            let excluded = Set(preemptor.request.excludedNodes ?? [])
            let required = Set(preemptor.request.requiredNodes ?? [])
            guard required.isEmpty || required.count == shape.nodeCount else { continue }
            let pool = (partitionNodes[partition.name] ?? []).filter { n in
                nodes[n].acceptsJobs && (preemptor.request.constraint?.matches(nodes[n].features) ?? true)
                    && (preemptor.request.gpus?.type.map { nodes[n].topology.gpuTypes.contains($0) } ?? true)
                    && !excluded.contains(nodes[n].name) && (required.isEmpty || required.contains(nodes[n].name))
            }
            let poolSet = Set(pool)

            // Victims: running jobs of a preemptable QoS on the preemptor's nodes, cheapest first.
            struct Victim { var job: Job; var priority: Int; var mode: PreemptMode; var grace: Int; var holdings: [(Int, NodeCapacity)] }
            var victims: [Victim] = []
            for job in snapshot.jobs where job.state == .running && !job.preemptionPending && !taken.contains(job.id)
                && !startedNow.contains(job.id) {
                // A QoS never preempts its own jobs: two of them would take turns forever.
                guard job.qos != preemptor.qos, qos.preempt.contains(job.qos), let victimQoS = qosByName[job.qos], victimQoS.preemptMode != .off,
                      let allocation = job.allocation else { continue }
                let holdings: [(Int, NodeCapacity)] = allocation.nodes.compactMap { a in
                    guard let n = nodeIndex[a.node], poolSet.contains(n) else { return nil }
                    // A suspended victim keeps its memory.
                    let memory = victimQoS.preemptMode == .suspend ? 0 : a.memoryMB
                    return (n, NodeCapacity(cores: a.cores.count, memoryMB: memory, gpus: a.gpus.count))
                }
                guard !holdings.isEmpty else { continue }
                let priority = priorities.priority(of: job, cpus: allocation.tres.cpus,
                                                   partition: partitions[job.partition], qos: victimQoS)
                victims.append(Victim(job: job, priority: priority, mode: victimQoS.preemptMode,
                                      grace: victimQoS.graceTime, holdings: holdings))
            }
            guard !victims.isEmpty else { continue }
            victims.sort {
                ($0.priority, -($0.job.startTime ?? 0), -$0.job.id) < ($1.priority, -($1.job.startTime ?? 0), -$1.job.id)
            }

            var free = Dictionary(uniqueKeysWithValues: pool.map { ($0, usage[$0].capacity) })
            func fits() -> Bool {
                pool.filter { free[$0]!.covers(need(shape, $0)) }.count >= shape.nodeCount
            }
            var chosen: [Int] = []
            for (i, v) in victims.enumerated() {
                for (n, c) in v.holdings { free[n] = free[n]! + c }
                chosen.append(i)
                if fits() { break }
            }
            guard fits() else { continue }
            // Drop victims the others make unnecessary, latest additions first.
            for i in chosen.reversed() {
                for (n, c) in victims[i].holdings { free[n] = free[n]! - c }
                if fits() {
                    chosen.removeAll { $0 == i }
                } else {
                    for (n, c) in victims[i].holdings { free[n] = free[n]! + c }
                }
            }
            for i in chosen.sorted() {
                let v = victims[i]
                taken.insert(v.job.id)
                decisions.preemptions.append(.init(victim: v.job.id, mode: v.mode, graceTime: v.grace, preemptor: preemptor.id))
            }
            decisions.reasons[preemptor.id] = .preempting
        }
    }
}
