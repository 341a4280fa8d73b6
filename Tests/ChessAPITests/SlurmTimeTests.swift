import ChessAPI
import Foundation
import Testing

/// Slurm's time forms, as `queue`, `show job` and `acct` print them.
@Suite("SlurmTime") struct SlurmTimeTests {
    @Test func durations() {
        #expect(SlurmTime.duration(nil) == "UNLIMITED")
        #expect(SlurmTime.duration(0) == "00:00:00")
        #expect(SlurmTime.duration(-5) == "00:00:00")
        #expect(SlurmTime.duration(59) == "00:00:59")
        #expect(SlurmTime.duration(3661) == "01:01:01")
        #expect(SlurmTime.duration(86399) == "23:59:59")
        #expect(SlurmTime.duration(86400 + 3661) == "1-01:01:01")
        #expect(SlurmTime.duration(400 * 86400) == "400-00:00:00")
    }

    /// squeue's columns (TIME, TIME_LIMIT, TIME_LEFT) as Slurm 22.05's squeue printed them on
    /// this kind of machine for a held job (-t 30) and running ones (-t 90, -t 2-0) four
    /// seconds in: `0:00 30:00 30:00`, `0:04 1:30:00 1:29:56`, `0:04 2-00:00:00 1-23:59:56`.
    @Test func squeueDurations() {
        let slurm: [(Int?, String)] = [
            (0, "0:00"), (4, "0:04"), (30 * 60, "30:00"), (90 * 60, "1:30:00"), (90 * 60 - 4, "1:29:56"),
            (2 * 86400, "2-00:00:00"), (2 * 86400 - 4, "1-23:59:56"), (nil, "UNLIMITED"),
            (59, "0:59"), (3599, "59:59"), (3600, "1:00:00"), (86399, "23:59:59"), (-5, "0:00"), (400 * 86400 + 61, "400-00:01:01"),
        ]
        for (seconds, printed) in slurm { #expect(SlurmTime.squeueDuration(seconds) == printed, "\(String(describing: seconds))") }
    }

    @Test func decimals() {
        for n in [0, 7, 10, 64, -1, -1234, Int.max, Int.min] {
            var out: [UInt8] = [UInt8(ascii: "x")]
            SlurmTime.appendDecimal(n, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "x\(n)")
        }
    }

    /// The supervisor's log stamps, written with libc, read as ISO8601DateFormatter writes them.
    @Test func utcTimestamps() {
        let iso = ISO8601DateFormatter()
        for t in [0, 951_782_400, 1_795_654_228, 4_102_444_799] {
            #expect(SlurmTime.utcTimestamp(t) == iso.string(from: Date(timeIntervalSince1970: Double(t))), "\(t)")
        }
    }
}
