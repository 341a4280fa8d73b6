import ChessAPI
@testable import chessd
import ControllerCore
import Foundation
import Glibc
@testable import HTTPServer
import SchedulerCore
import Synchronization
import Testing

/// chessd writes `chessctl queue`'s rows straight from its records (`QueueRows`); chessctl's
/// `%`-formats and every other reader render them from the JSON `JobInfo` (`QueueColumns`).
/// Both must print the same table: every column, for jobs in every shape a queue holds.
@Suite("queue rows") struct QueueRowsTests {
    static let index = ClusterIndex(Cluster(
        nodes: (1...4).map { Node(name: "n\($0)", topology: .uniform(sockets: 2, coresPerSocket: 4, memoryMB: 16_000, gpus: 2)) },
        partitions: [Partition(name: "batch", nodes: ["n1", "n2", "n3", "n4"]), Partition(name: "gpu", nodes: ["n3", "n4"])]))

    /// Jobs as a queue holds them: pending (plain, held, with a reason and planned start, with
    /// nice and licenses), an array with tasks waiting, a started task, running with an
    /// allocation over several nodes, suspended, completing with the reason it is ending, and
    /// cells with tabs and line breaks in them.
    static func records(now: Int) -> [(JobRecord, String?)] {
        func job(_ id: JobID, _ configure: (inout JobRecord) -> Void = { _ in }) -> JobRecord {
            var r = JobRecord(job: Job(id: id, name: "job\(id)", user: "alice", account: "physics", partition: "batch", qos: "normal",
                                       request: JobRequest(nodes: 1, tasks: 4, timeLimit: 3_600), submitTime: now - 100))
            configure(&r)
            return r
        }
        func allocation(_ nodes: [String]) -> Allocation {
            Allocation(nodes: nodes.map { NodeAllocation(node: $0, cores: [0, 1], memoryMB: 1_000, numaDomains: [0], gpus: [0], exclusive: false) })
        }
        return [
            (job(1), nil),
            (job(2) { $0.job.hold = true }, nil),
            (job(3) { $0.job.reason = .priority; $0.plannedStart = now + 600; $0.priority = 4_200; $0.eligibleTime = now - 50 }, nil),
            (job(4) { $0.job.reason = .reqNodeNotAvail; $0.job.request.requiredNodes = ["n2"] }, "n2"),
            (job(5) { $0.job.reason = .resources; $0.job.nice = -10; $0.job.request.timeLimit = nil; $0.job.request.licenses = ["matlab": 2] }, nil),
            (job(6) { $0.job.array = ArrayTasks(pending: [3, 4, 5, 9], maxRunning: 2); $0.arrayExpression = "1-9" }, nil),
            (job(7) { $0.job.array = ArrayTasks(pending: [1]) }, nil),
            (job(8) {
                $0.job.arrayJobID = 6; $0.job.arrayTaskIndex = 1; $0.job.state = .running; $0.job.startTime = now - 30
                $0.job.allocation = allocation(["n1"])
            }, nil),
            (job(9) {
                $0.job.state = .running; $0.job.startTime = now - 90_000; $0.job.request.timeLimit = 172_800
                $0.job.allocation = allocation(["n1", "n2", "n4"]); $0.job.partition = "gpu"; $0.workdir = "/home/alice/run"
            }, nil),
            (job(10) { $0.job.state = .suspended; $0.job.startTime = now - 10; $0.job.allocation = allocation(["n3"]) }, nil),
            (job(11) {
                $0.job.state = .completing; $0.job.startTime = now - 20; $0.job.allocation = allocation(["n4"])
                $0.pendingEnd = JobRecord.PendingEnd(state: .cancelled, exitCode: 0, reason: "cancelled by bob", time: now - 1)
            }, nil),
            (job(12) { $0.job.name = "tab\there\nnewline"; $0.job.user = "ünïcode"; $0.job.reason = .dependency }, nil),
            (job(13) { $0.job.request = JobRequest(nodes: 3, tasks: 6, gpus: GPURequest(count: 1)); $0.job.qos = "high" }, nil),
        ]
    }

    /// The columns written from the record, and a listing with every column (through `JobInfo`).
    @Test(arguments: [QueueColumns.Column.allCases.filter(QueueRows.written.contains), QueueColumns.Column.allCases])
    func everyColumnAsTheJSONRenderingWritesIt(_ columns: [QueueColumns.Column]) {
        let now = 1_790_000_000
        let rows = QueueRows(columns)
        for (record, unavailable) in Self.records(now: now) {
            var direct: [UInt8] = []
            withUnsafePointer(to: record) { rows.append($0, unavailableNodes: unavailable, index: Self.index, now: now, to: &direct) }
            var info = record.info(Self.index)
            info.unavailableNodes = unavailable
            var viaInfo: [UInt8] = []
            QueueColumns.appendRow(columns, info, now: now, to: &viaInfo)
            #expect(String(decoding: direct, as: UTF8.self) == String(decoding: viaInfo, as: UTF8.self), "job \(record.id)")
        }
    }

