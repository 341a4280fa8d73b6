import ChessAPI
import Foundation
import Glibc

/// What running jobs use now (sstat's figures), from /proc: each job is a process group of its
/// own (the supervisor makes it one), so one pass over /proc sums every job's processes — CPU
/// time (their own and that of children they have reaped) and resident memory — whether or not
/// the machine has cgroups.
enum JobUsageSampler {
    /// `groups`: each running job's process group, with its job id and run.
    static func sample(groups: [Int32: (job: Int, run: Int)], now: Int) -> [JobLiveUsage] {
        guard !groups.isEmpty, let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        let ticks = max(Int(sysconf(Int32(_SC_CLK_TCK))), 1)
        let pageKB = max(Int(sysconf(Int32(_SC_PAGESIZE))) / 1024, 1)
        var sums: [Int32: (ticks: Int, rssKB: Int, processes: Int)] = [:]
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let (group, used, rssPages) = parse(stat), groups[group] != nil else { continue }
            var s = sums[group] ?? (0, 0, 0)
            s.ticks += used
            s.rssKB += rssPages * pageKB
            s.processes += 1
            sums[group] = s
        }
        // A job's groups (its batch script's, its steps') add up.
        var byJob: [Int: (run: Int, ticks: Int, rssKB: Int, processes: Int)] = [:]
        for (group, s) in sums {
            guard let (job, run) = groups[group] else { continue }
            let t = byJob[job] ?? (run, 0, 0, 0)
            byJob[job] = (run, t.ticks + s.ticks, t.rssKB + s.rssKB, t.processes + s.processes)
        }
        return byJob.map { job, s in
            JobLiveUsage(job: job, run: s.run, cpuSeconds: s.ticks / ticks, memoryMB: s.rssKB / 1024, processes: s.processes, time: now)
        }.sorted { $0.job < $1.job }
    }

    /// From a `/proc/PID/stat` line: the process group, utime + stime + cutime + cstime in
    /// clock ticks, and the resident set in pages. The command (field 2) may hold spaces and
    /// parentheses: fields are counted after its last `)`.
    static func parse(_ stat: String) -> (group: Int32, ticks: Int, rssPages: Int)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let f = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After the command: state(3) ppid(4) pgrp(5) … utime(14) stime(15) cutime(16) cstime(17) … rss(24).
        guard f.count > 21, let group = Int32(f[2]), let u = Int(f[11]), let s = Int(f[12]), let cu = Int(f[13]), let cs = Int(f[14]),
              let rss = Int(f[21]) else { return nil }
        return (group, u + s + cu + cs, max(rss, 0))
    }
}
