/// An amount that a `StepProfile` tracks over time: processors (`Int`) on a flat machine, a
/// node's free cores, memory and GPUs (`NodeCapacity`) in a cluster.
public protocol ProfileAmount: Equatable, Sendable {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    /// True when this much free capacity can hold `need`.
    func covers(_ need: Self) -> Bool
}

extension Int: ProfileAmount {
    @inline(__always) public func covers(_ need: Int) -> Bool { self >= need }
}

/// Free capacity as a step function of time from `now` onward: the planning view of backfilling.
/// Segment `i` covers `[times[i], times[i+1])`; the last one runs forever. Reservations subtract
/// an amount on a half-open interval, so a job may end exactly when another begins.
public struct StepProfile<Amount: ProfileAmount>: Sendable {
    public private(set) var times: [Int]
    public private(set) var amounts: [Amount]

    /// Starts at `now` with `free`; `releases` (time, amount), sorted by time and all after
    /// `now`, add capacity back as running jobs reach their expected ends.
    public init(now: Int, free: Amount, releases: some Sequence<(time: Int, amount: Amount)>) {
        times = [now]
        amounts = [free]
        for (time, amount) in releases {
            precondition(time >= times[times.count - 1], "releases must be sorted by time")
            if times[times.count - 1] == time {
                amounts[amounts.count - 1] = amounts[amounts.count - 1] + amount
            } else {
                times.append(time)
                amounts.append(amounts[amounts.count - 1] + amount)
            }
        }
    }

    public var now: Int { times[0] }
    /// Free capacity at `now`.
    public var availableNow: Amount { amounts[0] }
    /// Capacity after the last change: what is free once everything known has ended.
    public var eventually: Amount { amounts[amounts.count - 1] }

    /// The earliest start `s >= now` with `need` covered on all of `[s, s + duration)`, with the
    /// index of the segment that starts at `s`. Nil when there is none before `before` (a caller
    /// that already knows a better start elsewhere stops early), or none at all.
    public func earliestFit(_ need: Amount, duration: Int, before: Int = Int.max) -> (segment: Int, start: Int)? {
        guard eventually.covers(need) else { return nil }
        var i = 0
        let k = times.count
        while i < k && times[i] < before {
            let end = times[i] + duration
            var j = i
            var fits = true
            while j < k && times[j] < end {
                if !amounts[j].covers(need) { fits = false; break }
                j += 1
            }
            if fits { return (i, times[i]) }
            // No start before times[j+1] can span segment j; jump past it.
            i = j + 1
        }
        return nil
    }

    /// True when `need` is covered on all of `[start, start + duration)`.
    public func fits(_ need: Amount, from start: Int, duration: Int) -> Bool {
        var j = segmentIndex(at: start)
        let end = start + duration
        while j < times.count && times[j] < end {
            if !amounts[j].covers(need) { return false }
            j += 1
        }
        return true
    }

    /// The half-open intervals `[from, to)` of start times `s` at which `need` is covered on all
    /// of `[s, s + duration)`; the last one may be open-ended (`to == Int.max`).
    public func feasibleStarts(_ need: Amount, duration: Int) -> [(from: Int, to: Int)] {
        var result: [(from: Int, to: Int)] = []
        var i = 0
        let k = times.count
        while i < k {
            guard amounts[i].covers(need) else { i += 1; continue }
            var j = i + 1
            while j < k && amounts[j].covers(need) { j += 1 }
            let runEnd = j < k ? times[j] : Int.max
            if runEnd == Int.max {
                result.append((times[i], Int.max))
            } else if runEnd - times[i] >= duration {
                result.append((times[i], runEnd - duration + 1))
            }
            i = j
        }
        return result
    }

    /// Takes `amount` away on `[start, end)`, adding breakpoints as needed.
    public mutating func reserve(_ amount: Amount, from start: Int, to end: Int) {
        guard end > start else { return }
        let first = split(at: max(start, times[0]))
        let last = split(at: end)
        for s in first..<last { amounts[s] = amounts[s] - amount }
    }

    /// Index of the segment containing `time` (time >= now).
    private func segmentIndex(at time: Int) -> Int {
        var lo = 0
        var hi = times.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if times[mid] <= time { lo = mid } else { hi = mid }
        }
        return lo
    }

    /// Ensures a breakpoint at `time` and returns its index (times.count when time is past all).
    private mutating func split(at time: Int) -> Int {
        let i = segmentIndex(at: time)
        if times[i] == time { return i }
        times.insert(time, at: i + 1)
        amounts.insert(amounts[i], at: i + 1)
        return i + 1
    }
}
