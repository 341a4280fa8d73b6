@testable import SchedulerCore

/// A deliberately naive flat replay written line by line from SIMULATION.md §4–6, with no index,
/// no profile data structure and no early exits. The optimized `FlatMachineReplay` must agree
/// with it on every job's start time.
enum ReferenceReplay {
    struct Running { var job: Int; var start: Int; var end: Int; var requestedEnd: Int; var procs: Int }

    static func starts(_ w: SWFWorkload, _ policy: ReplayPolicy) -> [Int] {
        let jobs = w.jobs
        let n = w.machineSize
        var starts = Array(repeating: -1, count: jobs.count)
        var queue: [Int] = []          // positions, kept in queue order
        var running: [Running] = []
        var submitted = 0
        while submitted < jobs.count || !running.isEmpty || !queue.isEmpty {
            let nextSubmit = submitted < jobs.count ? jobs[submitted].submit : Int.max
            let nextEnd = running.map(\.end).min() ?? Int.max
            let t = min(nextSubmit, nextEnd)
            precondition(t != Int.max, "stuck")
            running.removeAll { $0.end == t }
            while submitted < jobs.count && jobs[submitted].submit == t {
                queue.append(submitted)
                submitted += 1
            }
            var free: Int { n - running.reduce(0) { $0 + $1.procs } }
            func start(_ q: Int) {
                let j = queue[q]
                starts[j] = t
                running.append(Running(job: j, start: t, end: t + jobs[j].run,
                                       requestedEnd: t + jobs[j].requested, procs: jobs[j].procs))
                queue.remove(at: q)
            }
            switch policy {
            case .fcfs:
                while let h = queue.first, jobs[h].procs <= free { start(0) }
            case .easy:
                while let h = queue.first, jobs[h].procs <= free { start(0) }
                guard let h = queue.first else { break }
                let need = jobs[h].procs
                let ends = running.map(\.requestedEnd).sorted()
                let shadow = ends.first { e in free + running.filter { $0.requestedEnd <= e }.reduce(0) { $0 + $1.procs } >= need }!
                var extra = free + running.filter { $0.requestedEnd <= shadow }.reduce(0) { $0 + $1.procs } - need
                var q = 1
                while q < queue.count {
                    let j = queue[q]
                    let p = jobs[j].procs
                    if p > free { q += 1; continue }
                    if t + jobs[j].requested <= shadow { start(q); continue }
                    if p <= extra { extra -= p; start(q); continue }
                    q += 1
                }
            case .conservative:
                var reservations: [(s: Int, e: Int, p: Int)] = []
                let free0 = free
                func avail(_ x: Int) -> Int {
                    free0 + running.filter { $0.requestedEnd <= x }.reduce(0) { $0 + $1.procs }
                        - reservations.filter { $0.s <= x && x < $0.e }.reduce(0) { $0 + $1.p }
                }
                var startNow: [Int] = []
                for j in queue {
                    let p = jobs[j].procs, r = jobs[j].requested
                    let points = Set([t] + running.map(\.requestedEnd) + reservations.flatMap { [$0.s, $0.e] })
                        .filter { $0 >= t }.sorted()
                    let s = points.first { s in
                        points.filter { $0 >= s && $0 < s + r }.allSatisfy { avail($0) >= p }
                    }!
                    reservations.append((s, s + r, p))
                    if s == t { startNow.append(j) }
                }
                for j in startNow { start(queue.firstIndex(of: j)!) }
            }
        }
        return starts
    }
}
