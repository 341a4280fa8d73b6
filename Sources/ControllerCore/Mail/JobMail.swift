import ChessAPI
import SchedulerCore

/// What a job asked to be told: `--mail-type` and `--mail-user`, kept in its record, and the
/// once-only mails already sent (the time-limit warnings, an invalid dependency, an array's
/// first start), so that a restart does not send them again.
package struct MailRequest: Codable, Sendable, Equatable {
    package var types: UInt16
    package var recipient: String
    package var sent: UInt16 = 0

    package init(types: MailType, recipient: String) {
        self.types = types.rawValue
        self.recipient = recipient
    }

    package var mailTypes: MailType { MailType(rawValue: types) }
    package func wants(_ type: MailType) -> Bool { mailTypes.contains(type) }
    package func hasSent(_ type: MailType) -> Bool { MailType(rawValue: sent).contains(type) }
    package mutating func markSent(_ type: MailType) { sent |= type.rawValue }
}

/// One mail about one job event, composed as Slurm 22.05's slurmctld composes it
/// (`mail_job_info`): MailProg runs as `PROGRAM -s SUBJECT RECIPIENT` with the `SLURM_JOB_*`
/// variables site mail scripts read.
package struct JobMail: Sendable, Equatable {
    package var recipient: String
    package var subject: String
    package var environment: [String: String]
}

