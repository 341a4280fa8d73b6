import SchedulerCore

/// `1234` or `1234_7`.
package struct JobReference: Sendable, Hashable, CustomStringConvertible {
    package var id: JobID
    package var task: Int?

    package init(id: JobID, task: Int?) {
        self.id = id
        self.task = task
    }

    package init?(_ text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let id = Int(parts[0]), id > 0 else { return nil }
        self.id = id
        if parts.count == 2 {
            guard let t = Int(parts[1]), t >= 0 else { return nil }
            task = t
        }
    }

    package var description: String { task.map { "\(id)_\($0)" } ?? "\(id)" }
}
