import ChessAPI
import Foundation
import Glibc
import Spawning
import Testing

/// The whole cluster on loopback: chessd, a real chess-nodeagent presenting this host and an
/// emulated 32-core node, real jobs run by real supervisors, driven by chessctl.
@Suite("End to end: chessd, chess-nodeagent and real jobs", .serialized)
struct EndToEndTests {
    static let synthetic = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NodeAgentTests/Fixtures/synthetic-2pack-4numa-32core.xml").path

    /// This host's cores and memory, as the agent will report them.
    static func hostShape() throws -> (cores: Int, memoryMB: Int) {
        let probe = try runBinary("chess-nodeagent", ["--probe", "--name", "host"])
        let reports = try JSONDecoder().decode([AgentNodeReport].self, from: Data(probe.stdout.utf8))
        let t = try #require(reports.first?.topology)
        return (t.numa.reduce(0) { $0 + $1.cores.count }, t.numa.reduce(0) { $0 + $1.memoryMB })
    }

    final class Running: @unchecked Sendable {
        let cluster: TestCluster
        let clusterName = "e2e-\(UInt32.random(in: 0...UInt32.max))"
        var agent: ChildProcess?
        let spool: String
        let metricsPort = TestCluster.freePort()
        /// Added to the agent's command line (`--tls-ca FILE`).
        let agentArguments: [String]
        /// Set in the agent's environment (`PATH` with a stand-in `nvidia-smi`).
        let agentEnvironment: [String: String]

        /// `partitionExtra` goes into the batch partition's table, `extra` after it (tables of
        /// its own); `files` are written into the cluster's folder, readable by the owner only.
        init(partitionExtra: String = "", extra: String = "", top: String = "", files: [String: String] = [:],
             agentArguments: [String] = [], agentEnvironment: [String: String] = [:], hostExtra: String = "") throws {
            self.agentArguments = agentArguments
            self.agentEnvironment = agentEnvironment
            let (cores, memory) = try EndToEndTests.hostShape()
            // A name of its own: clusters of tests running side by side share this host.
            cluster = try TestCluster(config: """
                \(top)
                cluster_name = "\(clusterName)"
                state_dir = "state"
                socket = "chessd.sock"
                [scheduler]
                interval = 1
                [[nodes]]
                names = "host"
                cores_per_socket = \(cores)
                memory_mb = \(min(memory, 2000))
                \(hostExtra)
                [[nodes]]
                names = "emu1"
                agent = "host"
                sockets = 2
                cores_per_socket = 16
                memory_mb = 100000
                [[partitions]]
                name = "batch"
                nodes = "host,emu1"
                default_time = "10:00"
                \(partitionExtra)
                \(extra)
                """, withAgents: true)
            for (name, text) in files {
                let path = cluster.directory.appendingPathComponent(name).path
                _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            }
            spool = cluster.directory.appendingPathComponent("spool").path
            try cluster.start()
            try startAgent()
        }

        func startAgent() throws {
            let log = cluster.directory.appendingPathComponent("agent.log").path
            agent = try ChildProcess(builtBinary("chess-nodeagent").path,
                                     ["--controller", cluster.listen!, "--key", cluster.directory.appendingPathComponent("cluster.key").path,
                                      "--name", "host", "--emulate", "emu1=\(EndToEndTests.synthetic)", "--spool", spool, "--kill-wait", "2",
                                      "--metrics", "127.0.0.1:\(metricsPort)"] + agentArguments,
                                     environment: agentEnvironment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(agentEnvironment) { _, new in new },
                                     stdout: .append(log), stderr: .append(log))
        }

        /// SIGTERM, then wait (at most 10 s) until the agent has exited and is reaped.
        func stopAgent() {
            guard let p = agent else { return }
            p.terminate()
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning {
                Issue.record("the agent did not stop within 10 s of SIGTERM")
                p.signal(SIGKILL)
                p.waitUntilExit()
            }
            agent = nil
        }

        func wait(_ what: String, within seconds: Double = 30, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try condition() { return }
                usleep(100_000)
            }
            Issue.record("timed out waiting for \(what); agent log: \((try? String(contentsOfFile: cluster.directory.appendingPathComponent("agent.log").path, encoding: .utf8)) ?? "")")
        }

        func jobs() throws -> [[String: Any]] {
            let r = try cluster.ctl(["queue", "--json"])
            return ((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["jobs"] as? [[String: Any]]) ?? []
        }

        func accounting() throws -> [[String: Any]] {
            let r = try cluster.ctl(["acct", "-a", "--json"])
            return ((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["records"] as? [[String: Any]]) ?? []
        }

        func submit(_ args: [String]) throws -> Int {
            let r = try cluster.ctl(["submit", "--parsable", "-D", cluster.directory.path] + args)
            guard let id = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TestCluster.Failure("submit failed: \(r.stderr)")
            }
            return id
        }

        /// Submits through the API, where a time limit is in seconds: sbatch's `--time` rounds
        /// up to whole minutes, as Slurm's does, and tests need jobs that outlive limits of a few
        /// seconds.
        func submitAPI(_ command: String, timeLimit: Int, _ more: (inout JobSubmission) -> Void = { _ in }) throws -> Int {
            var s = JobSubmission()
            s.script = "#!/bin/sh\n\(command)\n"
            s.name = "wrap"
            s.timeLimit = timeLimit
            s.workdir = cluster.directory.path
            s.environment = ProcessInfo.processInfo.environment
            more(&s)
            let data = try ControllerClient(socketPath: cluster.socket).request("POST", "/v1/jobs", body: Data(s.jsonBytes))
            return try WireJSON.decode(SubmitResponse.self, from: data).id
        }

        func output(_ name: String) -> String {
            (try? String(contentsOfFile: cluster.directory.appendingPathComponent(name).path, encoding: .utf8)) ?? ""
        }

        deinit { stopAgent() }
    }

