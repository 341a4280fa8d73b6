import ChessAPI
import ControllerCore
import SchedulerCore

/// `chessctl queue`'s tab-separated rows (`GET /v1/jobs?columns=…`), written straight from the
/// controller's records.
///
/// Why not through `JobInfo` and `QueueColumns.appendRow`, which render the same rows from
/// JSON: over ten thousand jobs, copying each record, building its `JobInfo` (every field,
/// whatever the columns) and releasing both took three quarters of chessd's answer. The
/// columns of chessctl's tables (`queue`, `queue --start`) are written here from the record in
/// place; a listing that asks for any other column is rendered through `JobInfo`, row by row. `QueueRowsTests` checks that every column comes out byte for byte as
/// `QueueColumns.appendRow` writes it.
struct QueueRows {
    /// The most columns one listing may ask for (squeue's formats use a dozen at most).
    static let maxColumns = 64

    let columns: [QueueColumns.Column]
    /// Whether every column is one written here; if not, whole rows go through `JobInfo`.
    private let direct: Bool

    init(_ columns: [QueueColumns.Column]) {
        self.columns = columns
        direct = columns.allSatisfy(Self.written.contains)
    }

    /// The columns written from the record: chessctl's default, `--start` and `-o` favourites.
    static let written: Set<QueueColumns.Column> = [
        .id, .partition, .name, .user, .state, .statelong, .time, .timeLimit, .nodes, .qos, .account, .priority, .reasonNodelist,
        .start,
    ]

    /// Appends the row of the record `r` points to. Every cell reads the fields it needs where
    /// they lie (`r.pointee.job.name`): handing the record itself to a function copies it whole.
    func append(_ r: UnsafePointer<JobRecord>, unavailableNodes: String?, index: ClusterIndex, now: Int, to out: inout [UInt8]) {
        guard direct else {
            var info = r.pointee.info(index)
            info.unavailableNodes = unavailableNodes
            return QueueColumns.appendRow(columns, info, now: now, to: &out)
        }
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(0x09) }
            switch column {
            case .id:
                JobRecord.appendDisplayID(id: r.pointee.job.id, arrayJobID: r.pointee.job.arrayJobID,
                                          arrayTaskIndex: r.pointee.job.arrayTaskIndex, array: r.pointee.job.array, to: &out)
            case .partition: QueueColumns.appendCell(r.pointee.job.partition, to: &out)
            case .name: QueueColumns.appendCell(r.pointee.job.name, to: &out)
            case .user: QueueColumns.appendCell(r.pointee.job.user, to: &out)
            case .state: out.append(contentsOf: QueueColumns.shortState(r.pointee.job.state).utf8)
            case .statelong: out.append(contentsOf: r.pointee.job.state.rawValue.utf8)
            case .time:
                // The fields, not `r.pointee.runSeconds(at:)`: a method of the record from another
                // module is handed a copy of the whole record (measured: a sixth of a listing).
                SlurmTime.appendSqueueDuration(JobInfo.runSeconds(start: r.pointee.job.startTime, end: r.pointee.job.endTime,
                                                            suspendedSeconds: r.pointee.suspension?.seconds,
                                                            suspendedSince: r.pointee.suspension?.since, now: now), to: &out)
            case .timeLimit: SlurmTime.appendSqueueDuration(r.pointee.job.request.timeLimit, to: &out)
            case .nodes:
                let nodes = r.pointee.job.allocation?.nodes.count
                    ?? index.tres(partition: r.pointee.job.partition, request: r.pointee.job.request).nodes
                SlurmTime.appendDecimal(nodes, to: &out)
            case .qos: QueueColumns.appendCell(r.pointee.job.qos, to: &out)
            case .account: QueueColumns.appendCell(r.pointee.job.account, to: &out)
            case .priority: if let p = r.pointee.priority { SlurmTime.appendDecimal(p, to: &out) }
            case .start:
                // When it started, or when the scheduler plans to start it (squeue --start).
                if let t = r.pointee.job.startTime ?? (r.pointee.job.state.isWaiting ? r.pointee.plannedStart : nil) {
                    out.append(contentsOf: SlurmTime.timestamp(t).utf8)
                } else {
                    out.append(contentsOf: "N/A".utf8)
                }
            case .reasonNodelist:
                if let nodes = JobRecord.nodeList(r.pointee.job.allocation) { QueueColumns.appendCell(nodes, to: &out); continue }
                out.append(UInt8(ascii: "("))
                let reason = JobRecord.displayReason(state: r.pointee.job.state, hold: r.pointee.job.hold, reason: r.pointee.job.reason,
                                                     endReason: r.pointee.endReason, pendingEnd: r.pointee.pendingEnd)
                if let reason {
                    QueueColumns.appendCell(reason, to: &out)
                    if let unavailableNodes {
                        out.append(contentsOf: ", UnavailableNodes:".utf8)
                        QueueColumns.appendCell(unavailableNodes, to: &out)
                    }
                } else {
                    out.append(contentsOf: "None".utf8)
                }
                out.append(UInt8(ascii: ")"))
            default:
                preconditionFailure("column \(column) is not in QueueRows.written")
            }
        }
        out.append(0x0A)
    }
}
