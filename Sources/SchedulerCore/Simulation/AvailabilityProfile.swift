/// A step function of free processors over time, from a pass's time onward: the planning view of
/// conservative backfilling. Segment `i` covers `[times[i], times[i+1])`; the last one runs forever.
struct AvailabilityProfile {
    private(set) var times: [Int]
    private(set) var avail: [Int]

    /// Starts at `now` with `free` processors; `releases` (time, procs), sorted by time and all
    /// after `now`, add processors back as running jobs reach their requested ends.
    init(now: Int, free: Int, releases: some Sequence<(time: Int, procs: Int)>) {
        times = [now]
        avail = [free]
        for (time, procs) in releases {
            if times[times.count - 1] == time {
                avail[avail.count - 1] += procs
            } else {
                times.append(time)
                avail.append(avail[avail.count - 1] + procs)
            }
        }
    }

    var now: Int { times[0] }
    /// Free processors at `now`.
    var availableNow: Int { avail[0] }

    /// The earliest start `s >= now` with at least `procs` free on all of `[s, s + duration)`.
    /// Returns the index of the segment that starts at `s`, plus `s`.
    func earliestFit(procs: Int, duration: Int) -> (segment: Int, start: Int) {
        var i = 0
        let k = times.count
        while true {
            let start = times[i]
            let end = start + duration
            var j = i
            var fits = true
            while j < k && times[j] < end {
                if avail[j] < procs { fits = false; break }
                j += 1
            }
            if fits { return (i, start) }
            // No start inside [times[i], times[j+1]) can cover segment j; jump past it.
            i = j + 1
        }
    }

    /// Takes `procs` away on `[times[segment], end)`.
    mutating func reserve(segment: Int, end: Int, procs: Int) {
        var j = segment
        while j < times.count && times[j] < end { j += 1 }
        if j == times.count || times[j] != end {
            times.insert(end, at: j)
            avail.insert(avail[j - 1], at: j)
        }
        for s in segment..<j { avail[s] -= procs }
    }
}