    @Test func jobsRunBoundToTheirCoresAndAreAccounted() throws {
        let c = try Running()
        try c.wait("both nodes to be idle") {
            let r = try c.cluster.ctl(["nodes"])
            return r.stdout.contains("idle   emu1,host") || r.stdout.contains("2      idle")
        }
        // Heartbeats carry the host's figures.
        try c.wait("a heartbeat with metrics") {
            let r = try c.cluster.ctl(["show", "node", "host", "--json"])
            let node = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return ((node?["metrics"] as? [String: Any])?["memory_total_mb"] as? Int ?? 0) > 0
        }
        // The agent's own /metrics.
        let metrics = String(decoding: try ControllerClient(tcp: HostPort("127.0.0.1:\(c.metricsPort)")!, signer: nil)
            .request("GET", "/metrics"), as: UTF8.self)
        #expect(metrics.contains("chess_agent_registered 1"), "\(metrics)")
        #expect(metrics.contains("chess_agent_nodes 2"))
        #expect(metrics.contains("chess_node_memory_total_bytes "))
        let script = c.cluster.directory.appendingPathComponent("probe.sh").path
        try """
            #!/bin/bash
            #SBATCH --job-name=probe
            #SBATCH --ntasks=1
            echo "id=$CHESS_JOB_ID slurm=$SLURM_JOB_ID node=$SLURMD_NODENAME cpus=$CHESS_JOB_CPUS gpus=[$CUDA_VISIBLE_DEVICES]"
            grep Cpus_allowed_list /proc/self/status
            echo "args=$*"
            echo "cluster=$SLURM_CLUSTER_NAME"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let probe = try c.submit([script, "one", "two"])
        let failing = try c.submit(["--wrap", "echo failing; exit 3"])
        let overrun = try c.submitAPI("sleep 60", timeLimit: 2)
        let array = try c.submit(["-a", "1-3", "-o", "arr-%A_%a.out", "--wrap",
                                  "echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID; echo $SLURM_ARRAY_TASK_COUNT $SLURM_ARRAY_TASK_MIN $SLURM_ARRAY_TASK_MAX"])
        let first = try c.submit(["--wrap", "echo first > chain.txt"])
        let second = try c.submit(["-d", "afterok:\(first)", "--wrap", "echo second >> chain.txt"])
        let both = try c.submit(["-N", "2", "--wrap", "echo nodes=$SLURM_JOB_NODELIST n=$SLURM_JOB_NUM_NODES; echo tpn=$SLURM_TASKS_PER_NODE cpn=$SLURM_JOB_CPUS_PER_NODE restarts=$SLURM_RESTART_COUNT nodeid=$SLURM_NODEID"])
        // The tightest fit would put these on host, the smaller node.
        let pinned = try c.submit(["-w", "emu1", "--wrap", "echo node=$SLURMD_NODENAME"])
        let avoiding = try c.submit(["-x", "host", "--wrap", "echo node=$SLURMD_NODENAME"])
        try c.wait("every job to end", within: 60) { try c.jobs().isEmpty }
        #expect(c.output("slurm-\(pinned).out") == "node=emu1\n")
        #expect(c.output("slurm-\(avoiding).out") == "node=emu1\n")

        let out = c.output("slurm-\(probe).out")
        #expect(out.contains("id=\(probe) slurm=\(probe)"), "\(out)")
        #expect(out.contains("gpus=[]"))
        #expect(out.contains("args=one two"))
        // The cluster's own name (also part of the job's cgroup name: clusters side by side).
        #expect(out.contains("cluster=\(c.clusterName)\n"), "\(out)")
        // The job reads its own affinity: exactly the CPUs it was given.
        let cpus = out.split(separator: "\n").first { $0.hasPrefix("id=") }?.split(separator: " ")
            .first { $0.hasPrefix("cpus=") }?.dropFirst(5) ?? ""
        let allowed = out.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list") }?.split(separator: "\t").last ?? ""
        #expect(!cpus.isEmpty)
        #expect(Self.expand(String(allowed)) == cpus.split(separator: ",").compactMap { Int($0) }, "\(out)")

        #expect(c.output("slurm-\(failing).out").contains("failing"))
        for t in 1...3 { #expect(c.output("arr-\(array)_\(t).out") == "task \(t) of \(array)\n3 1 3\n") }
        #expect(c.output("chain.txt") == "first\nsecond\n")
        #expect(c.output("slurm-\(both).out").contains("n=2"))
        #expect(c.output("slurm-\(both).out").contains("tpn=1(x2) cpn=1(x2) restarts=0 nodeid=0"), "\(c.output("slurm-\(both).out"))")

        let records = try c.accounting()
        func record(_ id: Int) -> [String: Any]? { records.first { $0["id"] as? Int == id } }
        #expect(record(probe)?["state"] as? String == "COMPLETED")
        #expect(record(failing)?["state"] as? String == "FAILED")
        #expect(record(failing)?["exit_code"] as? Int == 3)
        #expect(record(overrun)?["state"] as? String == "TIMEOUT")
        #expect(record(second)?["state"] as? String == "COMPLETED")
        #expect((record(second)?["start_time"] as? Int ?? 0) >= (record(first)?["end_time"] as? Int ?? .max))
        #expect(record(both)?["alloc_nodes"] as? Int == 2)
        // sacct's derived fields: CPU time is elapsed × allocated CPUs; AllocTRES in Slurm's form.
        let derived = try c.cluster.ctl(["acct", "-a", "-P", "-n", "-o", "jobidraw,elapsedraw,ncpus,cputimeraw,alloctres", "-j", "\(both),\(overrun)"])
        let rows = derived.stdout.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == 2, "\(derived.stdout)\(derived.stderr)")
        for row in rows where row.count == 5 {
            #expect(Int(row[3]) == (Int(row[1]) ?? -1) * (Int(row[2]) ?? -1), "\(row)")
            #expect(row[4].hasPrefix("cpu=\(row[2]),") && row[4].contains("node="), "\(row)")
        }
        #expect(rows.first { $0.first == "\(overrun)" }.map { Int($0[1]) ?? 0 } ?? 0 >= 2, "the overrun ran at least its 2 s")
        #expect(records.filter { $0["array_job_id"] as? Int == array }.count == 3)
        #expect(record(probe)?["cpu_seconds"] != nil)
    }

    /// `queue --start` (squeue --start): a job waiting behind one that fills both nodes is
    /// planned for when that one's time limit runs out.
    @Test func queueStartShowsThePlannedStart() throws {
        let c = try Running()
        try c.wait("both nodes to be idle") {
            let r = try c.cluster.ctl(["nodes"])
            return r.stdout.contains("idle   emu1,host") || r.stdout.contains("2      idle")
        }
        let big = try c.submit(["-N", "2", "--exclusive", "-t", "5", "--wrap", "sleep 60"])
        try c.wait("the two-node job to run") { try c.jobs().contains { $0["id"] as? Int == big && $0["state"] as? String == "RUNNING" } }
        let waiting = try c.submit(["-N", "2", "--exclusive", "-t", "5", "--wrap", "true"])
        try c.wait("a planned start") {
            try c.jobs().contains { $0["id"] as? Int == waiting && $0["planned_start"] is Int }
        }
        let r = try c.cluster.ctl(["queue", "--start"])
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.first == "JOBID PARTITION NAME USER ST START_TIME NODES NODELIST(REASON)", "\(r.stdout)")
        #expect(lines.count == 2 && lines[1].hasPrefix("\(waiting) batch wrap") && lines[1].contains(" PD 20"), "\(r.stdout)")
        let planned = try #require(try c.jobs().first { $0["id"] as? Int == waiting }?["planned_start"] as? Int)
        let started = try #require(try c.jobs().first { $0["id"] as? Int == big }?["start_time"] as? Int)
        #expect(planned == started + 300, "planned at the running job's time limit")
        #expect(lines[1].contains(SlurmTime.timestamp(planned)), "\(r.stdout)")
        #expect(try c.cluster.ctl(["cancel", "\(big)", "\(waiting)"]).status == 0)
    }

    /// `cancel --signal` (scancel -s) signals a running job's processes and leaves it running
    /// (the job decides what the signal means); `cancel -t PENDING` of an array cancels only its
    /// waiting tasks.
    @Test func cancelSignalsRunningJobsAndFiltersSelectTasks() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        // The job starts with no signal blocked or ignored, whatever the agent inherited (this
        // test process blocks some), so that its trap works.
        let trapped = try c.submit(["-o", "trapped.out", "--wrap",
                                    "grep -E '^Sig(Blk|Ign)' /proc/self/status > masks; trap 'echo got USR1; exit 3' USR1; sleep 30 & wait"])
        let array = try c.submit(["-a", "1-3%1", "--wrap", "sleep 30"])
        try c.wait("the job and a task to run") { try c.jobs().filter { $0["state"] as? String == "RUNNING" }.count == 2 }
        try c.wait("the job to set its trap") { c.output("masks").hasSuffix("\n") }
        usleep(200_000)
        // Standard signals (1–31) only: glibc keeps 32 and 33 for itself.
        let masks = c.output("masks").split(separator: "\n").map { UInt64($0.split(separator: "\t").last ?? "", radix: 16) ?? .max }
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(c.output("masks"))")
        let pending = try c.cluster.ctl(["cancel", "-s", "USR1", "\(array)_3"])
        #expect(pending.status == 1 && pending.stderr.contains("a signal reaches only running jobs"), "\(pending.stderr)")
        let bogus = try c.cluster.ctl(["cancel", "--signal", "BOGUS", "\(trapped)"])
        #expect(bogus.status == 1 && bogus.stderr.contains("unknown signal 'BOGUS'"), "\(bogus.stderr)")
        let sent = try c.cluster.ctl(["cancel", "-s", "SIGUSR1", "\(trapped)"])
        #expect(sent.stdout == "Job \(trapped) signalled (SIGUSR1)\n", "\(sent.stdout)\(sent.stderr)")
        try c.wait("the signalled job to end") { try !c.jobs().contains { $0["id"] as? Int == trapped } }
        #expect(c.output("trapped.out") == "got USR1\n")
        #expect(try c.accounting().first { $0["id"] as? Int == trapped }?["exit_code"] as? Int == 3, "ended by its own trap, not cancelled")

        let r = try c.cluster.ctl(["cancel", "-t", "PENDING", "\(array)"])
        #expect(r.status == 0 && r.stdout == "Job \(array)_2 cancelled\nJob \(array)_3 cancelled\n", "\(r.stdout)\(r.stderr)")
        let left = try c.jobs()
        #expect(left.count == 1 && left.first?["display_id"] as? String == "\(array)_1" && left.first?["state"] as? String == "RUNNING", "\(left)")
        #expect(try c.cluster.ctl(["cancel", "\(array)"]).status == 0)
    }

    /// `reconfigure` with agents: a node that runs a job cannot leave the file; a registered
    /// node is checked against its new configuration as at a registration (more memory than
    /// its agent found drains it, with the reason).
    @Test func reconfigureChecksRegisteredNodesAndKeepsBusyOnes() throws {
        let c = try Running()
        try c.wait("both nodes to be idle") {
            let r = try c.cluster.ctl(["nodes"])
            return r.stdout.contains("idle   emu1,host") || r.stdout.contains("2      idle")
        }
        let wide = try c.submit(["-N", "2", "--wrap", "sleep 30"])
        try c.wait("the two-node job to run") { try c.jobs().first?["state"] as? String == "RUNNING" }
        let original = try String(contentsOfFile: c.cluster.configPath, encoding: .utf8)
        let emu1 = "[[nodes]]\nnames = \"emu1\"\nagent = \"host\"\nsockets = 2\ncores_per_socket = 16\nmemory_mb = 100000\n"
        #expect(original.contains(emu1))
        try original.replacingOccurrences(of: emu1, with: "").replacingOccurrences(of: "nodes = \"host,emu1\"", with: "nodes = \"host\"")
            .write(toFile: c.cluster.configPath, atomically: true, encoding: .utf8)
        let busy = try c.cluster.ctl(["reconfigure"])
        #expect(busy.status == 1 && busy.stderr.contains("emu1 run jobs and are not in \(c.cluster.configPath) any more"), "\(busy.stderr)")
        #expect(try c.cluster.ctl(["show", "node", "emu1"]).status == 0)
        #expect(try c.cluster.ctl(["cancel", "\(wide)"]).status == 0)
        // Until its agents report the end the job is COMPLETING on emu1, and a drain would leave
        // it "draining" (Slurm's DRNG): what follows is about an idle node.
        try c.wait("the cancelled job to leave the nodes") { try c.jobs().isEmpty }

        try original.replacingOccurrences(of: "memory_mb = 100000", with: "memory_mb = 900000")
            .write(toFile: c.cluster.configPath, atomically: true, encoding: .utf8)
        #expect(try c.cluster.ctl(["reconfigure"]).status == 0)
        let node = try JSONSerialization.jsonObject(with: Data(try c.cluster.ctl(["show", "node", "emu1", "--json"]).stdout.utf8)) as? [String: Any]
        #expect(node?["state"] as? String == "drain" && (node?["reason"] as? String ?? "").hasSuffix(" < 900000 MiB configured)"), "\(String(describing: node))")
        try original.write(toFile: c.cluster.configPath, atomically: true, encoding: .utf8)
        #expect(try c.cluster.ctl(["reconfigure"]).status == 0)
        let back = try JSONSerialization.jsonObject(with: Data(try c.cluster.ctl(["show", "node", "emu1", "--json"]).stdout.utf8)) as? [String: Any]
        #expect(back?["state"] as? String != "drain" && back?["reason"] == nil, "\(String(describing: back))")
    }

    /// sbatch's `--signal`: the job hears the signal before its time limit and can end cleanly
    /// (without it, it would be ended at its limit: TIMEOUT).
    @Test func aJobIsWarnedBeforeItsTimeLimit() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        // A limit of seconds: through the API (sbatch's --time is whole minutes).
        let id = try c.submitAPI("trap 'echo checkpointed; exit 0' USR1\nsleep 30 & wait", timeLimit: 6) {
            $0.signal = "B:USR1@3"
            $0.output = "checkpoint.out"
        }
        try c.wait("the job to end", within: 20) { try c.jobs().isEmpty }
        #expect(c.output("checkpoint.out") == "checkpointed\n")
        let record = try c.accounting().first { $0["id"] as? Int == id }
        #expect(record?["state"] as? String == "COMPLETED", "\(String(describing: record))")
        #expect((record?["elapsed"] as? Int ?? 99) < 6, "warned 3 s before its 6 s limit")

        // Output files are truncated, as Slurm's are, unless the job asks to append.
        for (words, options) in [("one", [String]()), ("two", []), ("three", ["--open-mode=append"])] {
            _ = try c.submit(["-o", "same.out"] + options + ["--wrap", "echo \(words)"])
            try c.wait("the job to end") { try c.jobs().isEmpty }
        }
        #expect(c.output("same.out") == "two\nthree\n", "\(c.output("same.out"))")
    }

    /// sbatch's `--export`: the job starts with all of the submitter's environment, none of it,
    /// or what the list names and sets.
    @Test func exportChoosesTheJobsEnvironment() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        let environment = ["CHESS_SOCKET": c.cluster.socket, "TEST_PLAIN": "p", "TEST_OTHER": "o"]
        let show = "echo \"${TEST_PLAIN:-unset} ${TEST_OTHER:-unset} ${EXTRA:-unset}\""
        for (name, export) in [("all", nil), ("none", "NONE,EXTRA=x"), ("listed", "TEST_PLAIN")] as [(String, String?)] {
            let r = try runBinary("chessctl", ["submit", "-D", c.cluster.directory.path, "-o", "\(name).out"]
                                    + (export.map { ["--export=\($0)"] } ?? []) + ["--wrap", show], environment: environment)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let bad = try runBinary("chessctl", ["submit", "--export=NONE,2BAD", "--wrap", "true"], environment: environment)
        #expect(bad.status == 1 && bad.stderr.contains("--export: '2BAD' is not NAME or NAME=value"), "\(bad.stderr)")
        try c.wait("the jobs to end") { try c.jobs().isEmpty }
        #expect(c.output("all.out") == "p o unset\n")
        #expect(c.output("none.out") == "unset unset x\n")
        #expect(c.output("listed.out") == "p unset unset\n")
    }

    /// `update` of running jobs: a lengthened limit reaches the supervisor, which would
    /// otherwise end the job at its old one (it enforces limits itself); a shortened one ends it.
    /// The node health check (Slurm's HealthCheckProgram): a failing run drains the agent's nodes
    /// with its first line, a passing one resumes them; an administrator's drain stays.
    @Test func aFailingHealthCheckDrainsTheNodesUntilItPasses() throws {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("chess-hc-\(UUID().uuidString.prefix(8))").path
        let check = FileManager.default.temporaryDirectory.appendingPathComponent("chess-hc-\(UUID().uuidString.prefix(8)).sh").path
        FileManager.default.createFile(atPath: check, contents: Data("#!/bin/sh\nif [ -e \(flag) ]; then echo 'NHC: /scratch is full'; exit 1; fi\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        defer {
            try? FileManager.default.removeItem(atPath: check)
            try? FileManager.default.removeItem(atPath: flag)
        }
        let c = try Running(extra: "[health_check]\nprogram = \"\(check)\"\ninterval = 1\n")
        func states() throws -> [String: (String, String?)] {
            let r = try c.cluster.ctl(["nodes", "-N", "--json"])
            let nodes = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
            return Dictionary(uniqueKeysWithValues: nodes.map { ($0["name"] as? String ?? "", ($0["state"] as? String ?? "", $0["reason"] as? String)) })
        }
        try c.wait("both nodes to be idle") { try states().values.allSatisfy { $0.0 == "idle" } }
        FileManager.default.createFile(atPath: flag, contents: Data())
        try c.wait("the health check to drain both nodes") {
            try states().values.allSatisfy { $0.0 == "drain" && $0.1 == "health check: NHC: /scratch is full" }
        }
        #expect(try c.cluster.ctl(["node", "drain", "--reason", "replacing a DIMM", "emu1"]).status == 0)
        try FileManager.default.removeItem(atPath: flag)
        try c.wait("the health check to resume host") { try states()["host"]?.0 == "idle" }
        sleep(2)
        let emu = try states()["emu1"]
        #expect(emu?.0 == "drain" && emu?.1 == "replacing a DIMM", "an administrator's drain stays: \(String(describing: emu))")
    }

    /// The cluster's prolog and epilog (Slurm's Prolog=/Epilog=): run around each job on its batch
    /// node with Slurm's variables; a failed epilog drains the node, a failed prolog also puts
    /// the job back in the queue.
    @Test func prologAndEpilogRunAroundJobsAndDrainTheNodeWhenTheyFail() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chess-pe-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, body) in [("prolog", "[ -e \(dir)/prolog-fails ] && { echo 'prolog: /scratch missing'; exit 1; }\necho \"prolog $SLURM_JOB_ID $SLURM_JOB_USER $SLURM_SCRIPT_CONTEXT\" >> \(dir)/log"),
                             ("epilog", "echo \"epilog $SLURM_JOB_ID\" >> \(dir)/log\n[ -e \(dir)/epilog-fails ] && { echo 'epilog: GPU reset failed' >&2; exit 2; }\nexit 0")] {
            FileManager.default.createFile(atPath: "\(dir)/\(name).sh", contents: Data("#!/bin/sh\n\(body)\n".utf8), attributes: [.posixPermissions: 0o755])
        }
        let c = try Running(extra: "", top: "prolog = \"\(dir)/prolog.sh\"\nepilog = \"\(dir)/epilog.sh\"\n")
        func node(_ name: String) throws -> (String, String?) {
            let r = try c.cluster.ctl(["show", "node", name, "--json"])
            let n = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            return (n?["state"] as? String ?? "", n?["reason"] as? String)
        }
        func state(_ id: Int) throws -> String? { try c.accounting().first { $0["id"] as? Int == id }?["state"] as? String }
        try c.wait("host to be idle") { try node("host").0 == "idle" }

        let plain = try c.submit(["-w", "host", "--wrap", "echo ran"])
        try c.wait("the job to end") { try state(plain) == "COMPLETED" }
        try c.wait("the epilog to run") { c.output("../\(URL(fileURLWithPath: dir).lastPathComponent)/log").contains("epilog \(plain)") }
        let log = (try? String(contentsOfFile: "\(dir)/log", encoding: .utf8)) ?? ""
        #expect(log.hasPrefix("prolog \(plain) root prolog_slurmd\nepilog \(plain)\n"), "\(log)")
        #expect(try node("host").0 == "idle")

        FileManager.default.createFile(atPath: "\(dir)/epilog-fails", contents: Data())
        let second = try c.submit(["-w", "host", "--wrap", "true"])
        try c.wait("the epilog's failure to drain host") { try node("host") == ("drain", "epilog failed: epilog: GPU reset failed") }
        #expect(try state(second) == "COMPLETED", "the job's end stands")
        try FileManager.default.removeItem(atPath: "\(dir)/epilog-fails")
        #expect(try c.cluster.ctl(["node", "resume", "host"]).status == 0)

        FileManager.default.createFile(atPath: "\(dir)/prolog-fails", contents: Data())
        let third = try c.submit(["-w", "host", "--wrap", "echo third"])
        try c.wait("the prolog's failure to drain host") { try node("host") == ("drain", "prolog failed: prolog: /scratch missing") }
        let queued = try #require(try c.jobs().first { $0["id"] as? Int == third })
        #expect(queued["state"] as? String == "PENDING", "back in the queue: \(queued)")
        try FileManager.default.removeItem(atPath: "\(dir)/prolog-fails")
        #expect(try c.cluster.ctl(["node", "resume", "host"]).status == 0)
        try c.wait("the requeued job to run") { try state(third) == "COMPLETED" }
        #expect(c.output("slurm-\(third).out") == "third\n")
    }

    /// Cluster licenses (`[licenses]`, sbatch's `-L`): a job waits with reason Licenses while
    /// others hold them, and starts when they are back.
    @Test func jobsWaitForLicensesOthersHold() throws {
        let c = try Running(extra: "[licenses]\nmatlab = 1\n")
        try c.wait("host to be idle") { try c.cluster.ctl(["nodes", "-N", "-h", "-o", "%n %t", "-n", "host"]).stdout == "host idle\n" }
        for (args, message) in [(["-L", "fluent"], "invalid license 'fluent'; licenses: matlab"),
                                (["-L", "matlab:2"], "2 matlab asked for, the cluster has 1"), (["-L", "matlab:x"], "the count must be a whole number")] {
            let r = try c.cluster.ctl(["submit"] + args + ["--wrap", "true"])
            #expect(r.status == 1 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let first = try c.submit(["-L", "matlab", "--wrap", "sleep 2"])
        let second = try c.submit(["-L", "matlab:1", "--wrap", "echo licensed"])
        try c.wait("the second job to wait for the license") {
            try c.jobs().first { $0["id"] as? Int == second }?["reason"] as? String == "Licenses"
        }
        #expect(try c.cluster.ctl(["show", "licenses"]).stdout.split(separator: "\n").last?.split(separator: " ") == ["matlab", "1", "1", "0"])
        #expect(try c.cluster.ctl(["show", "job", "\(first)"]).stdout.split(separator: "\n").contains { $0.split(separator: " ") == ["Licenses", "matlab:1"] })
        try c.wait("both jobs to end") { try c.jobs().isEmpty }
        #expect(c.output("slurm-\(second).out") == "licensed\n")
        let records = try c.accounting()
        let start = records.first { $0["id"] as? Int == second }?["start_time"] as? Int ?? 0
        let end = records.first { $0["id"] as? Int == first }?["end_time"] as? Int ?? .max
        #expect(start >= end, "the second started once the first gave the license back")
    }

    /// `report` (sreport): what jobs held and what a node lost add up with idle time to the
    /// period's CPU time; top usage puts the jobs on their user.
    @Test func reportsAddUpWhatJobsHeldAndNodesLost() throws {
        let c = try Running()
        try c.wait("both nodes to be idle") { try c.cluster.ctl(["nodes", "-t", "idle", "-h"]).stdout.contains("2") }
        _ = try c.submit(["-n", "2", "-w", "host", "--wrap", "sleep 2"])
        #expect(try c.cluster.ctl(["node", "down", "--reason", "maintenance", "emu1"]).status == 0)
        sleep(2)
        #expect(try c.cluster.ctl(["node", "resume", "emu1"]).status == 0)
        try c.wait("the job to end", within: 30) { try c.jobs().isEmpty }
        func json(_ args: [String]) throws -> [String: Any] {
            let r = try c.cluster.ctl(["report"] + args + ["-S", "now-1hour", "-E", "now+1hour", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }
        let u = try json(["utilization"])
        let (allocated, down, idle, reported) = (u["allocated"] as? Int ?? -1, u["down"] as? Int ?? -1, u["idle"] as? Int ?? -1, u["reported"] as? Int ?? -1)
        #expect(allocated >= 4, "2 CPUs for at least 2 s: \(u)")
        #expect(down >= 32, "emu1's 32 cores for at least a second: \(u)")
        #expect(allocated + down + idle == reported && reported == (u["cpus"] as? Int ?? 0) * ((u["end"] as? Int ?? 0) - (u["start"] as? Int ?? 0)), "\(u)")
        // The end is clipped to now: no idle time is reported for the hour ahead.
        #expect((u["end"] as? Int ?? .max) <= Int(Date().timeIntervalSince1970))
        let top = try json(["topusage"])
        let users = try #require(top["users"] as? [[String: Any]])
        #expect(users.count == 1 && users.first?["user"] as? String == "root" && users.first?["cpu_seconds"] as? Int == allocated, "\(top)")
        let table = try c.cluster.ctl(["report", "utilization", "-S", "now-1hour", "-E", "now", "-t", "percent"])
        #expect(table.stdout.contains("Usage reported in Percentage of Total") && table.stdout.contains("100.00%"), "\(table.stdout)")
        #expect(try c.cluster.ctl(["report", "utilization", "-t", "fortnights"]).stderr.contains("give minutes, hours, seconds or percent"))
    }

    @Test func aRunningJobsTimeLimitCanBeChanged() throws {
        let c = try Running()
        try c.wait("both nodes to be idle") {
            let r = try c.cluster.ctl(["nodes"])
            return r.stdout.contains("idle   emu1,host") || r.stdout.contains("2      idle")
        }
        let extended = try c.submitAPI("sleep 8", timeLimit: 5)
        let shortened = try c.submit(["-t", "10", "--wrap", "sleep 60"])
        // An array's update reaches its running tasks too, as scontrol's does.
        let array = try c.submitAPI("sleep 8", timeLimit: 5) { $0.array = "1-2" }
        try c.wait("the jobs and tasks to run") { try c.jobs().filter { $0["state"] as? String == "RUNNING" }.count == 4 }
        let moved = try c.cluster.ctl(["update", "\(shortened)", "account=default"])
        #expect(moved.status == 1 && moved.stderr.contains("is RUNNING; its partition, QoS, account and node lists change only while it is pending"), "\(moved.stderr)")
        let longer = try c.cluster.ctl(["update", "\(extended)", "TimeLimit=2:00"])
        #expect(longer.stdout == "Job \(extended) updated: TimeLimit=00:02:00\n", "\(longer.stderr)")
        #expect(try c.cluster.ctl(["update", "\(shortened)", "time_limit=0:03"]).status == 0)
        #expect(try c.cluster.ctl(["update", "\(array)", "TimeLimit=2:00"]).status == 0)
        try c.wait("both jobs to end", within: 40) { try c.jobs().isEmpty }
        let acct = try c.cluster.ctl(["acct", "-j", "\(extended),\(shortened),\(array)", "-o", "jobid,state", "-P", "-n", "-X"])
        #expect(acct.stdout == "\(extended)|COMPLETED\n\(shortened)|TIMEOUT\n\(array)_1|COMPLETED\n\(array)_2|COMPLETED\n", "\(acct.stdout)\(acct.stderr)")
        // Their CPU-seconds (one CPU each, ~8 s × 3 and ~3 s) are the fair-share usage `share` shows.
        let shares = try c.cluster.ctl(["share", "--json"])
        let accounts = (try JSONSerialization.jsonObject(with: Data(shares.stdout.utf8)) as? [String: Any])?["accounts"] as? [[String: Any]] ?? []
        let used = accounts.first { $0["account"] as? String == "default" }
        #expect((used?["usage"] as? Int ?? 0) >= 26 && used?["effective_usage"] as? String == "1.000000", "\(shares.stdout)\(shares.stderr)")
        // And it outlives a restart of chessd (the next jobs' priorities depend on it).
        c.cluster.stop()
        try c.cluster.start()
        let again = try c.cluster.ctl(["share", "--json"])
        let kept = ((try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["accounts"] as? [[String: Any]])?
            .first { $0["account"] as? String == "default" }
        #expect((kept?["usage"] as? Int ?? 0) >= 26, "\(again.stdout)\(again.stderr)")
    }

    @Test func anAgentRestartLosesNoJobAndCountsNoneTwice() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        let id = try c.submit(["--wrap", "sleep 3; echo survived"])
        // Its time limit lengthened while the agent is away: the agent hears of it when it
        // registers again (else its supervisor would end the job at 5 s).
        let lengthened = try c.submitAPI("sleep 8; echo lengthened", timeLimit: 5)
        try c.wait("the jobs to run") { try c.jobs().allSatisfy { $0["state"] as? String == "RUNNING" } && c.jobs().count == 2 }
        c.stopAgent()
        #expect(try c.cluster.ctl(["update", "\(lengthened)", "TimeLimit=2:00"]).status == 0)
        usleep(500_000)
        try c.startAgent()
        try c.wait("the jobs to end", within: 30) { try c.jobs().isEmpty }
        #expect(c.output("slurm-\(id).out") == "survived\n")
        #expect(c.output("slurm-\(lengthened).out") == "lengthened\n")
        #expect(try c.accounting().first { $0["id"] as? Int == lengthened }?["state"] as? String == "COMPLETED")
        let records = try c.accounting().filter { $0["id"] as? Int == id }
        #expect(records.count == 1)
        #expect(records.first?["state"] as? String == "COMPLETED")
        #expect(records.first?["requeues"] as? Int == 0)
        let events = try c.cluster.ctl(["show", "job", "\(id)", "--json"])
        #expect(events.stdout.contains("\"state\":\"COMPLETED\""))
    }

    /// A requeued job runs again; the report of its first, killed run does not end the second.
    @Test func aRequeuedJobRunsAgainAndEndsOnce() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        let id = try c.submit(["--wrap", "echo start; sleep 2; echo done"])
        try c.wait("the job to start") { c.output("slurm-\(id).out").contains("start") }
        #expect(try c.cluster.ctl(["requeue", "\(id)"]).status == 0)
        try c.wait("the second run to finish", within: 30) { try c.jobs().isEmpty }
        #expect(c.output("slurm-\(id).out") == "start\nstart\ndone\n", "\(c.output("slurm-\(id).out"))")
        let records = try c.accounting().filter { $0["id"] as? Int == id }
        #expect(records.count == 1)
        #expect(records.first?["state"] as? String == "COMPLETED")
        #expect(records.first?["requeues"] as? Int == 1)
        // Its history says what happened, in order.
        let history = try c.cluster.ctl(["show", "events", "\(id)", "--json"])
        let events = (try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        let states = events.compactMap { $0["state"] as? String }
        #expect(states.filter { $0 == "RUNNING" }.count == 2 && states.contains("REQUEUED") && states.last == "COMPLETED", "\(states)")
        #expect(events.contains { ($0["reason"] as? String)?.contains("requeued by root") == true }, "\(events)")

        // scontrol requeuehold: back in the queue held until released.
        let held = try c.submit(["--wrap", "echo run; sleep 30"])
        try c.wait("the job to start") { c.output("slurm-\(held).out").contains("run") }
        let r = try c.cluster.ctl(["requeue", "--hold", "\(held)"])
        #expect(r.stdout == "Job \(held) requeued and held\n", "\(r.stdout)\(r.stderr)")
        try c.wait("the job to be held in the queue") {
            let job = try c.jobs().first { $0["id"] as? Int == held }
            return job?["state"] as? String == "PENDING" && job?["reason"] as? String == "JobHeldUser"
        }
        sleep(2)
        #expect(try c.jobs().first { $0["id"] as? Int == held }?["state"] as? String == "PENDING", "held: not started again")
        #expect(try c.cluster.ctl(["release", "\(held)"]).status == 0)
        try c.wait("the released job to run again") { c.output("slurm-\(held).out") == "run\nrun\n" }
        #expect(try c.cluster.ctl(["cancel", "\(held)"]).status == 0)
    }

    /// `submit --wait` (sbatch -W) returns when the job has ended, with its exit code.
    @Test func submitWaitReturnsTheJobsExitCode() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        // The `sbatch` binary (what `make release` installs as sbatch) and chessctl submit alike.
        let failed = try runBinary("sbatch", ["--wait", "-D", c.cluster.directory.path, "--wrap", "sleep 1; exit 3"],
                                   environment: ["CHESS_SOCKET": c.cluster.socket])
        #expect(failed.status == 3 && failed.stdout.hasPrefix("Submitted batch job "), "\(failed.stdout)\(failed.stderr)")
        #expect(try c.jobs().isEmpty, "it returned after the job ended")
        #expect(try c.cluster.ctl(["submit", "-W", "-D", c.cluster.directory.path, "-a", "1-2", "--wrap", "true"]).status == 0)
        // --test-only: when and where, and nothing submitted. On an idle node: now; behind a job
        // holding both nodes: at that job's end (its time limit).
        let now = try c.cluster.ctl(["submit", "--test-only", "--wrap", "true"])
        #expect(now.status == 0 && now.stdout.hasPrefix("Job would start at ") && now.stdout.contains(" using 1 processors on nodes ")
                && now.stdout.hasSuffix(" in partition batch (not submitted)\n"), "\(now.stdout)\(now.stderr)")
        let wide = try c.submit(["-N", "2", "--exclusive", "-t", "5:00", "--wrap", "sleep 30"])
        try c.wait("the wide job to run") { try c.jobs().first { $0["id"] as? Int == wide }?["state"] as? String == "RUNNING" }
        let started = try #require(try c.jobs().first { $0["id"] as? Int == wide }?["start_time"] as? Int)
        let later = try runBinary("sbatch", ["--test-only", "--json", "--wrap", "true"], environment: ["CHESS_SOCKET": c.cluster.socket])
        let answer = try JSONSerialization.jsonObject(with: Data(later.stdout.utf8)) as? [String: Any]
        #expect(answer?["start"] as? Int == started + 300 && answer?["node_list"] == nil, "\(later.stdout)\(later.stderr)")
        #expect(try c.cluster.ctl(["cancel", "\(wide)"]).status == 0)
        try c.wait("the wide job to end") { try c.jobs().isEmpty }
        #expect(try c.accounting().count == 4, "nothing submitted by --test-only")
        // `eff` (seff) of the failed job: its record's usage against what it was given.
        let failedID = String(failed.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let eff = try c.cluster.ctl(["eff", failedID]).stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(eff.first == "Job ID \(failedID)" && eff.contains("State FAILED (exit code 3)") && eff.contains("CPUs 1"), "\(eff)")
        // `sleep 1` takes 1 or 2 whole seconds of wall clock, as its ends fall.
        #expect(eff.contains { $0.hasPrefix("CPU Efficiency ") && ($0.hasSuffix("% of 00:00:01 core-walltime") || $0.hasSuffix("% of 00:00:02 core-walltime")) }
                && eff.contains { $0.hasPrefix("Memory Utilized ") && $0.hasSuffix("MiB") }, "\(eff)")
        #expect(try c.cluster.ctl(["eff", "999"]).stderr.contains("no accounting record for 999"))
        let shown = try c.cluster.ctl(["show", "job", failedID]).stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(shown.contains("RunTime 00:00:01") || shown.contains("RunTime 00:00:02"), "\(shown)")
        let diag = try JSONSerialization.jsonObject(with: Data(try c.cluster.ctl(["diag", "--json"]).stdout.utf8)) as? [String: Any]
        #expect(diag?["jobs_started"] as? Int == 4 && (diag?["jobs_ended"] as? [String: Int]) == ["COMPLETED": 2, "FAILED": 1, "CANCELLED": 1]
                && diag?["agents"] as? Int == 1, "\(String(describing: diag))")
    }

    /// `stat` (sstat): a running job's CPU time and resident memory, summed over its processes
    /// by its agent at each heartbeat.
    @Test func statShowsWhatARunningJobUses() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        // A CPU burner, and a tail holding 60 MB of one long line until its input ends.
        let busy = try c.submit(["--wrap", "sh -c 'while :; do :; done' & (head -c 60000000 /dev/zero; sleep 60) | tail > /dev/null & wait"])
        var usage: [String: Any]?
        try c.wait("the job to be measured using a CPU and 50 MiB", within: 20) {
            let r = try c.cluster.ctl(["stat", "--json", "\(busy)"])
            usage = ((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any])?["jobs"].flatMap { ($0 as? [[String: Any]])?.first }
            return (usage?["cpu_seconds"] as? Int ?? 0) >= 2 && (usage?["memory_mb"] as? Int ?? 0) >= 50
        }
        #expect((usage?["processes"] as? Int ?? 0) >= 4, "\(String(describing: usage))")
        let table = try c.cluster.ctl(["stat", "\(busy)"]).stdout
        #expect(table.hasPrefix("JOBID") && table.contains("\n\(busy) "), "\(table)")
        #expect(try c.cluster.ctl(["cancel", "\(busy)"]).status == 0)
        try c.wait("the job to end") { try c.jobs().isEmpty }
        #expect(try c.cluster.ctl(["stat", "\(busy)"]).stderr.contains("has ended: its use is in its accounting record"))
        #expect(try c.cluster.ctl(["stat", "999"]).stderr.contains("job 999 does not exist"))
    }

    /// `--no-requeue`: when its node is lost the job ends NODE_FAIL instead of going back to the
    /// queue, and `requeue` refuses it; a job without it is requeued.
    @Test func aNoRequeueJobEndsWithItsNode() throws {
        let c = try Running()
        try c.wait("the nodes to be idle") { try c.cluster.ctl(["nodes"]).stdout.contains("idle") }
        let fragile = try c.submit(["--no-requeue", "--wrap", "sleep 8"])
        let sturdy = try c.submit(["--wrap", "sleep 8"])
        try c.wait("the jobs to run") { try c.jobs().filter { $0["state"] as? String == "RUNNING" }.count == 2 }
        let refused = try c.cluster.ctl(["requeue", "\(fragile)"])
        #expect(refused.status == 1 && refused.stderr.contains("was submitted with --no-requeue"), "\(refused.stderr)")
        c.stopAgent()
        try c.wait("the node to be given up", within: 15) { try !c.jobs().contains { $0["id"] as? Int == fragile } }
        #expect(try c.accounting().first { $0["id"] as? Int == fragile }?["state"] as? String == "NODE_FAIL")
        #expect(try c.jobs().first { $0["id"] as? Int == sturdy }?["state"] as? String == "PENDING", "requeued")
        #expect(try c.cluster.ctl(["cancel", "\(sturdy)"]).status == 0)
        try c.startAgent()  // it stops what the controller no longer runs
    }

    /// `0-3,8` → [0, 1, 2, 3, 8].
    static func expand(_ list: String) -> [Int] {
        list.split(separator: ",").flatMap { part -> [Int] in
            let b = part.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return b.count == 2 ? Array(b[0]...b[1]) : b
        }
    }
}
