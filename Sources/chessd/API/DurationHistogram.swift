import Foundation

/// A Prometheus histogram of durations (seconds), safe to record from any thread.
final class DurationHistogram: @unchecked Sendable {
    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let lock = NSLock()
    private var counts = [Int](repeating: 0, count: DurationHistogram.bounds.count)
    private var total = 0
    private var sum = 0.0
    private var last = 0.0
    private var lastAt: Int?
    private var longest = 0.0

    func record(_ seconds: Double) {
        lock.lock()
        for (i, b) in DurationHistogram.bounds.enumerated() where seconds <= b { counts[i] += 1 }
        total += 1
        sum += seconds
        last = seconds
        lastAt = SystemClock().now()
        longest = max(longest, seconds)
        lock.unlock()
    }

    /// How many, the last (and when it was recorded), the mean and the longest, in seconds:
    /// sdiag's cycle figures.
    var summary: (count: Int, last: Double, lastAt: Int?, mean: Double, max: Double) {
        lock.lock()
        defer { lock.unlock() }
        return (total, last, lastAt, total == 0 ? 0 : sum / Double(total), longest)
    }

    /// The `_bucket`, `_sum` and `_count` lines, with `labels` (`policy="easy"`) on each.
    func render(name: String, labels: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        let sep = labels.isEmpty ? "" : ","
        for (i, b) in DurationHistogram.bounds.enumerated() {
            out += "\(name)_bucket{\(labels)\(sep)le=\"\(b)\"} \(counts[i])\n"
        }
        out += "\(name)_bucket{\(labels)\(sep)le=\"+Inf\"} \(total)\n"
        out += "\(name)_sum{\(labels)} \(sum)\n\(name)_count{\(labels)} \(total)\n"
        return out
    }
}
