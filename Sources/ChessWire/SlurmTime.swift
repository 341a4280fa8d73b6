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
