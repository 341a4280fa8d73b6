import ChessAPI
import SchedulerCore

/// `chessctl queue`'s tab-separated rows (`GET /v1/jobs?columns=…`), written straight from the
/// controller's records.
///
/// Why not through `JobInfo` and `QueueColumns.appendRow`, which render the same rows from
/// JSON: over ten thousand jobs, copying each record, building its `JobInfo` (every field,
/// whatever the columns) and releasing both took three quarters of chessd's answer. The
/// columns of chessctl's tables (`queue`, `queue --start`) are written here from the record in
/// place; any other column is rendered by `QueueColumns.cell` from a `JobInfo` built for that
/// row only. `QueueRowsTests` checks that every column comes out byte for byte as
/// `QueueColumns.appendRow` writes it.
enum QueueRows {
    static func append(_ columns: [QueueColumns.Column], _ r: JobRecord, unavailableNodes: String?, index: ClusterIndex,
                       now: Int, to out: inout [UInt8]) {
        var info: JobInfo?
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(0x09) }
            switch column {
            case .id: r.appendDisplayID(to: &out)
            case .partition: QueueColumns.appendCell(r.job.partition, to: &out)
            case .name: QueueColumns.appendCell(r.job.name, to: &out)
            case .user: QueueColumns.appendCell(r.job.user, to: &out)
            case .state: out.append(contentsOf: QueueColumns.shortState(r.job.state).utf8)
            case .statelong: out.append(contentsOf: r.job.state.rawValue.utf8)
            case .time: SlurmTime.appendDuration(r.job.startTime.map { (r.job.endTime ?? now) - $0 } ?? 0, to: &out)
            case .timeLimit: SlurmTime.appendDuration(r.job.request.timeLimit, to: &out)
            case .nodes: SlurmTime.appendDecimal(index.tres(of: r.job).nodes, to: &out)
            case .qos: QueueColumns.appendCell(r.job.qos, to: &out)
            case .account: QueueColumns.appendCell(r.job.account, to: &out)
            case .priority: if let p = r.priority { SlurmTime.appendDecimal(p, to: &out) }
            case .reasonNodelist:
                if let nodes = r.nodeList { QueueColumns.appendCell(nodes, to: &out); continue }
                out.append(UInt8(ascii: "("))
                if let reason = r.displayReason {
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
                if info == nil {
                    info = r.info(index)
                    info!.unavailableNodes = unavailableNodes
                }
                QueueColumns.appendCell(QueueColumns.cell(column, info!, now: now), to: &out)
            }
        }
        out.append(0x0A)
    }
}