    /// The cells that are not a plain copy of a field, spelled out (both renderings could be wrong
    /// the same way).
    @Test func cellsAsSqueuePrintsThem() {
        let now = 1_790_000_000
        let rows = Dictionary(uniqueKeysWithValues: Self.records(now: now).map { r, unavailable in
            var out: [UInt8] = []
            let rows = QueueRows([.id, .state, .time, .timeLimit, .nodes, .reasonNodelist])
            withUnsafePointer(to: r) { rows.append($0, unavailableNodes: unavailable, index: Self.index, now: now, to: &out) }
            return (r.id, String(decoding: out, as: UTF8.self))
        })
        #expect(rows[2] == "2\tPD\t0:00\t1:00:00\t1\t(JobHeldUser)\n")
        #expect(rows[4] == "4\tPD\t0:00\t1:00:00\t1\t(ReqNodeNotAvail, UnavailableNodes:n2)\n")
        #expect(rows[5] == "5\tPD\t0:00\tUNLIMITED\t1\t(Resources)\n")
        #expect(rows[6] == "6_[3-5,9%2]\tPD\t0:00\t1:00:00\t1\t(None)\n")
        #expect(rows[8] == "6_1\tR\t0:30\t1:00:00\t1\tn1\n")
        #expect(rows[9] == "9\tR\t1-01:00:00\t2-00:00:00\t3\tn[1-2,4]\n")
        #expect(rows[11] == "11\tCG\t0:20\t1:00:00\t1\tn4\n")
        #expect(rows[12] == "12\tPD\t0:00\t1:00:00\t1\t(Dependency)\n")
        #expect(rows[13] == "13\tPD\t0:00\tUNLIMITED\t3\t(None)\n")
    }

    /// A listing long enough to be rendered in parts on several cores comes out whole and in
    /// order: as the JSON listing renders it, row by row.
    @Test func aLongListingRenderedInPartsIsTheWholeQueueInOrder() throws {
        let h = try ControllerHarness()
        h.register("host1", ["n1", "n2"])
        h.register("host2", ["n3"])
        let ids = try h.submitMany(2_500) { i, s in
            s.name = "job\(i)"
            s.hold = i % 7 == 0
            s.timeLimit = 60 * (1 + i % 50)
        }
        h.pass()  // 24 start (3 nodes of 8 cores), the others wait with their reasons
        h.advance(30)
        let columns = QueueColumns.Column.allCases.filter(QueueRows.written.contains)
        let rows = QueueRows(columns)
        let now = h.clock.now()
        let parallel = h.controller.renderQueued(.init()) { r, unavailable, index, out in
            rows.append(r, unavailableNodes: unavailable, index: index, now: now, to: &out)
        }
        var serial: [UInt8] = []
        h.controller.forEachQueued(.init()) { QueueColumns.appendRow(columns, $0, now: now, to: &serial) }
        let lines = parallel.split(separator: 0x0A)
        #expect(lines.count == ids.count)
        #expect(lines.filter { String(decoding: $0, as: UTF8.self).contains("\tR\t") }.count == 24)
        #expect(String(decoding: parallel, as: UTF8.self) == String(decoding: serial, as: UTF8.self))
        // Each part selects its own records: with a filter the parts are uneven, still in order.
        let waiting = Controller.QueueFilter(states: [.pending], ids: Set(ids.filter { $0 % 3 != 0 || $0 < 100 }))
        let filtered = h.controller.renderQueued(waiting) { r, unavailable, index, out in
            rows.append(r, unavailableNodes: unavailable, index: index, now: now, to: &out)
        }
        var filteredSerial: [UInt8] = []
        h.controller.forEachQueued(waiting) { QueueColumns.appendRow(columns, $0, now: now, to: &filteredSerial) }
        #expect(filtered.split(separator: 0x0A).count > 1_000)
        #expect(String(decoding: filtered, as: UTF8.self) == String(decoding: filteredSerial, as: UTF8.self))
    }

    /// A listing names its columns in the query; twenty thousand of them (a 64 KB query) over a
    /// long queue would be gigabytes from one request: refused.
    @Test func aListingOfThousandsOfColumnsIsRefused() throws {
        let h = try ControllerHarness()
        _ = try h.submitMany(10)
        let router = Router(controller: h.controller, version: "test", agents: AgentAuthenticator(keyFile: nil))
        func get(_ target: String) throws -> HTTPResponse {
            var parser = HTTPRequestParser()
            Array("GET \(target) HTTP/1.1\r\nHost: t\r\n\r\n".utf8).withUnsafeBytes { parser.append($0) }
            let request = try #require(try parser.next())
            let answer = Mutex<HTTPResponse?>(nil)
            router.handle(request, peer: .local(uid: getuid(), gid: getgid(), pid: 1)) { r in answer.withLock { $0 = r } }
            return try #require(answer.withLock { $0 })
        }
        let many = try get("/v1/jobs?columns=" + Array(repeating: "id", count: 20_000).joined(separator: ","))
        #expect(many.status == 400)
        #expect(String(decoding: many.body, as: UTF8.self).contains("20000 columns; at most 64"))
        let fine = try get("/v1/jobs?columns=" + Array(repeating: "id", count: 64).joined(separator: ","))
        #expect(fine.status == 200)
        #expect(String(decoding: fine.body, as: UTF8.self).split(separator: "\n").count == 10)
    }
}
