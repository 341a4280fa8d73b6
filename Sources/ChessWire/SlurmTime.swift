import Glibc

/// Times as Slurm prints them.
public enum SlurmTime {
    /// `[D-]HH:MM:SS`; nil is `UNLIMITED`.
    public static func duration(_ seconds: Int?) -> String {
        var out: [UInt8] = []
        appendDuration(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `duration`, written into a byte buffer.
    public static func appendDuration(_ seconds: Int?, to out: inout [UInt8]) {
        appendDuration(seconds, squeueForm: false, to: &out)
    }

    /// squeue's form of a duration (its TIME, TIME_LIMIT and TIME_LEFT): hours and days only
    /// as needed — `0:00`, `30:00`, `1:30:00`, `2-00:00:00` — where `show job` and sacct print
    /// `00:30:00` (`duration`); nil is `UNLIMITED`. Scripts read squeue's columns: same text.
    public static func squeueDuration(_ seconds: Int?) -> String {
        var out: [UInt8] = []
        appendSqueueDuration(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `squeueDuration`, written into a byte buffer.
    public static func appendSqueueDuration(_ seconds: Int?, to out: inout [UInt8]) {
        appendDuration(seconds, squeueForm: true, to: &out)
    }

    private static func appendDuration(_ seconds: Int?, squeueForm: Bool, to out: inout [UInt8]) {
        guard let seconds else { return out.append(contentsOf: "UNLIMITED".utf8) }
        let s = max(seconds, 0)
        let d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60
        func two(_ x: Int) {
            out.append(UInt8(ascii: "0") + UInt8(x / 10 % 10))
            out.append(UInt8(ascii: "0") + UInt8(x % 10))
        }
        if d > 0 {
            appendDecimal(d, to: &out)
            out.append(UInt8(ascii: "-"))
            two(h)
            out.append(UInt8(ascii: ":"))
            two(m)
        } else if !squeueForm {
            two(h)
            out.append(UInt8(ascii: ":"))
            two(m)
        } else if h > 0 {
            appendDecimal(h, to: &out)
            out.append(UInt8(ascii: ":"))
            two(m)
        } else {
            appendDecimal(m, to: &out)
        }
        out.append(UInt8(ascii: ":"))
        two(sec)
    }

    /// A whole number's decimal digits (and sign), written into a byte buffer.
    public static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var m = n.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[19 - count] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                count += 1
            } while m > 0
            out.append(contentsOf: buf[(20 - count)...])
        }
    }

    /// Local time as `sacct` prints it (`2026-11-25T20:13:12`), through libc: a DateFormatter
    /// per call costs more than the request.
    public static func timestamp(_ t: Int?) -> String {
        guard let t else { return "Unknown" }
        return format(t, utc: false)
    }

    /// sbatch's `--begin` dates, in local time: `YYYY-MM-DD[THH:MM[:SS]]`, or `HH:MM[:SS]` for
    /// today at that time, tomorrow once it has passed (as Slurm does). nil for any other text
    /// and for a date that does not exist (February 30th). Through libc's `mktime`, which knows
    /// the zone's daylight saving: `sbatch` links no Foundation.
    public static func localTime(_ text: String, now: Int) -> Int? {
        let halves = text.utf8.split(separator: UInt8(ascii: "T"), omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        /// Whole numbers between `separator`s, each of `digits` digits.
        func fields(_ bytes: Substring.UTF8View.SubSequence, _ separator: UInt8, _ digits: [ClosedRange<Int>]) -> [Int32]? {
            let words = bytes.split(separator: separator, omittingEmptySubsequences: false)
            guard words.count == digits.count else { return nil }
            var out: [Int32] = []
            for (word, allowed) in zip(words, digits) {
                guard allowed.contains(word.count), word.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
                out.append(word.reduce(0) { $0 * 10 + Int32($1 - UInt8(ascii: "0")) })
            }
            return out
        }
        func clock(_ bytes: Substring.UTF8View.SubSequence) -> [Int32]? {
            guard let hms = fields(bytes, UInt8(ascii: ":"), [1...2, 1...2, 1...2]) ?? fields(bytes, UInt8(ascii: ":"), [1...2, 1...2]).map({ $0 + [0] }),
                  hms[0] < 24, hms[1] < 60, hms[2] < 60 else { return nil }
            return hms
        }
        var parts = tm()
        let hms: [Int32]
        if halves[0].contains(UInt8(ascii: "-")) {
            guard let ymd = fields(halves[0], UInt8(ascii: "-"), [4...4, 1...2, 1...2]), (1...12).contains(ymd[1]), ymd[2] >= 1 else { return nil }
            if halves.count == 2 {
                guard let c = clock(halves[1]) else { return nil }
                hms = c
            } else {
                hms = [0, 0, 0]
            }
            parts.tm_year = ymd[0] - 1900
            parts.tm_mon = ymd[1] - 1
            parts.tm_mday = ymd[2]
        } else {
            guard halves.count == 1, let c = clock(halves[0]) else { return nil }
            hms = c
            var t = time_t(now)
            localtime_r(&t, &parts)
        }
        parts.tm_hour = hms[0]
        parts.tm_min = hms[1]
        parts.tm_sec = hms[2]
        parts.tm_isdst = -1
        let (year, month, day) = (parts.tm_year, parts.tm_mon, parts.tm_mday)
        var copy = parts
        let t = Int(mktime(&copy))
        // mktime moves a day past the month's end into the next month: such a date does not exist.
        guard copy.tm_year == year, copy.tm_mon == month, copy.tm_mday == day else { return nil }
        guard !halves[0].contains(UInt8(ascii: "-")), t < now else { return t }
        parts.tm_mday += 1
        parts.tm_isdst = -1
        return Int(mktime(&parts))
    }

    /// UTC in ISO 8601 (`2026-11-25T20:13:12Z`), as `ISO8601DateFormatter` writes it, for logs:
    /// creating that formatter (ICU) cost a job's supervisor a tenth of its CPU per log line.
    public static func utcTimestamp(_ t: Int) -> String { format(t, utc: true) + "Z" }

    private static func format(_ t: Int, utc: Bool) -> String {
        var time = time_t(t)
        var parts = tm()
        if utc { gmtime_r(&time, &parts) } else { localtime_r(&time, &parts) }
        func two(_ x: Int32) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
