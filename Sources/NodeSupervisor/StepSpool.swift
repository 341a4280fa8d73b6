import ChessWire
import FoundationEssentials
import Glibc

extension StepPlan {
    /// A task's environment: srun's, then the step's variables and the task's own (Slurm's
    /// `SLURM_STEP_*`, `SLURM_PROCID`, `SLURM_LOCALID`, `SLURM_NODEID`, … and `CHESS_*`), the
    /// node's GPUs and CPUs.
    public func environment(node index: Int, localID: Int) -> [String: String] {
        let node = nodes[index]
        var env = environment
        let counts = nodes.map(\.tasks)
        let perTask = JobEnvironment.compressedCounts(counts)
        let both: [(String, String)] = [
            ("STEP_ID", "\(step)"), ("STEP_NUM_TASKS", "\(tasks)"), ("STEP_NUM_NODES", "\(nodes.count)"),
            ("STEP_NODELIST", nodeList), ("STEP_TASKS_PER_NODE", perTask), ("NTASKS", "\(tasks)"), ("NPROCS", "\(tasks)"),
            ("NNODES", "\(nodes.count)"), ("TASKS_PER_NODE", perTask), ("PROCID", "\(node.firstTask + localID)"),
            ("LOCALID", "\(localID)"), ("NODEID", "\(index)"), ("CPUS_ON_NODE", "\(node.cpuCount)"),
            ("GPUS_ON_NODE", "\(node.gpus.count)"),
            ("GTIDS", (node.firstTask..<(node.firstTask + node.tasks)).map(String.init).joined(separator: ",")),
        ]
        for (k, v) in both {
            env["SLURM_\(k)"] = v
            env["CHESS_\(k)"] = v
        }
        env["SLURM_STEPID"] = "\(step)"
        env["SLURM_JOB_ID"] = "\(job)"
        env["SLURM_JOBID"] = "\(job)"
        env["CHESS_JOB_ID"] = "\(job)"
        if let cpt = cpusPerTask {
            env["SLURM_CPUS_PER_TASK"] = "\(cpt)"
            env["CHESS_CPUS_PER_TASK"] = "\(cpt)"
        }
        if node.memoryMB > 0 {
            env["SLURM_MEM_PER_NODE"] = "\(node.memoryMB)"
            env["CHESS_MEM_PER_NODE"] = "\(node.memoryMB)"
        }
        env["SLURMD_NODENAME"] = node.name
        env["CHESS_NODENAME"] = node.name
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        env["CUDA_VISIBLE_DEVICES"] = node.gpus.map(String.init).joined(separator: ",")
        env["CHESS_JOB_GPUS"] = env["CUDA_VISIBLE_DEVICES"]
        env["CHESS_JOB_CPUS"] = node.cpus.map(String.init).joined(separator: ",")
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        return env
    }
}

extension JobSpool {
    /// `steps/<n>`: a step's folder in its job's run folder.
    public func stepDirectory(_ step: Int) -> String { path("steps/\(step)") }

    /// Creates the next step's folder and returns its number (0 for the first, as Slurm
    /// numbers them); concurrent callers each get their own.
    public func createStep() throws -> Int {
        let steps = path("steps")
        if mkdir(steps, 0o700) != 0 && errno != EEXIST {
            throw SpoolError(description: "\(steps): \(String(cString: strerror(errno)))")
        }
        let taken = ((try? FileManager.default.contentsOfDirectory(atPath: steps)) ?? []).compactMap(Int.init)
        var step = (taken.max() ?? -1) + 1
        while mkdir(stepDirectory(step), 0o700) != 0 {
            guard errno == EEXIST else { throw SpoolError(description: "\(stepDirectory(step)): \(String(cString: strerror(errno)))") }
            step += 1
        }
        return step
    }

    /// The job's step folders, by step number.
    public var steps: [(step: Int, folder: JobSpool)] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path("steps"))) ?? []).compactMap(Int.init).sorted()
            .map { ($0, JobSpool(directory: stepDirectory($0))) }
    }

    /// Steps without a result whose supervisor lives (one that died is over), with its pid.
    public var runningSteps: [(step: Int, folder: JobSpool, supervisor: pid_t)] {
        steps.compactMap { s in
            guard !s.folder.exists("result.json"), s.folder.supervisorAlive, let pid = s.folder.pid("supervisor.pid") else { return nil }
            return (s.step, s.folder, pid)
        }
    }

    /// The process groups of the job's steps whose tasks still run: a signal for the job goes
    /// to them too (they are not in the batch script's group).
    public var runningStepGroups: [Int32] {
        // Only while the step's supervisor lives (`supervisorAlive`): it reaps its tasks, so
        // their group number cannot have been given to another group in the meantime.
        steps.compactMap { s in s.folder.exists("result.json") || !s.folder.supervisorAlive ? nil : s.folder.pid("tasks.pgid") }
    }

    /// The job's steps as accounting keeps them, once they have ended: those still running
    /// (killed with the job a moment ago) get up to `wait` seconds to write their end, and are
    /// CANCELLED at `now` if they have not.
    public func stepRecords(wait: Double = 2) -> [StepRecord] {
        let steps = self.steps.map(\.folder)
        guard !steps.isEmpty else { return [] }
        func read(_ s: JobSpool) -> StepRecord? {
            s.read("record.json").flatMap { try? JSONDecoder().decode(StepRecord.self, from: $0) }
        }
        let deadline = Date().addingTimeInterval(wait)
        while Date() < deadline, steps.contains(where: { read($0)?.state == "RUNNING" }) { usleep(50_000) }
        return steps.compactMap { s in
            guard var r = read(s) else { return nil }
            if r.state == "RUNNING" {
                r.state = "CANCELLED"
                r.endTime = Int(time(nil))
            }
            return r
        }
    }

    /// Sends `sig` to the batch script's group (`batch`) and to every running step's.
    public func signalJob(_ sig: Int32, batch: Bool = true) {
        if batch, let pgid = jobGroup { kill(-pgid, sig) }
        for g in runningStepGroups { kill(-g, sig) }
    }
}