/// Builds mails from job records. Pure: the controller calls it under its lock and hands the
/// result to `JobMailer` after the transaction commits.
package enum JobMailComposer {
    /// The subject's summary of an array's tasks' exit codes (`ExitCode [0-3]`).
    package struct ExitRange: Sendable, Equatable {
        package var min: Int
        package var max: Int
        package init(min: Int, max: Int) {
            self.min = min
            self.max = max
        }
    }

    /// A mail about one job or array task. `now` is when a time-limit warning is sent.
    package static func compose(_ type: MailType, _ r: JobRecord, mail: MailRequest, cluster: String, now: Int) -> JobMail {
        let j = r.job
        var env = environment(r, type: type, cluster: cluster)
        var time = ""
        if type == .begin, let start = j.startTime {
            let queued = SlurmTime.duration(max(start - j.submitTime, 0))
            time = ", Queued time \(queued)"
            env["SLURM_JOB_QUEUED_TIME"] = queued
        } else if [.end, .fail, .requeue].contains(type), let start = j.startTime {
            let run = SlurmTime.duration(max((j.endTime ?? now) - start, 0))
            time = ", Run time \(run)"
            env["SLURM_JOB_RUN_TIME"] = run
        } else if [.timeLimit, .timeLimit90, .timeLimit80, .timeLimit50].contains(type), let start = j.startTime {
            let run = SlurmTime.duration(max(now - start, 0))
            time = ", Run time \(run)"
            env["SLURM_JOB_RUN_TIME"] = run
        }
        var term = ""
        if type == .end || type == .fail {
            let code = r.exitCode ?? 0
            term = ", \(j.state.rawValue), ExitCode \(code)"
            env["SLURM_JOB_EXIT_CODE_MAX"] = "\(code)"
        }
        let name = subjectSafe(j.name)
        let subject: String
        if let parent = j.arrayJobID, let task = j.arrayTaskIndex {
            subject = "Slurm Array Task Job_id=\(parent)_\(task) (\(j.id)) Name=\(name) \(type.subjectWord)\(time)\(term)"
        } else {
            subject = "Slurm Job_id=\(j.id) Name=\(name) \(type.subjectWord)\(time)\(term)"
        }
        return JobMail(recipient: mail.recipient, subject: subject, environment: env)
    }

    /// A mail about a whole array (tasks not mailed one by one: no ARRAY_TASKS): its first start
    /// (`Began`), or its end once every task has ended, with the tasks' exit codes.
    package static func composeArray(_ type: MailType, _ array: JobRecord, mail: MailRequest, exits: ExitRange?, cluster: String) -> JobMail {
        let j = array.job
        var env = environment(array, type: type, cluster: cluster)
        var term = ""
        if type == .end || type == .fail, let exits {
            let state = exits.min == 0 && exits.max > 0 ? "Mixed" : j.state.rawValue
            term = ", \(state), ExitCode [\(exits.min)-\(exits.max)]"
            env["SLURM_JOB_EXIT_CODE_MIN"] = "\(exits.min)"
            env["SLURM_JOB_EXIT_CODE_MAX"] = "\(exits.max)"
        } else if type == .end || type == .fail {
            term = ", \(j.state.rawValue)"
        }
        let subject = "Slurm Array Summary Job_id=\(j.id)_* (\(j.id)) Name=\(subjectSafe(j.name)) \(type.subjectWord)\(term)"
        return JobMail(recipient: mail.recipient, subject: subject, environment: env)
    }

    /// The variables Slurm gives MailProg (`job_common_env_vars` and the mail's own).
    package static func environment(_ r: JobRecord, type: MailType, cluster: String) -> [String: String] {
        let j = r.job
        var env: [String: String] = [
            "SLURM_JOB_ID": "\(j.id)", "SLURM_JOBID": "\(j.id)", "SLURM_JOB_NAME": j.name, "SLURM_JOB_USER": j.user,
            "SLURM_JOB_ACCOUNT": j.account, "SLURM_JOB_PARTITION": j.partition, "SLURM_CLUSTER_NAME": cluster,
            "SLURM_JOB_STATE": j.state.rawValue, "SLURM_JOB_MAIL_TYPE": type.subjectWord,
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        if let uid = r.uid { env["SLURM_JOB_UID"] = "\(uid)" }
        if let gid = r.gid { env["SLURM_JOB_GID"] = "\(gid)" }
        if let workdir = r.workdir { env["SLURM_JOB_WORK_DIR"] = workdir }
        if let a = j.allocation { env["SLURM_JOB_NODELIST"] = HostList.compress(a.nodeNames) }
        if let parent = j.arrayJobID, let task = j.arrayTaskIndex {
            env["SLURM_ARRAY_JOB_ID"] = "\(parent)"
            env["SLURM_ARRAY_TASK_ID"] = "\(task)"
        }
        if let code = r.exitCode { env["SLURM_JOB_EXIT_CODE"] = "\(code)" }
        return env
    }

    /// Which mails a job's end sends, as Slurm's `job_completion_logger`: FAIL for a failed,
    /// timed-out, node-failed, out-of-memory or preempted (and not requeued) job; END for one that
    /// completed or was cancelled; REQUEUE when it goes back to the queue.
    package static func endTypes(state: JobState, requeued: Bool, wanted mail: MailRequest) -> [MailType] {
        var out: [MailType] = []
        let failed: Set<JobState> = [.failed, .timeout, .nodeFail, .preempted, .bootFail, .deadline, .outOfMemory]
        if mail.wants(.fail), failed.contains(state), state != .preempted || !requeued { out.append(.fail) }
        if requeued, mail.wants(.requeue) { out.append(.requeue) }
        if mail.wants(.end), state == .completed || state == .cancelled { out.append(.end) }
        return out
    }

    /// The time-limit warnings due for a running job (each once): TIME_LIMIT_50, _80, _90 at
    /// that share of the limit, TIME_LIMIT at the limit.
    package static func timeLimitTypesDue(mail: MailRequest, start: Int, limit: Int, now: Int) -> [MailType] {
        let elapsed = now - start
        return [(MailType.timeLimit50, 50), (.timeLimit80, 80), (.timeLimit90, 90), (.timeLimit, 100)].compactMap { type, percent in
            guard mail.wants(type), !mail.hasSent(type) else { return nil }
            // Checked: limits are bounded (InputLimits.seconds), percent ≤ 100.
            return elapsed * 100 >= limit * percent ? type : nil
        }
    }

    /// A job name in a subject: control characters (a newline would start a mail header) become
    /// spaces.
    package static func subjectSafe(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }
}
