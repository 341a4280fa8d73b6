import ControllerCore
import SchedulerCore
import Testing

/// `LiveJobs` behaves as the dictionary it replaces, whatever the order of inserts, changes in
/// place and removals (a random sequence checked against a `[JobID: JobRecord]` model).
@Suite("LiveJobs") struct LiveJobsTests {
    static func record(_ id: JobID, _ name: String) -> JobRecord {
        JobRecord(job: Job(id: id, name: name, user: "u", partition: "p", qos: "normal", request: JobRequest(), submitTime: 0))
    }

    @Test func matchesADictionaryModel() {
        var live = LiveJobs()
        var model: [JobID: JobRecord] = [:]
        var seed: UInt64 = 42
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        for step in 0..<20_000 {
            let id = next(1_500)
            switch next(5) {
            case 0, 1:
                live[id] = Self.record(id, "s\(step)")
                model[id] = Self.record(id, "s\(step)")
            case 2:
                // In place through the subscript, as the controller changes reasons.
                live[id]?.job.name = "c\(step)"
                model[id]?.job.name = "c\(step)"
            case 3:
                #expect(live.removeValue(forKey: id)?.job.name == model.removeValue(forKey: id)?.job.name)
            default:
                live[id] = nil
                model[id] = nil
            }
            #expect(live[id]?.job.name == model[id]?.job.name)
        }
        #expect(live.count == model.count)
        #expect(Set(live.keys) == Set(model.keys))
        #expect(live.values.map(\.job.name).sorted() == model.values.map(\.job.name).sorted())
        #expect(live.values.allSatisfy { model[$0.id]?.job.name == $0.job.name })
        var inOrder: [(JobID, String)] = []
        live.forEachByID { inOrder.append(($0.pointee.id, $0.pointee.job.name)) }
        #expect(inOrder.map(\.0) == model.keys.sorted())
        #expect(inOrder.map(\.1) == model.keys.sorted().map { model[$0]!.job.name })
    }
}
