import ChessAPI
import SchedulerCore

/// Turns a submission into a job, or says precisely why it cannot be accepted, as `sbatch`
/// would refuse it (partition, QoS, account, sizes, time limits, dependencies).
package struct SubmissionValidator {
    package let index: ClusterIndex
    package let defaultPartition: String
    package let identity: Identity
    package let now: Int
    /// Whether a job id exists (live or finished), for dependencies.
    package let jobExists: (JobID) -> Bool
    /// Live (pending or running) jobs of this user in a QoS, counting array tasks.
    package let liveJobsOfUser: (String) -> Int
    /// `mail_domain`: added to mail recipients without an `@`.
    package var mailDomain: String? = nil

    package init(index: ClusterIndex, defaultPartition: String, identity: Identity, now: Int,
                 jobExists: @escaping (JobID) -> Bool, liveJobsOfUser: @escaping (String) -> Int, mailDomain: String? = nil) {
        self.index = index
        self.defaultPartition = defaultPartition
        self.identity = identity
        self.now = now
        self.jobExists = jobExists
        self.liveJobsOfUser = liveJobsOfUser
        self.mailDomain = mailDomain
    }

    package var cluster: Cluster { index.cluster }

    /// Whether `script` holds a NUL byte, and a `\r\n` (a lone `\r` is the script's own
    /// business), in one pass over it.
    static func scan(_ script: String) -> (nul: Bool, dosLineBreak: Bool) {
        var (nul, dos) = (false, false)
        var previous: UInt8 = 0
        for byte in script.utf8 {
            if byte == 0 { nul = true }
            if previous == 0x0D && byte == 0x0A { dos = true }
            previous = byte
        }
        return (nul, dos)
    }

    package func validate(_ s: JobSubmission, id: JobID) throws(APIError) -> JobRecord {
        guard let script = s.script, !script.isEmpty else {
            throw .invalid("the job has no script: give a batch script file or --wrap COMMAND")
        }
        guard script.hasPrefix("#!") else {
            throw .invalid("this does not look like a batch script: the first line must start with #! followed by the path to an interpreter, as in #!/bin/bash")
        }
        // Refused as Slurm refuses them, with its words: a NUL cuts the script short where a
        // C string reads it, and a script written on Windows fails line by line (`$'\r':
        // command not found`) once it runs.
        let found = Self.scan(script)
        guard !found.nul else {
            throw .invalid("the controller does not allow scripts that contain a NULL character '\\0'")
        }
        if found.dosLineBreak {
            throw .invalid("Batch script contains DOS line breaks (\\r\\n) instead of expected UNIX line breaks (\\n); convert it with dos2unix")
        }
        try Self.checkBounds(s)
        let (partition, qos, accountName) = try placement(partition: s.partition, qos: s.qos, account: s.account)
        try checkTakesJobs(partition)

        var request = JobRequest()
        func positive(_ v: Int?, _ option: String) throws(APIError) -> Int? {
            guard let v else { return nil }
            guard v >= 1 else { throw .invalid("\(option) must be at least 1, got \(v)") }
            return v
        }
        request.nodes = try positive(s.nodes, "--nodes")
        request.tasks = try positive(s.ntasks, "--ntasks")
        request.tasksPerNode = try positive(s.ntasksPerNode, "--ntasks-per-node")
        request.cpusPerTask = try positive(s.cpusPerTask, "--cpus-per-task") ?? 1
        if [s.memMB, s.memPerCPUMB, s.memPerGPUMB].compactMap({ $0 }).count > 1 {
            throw .invalid("give one of --mem, --mem-per-cpu and --mem-per-gpu")
        }
        if let m = s.memMB {
            guard m >= 0 else { throw .invalid("--mem must not be negative") }
            request.memory = .perNode(m)
        }
        if let m = s.memPerCPUMB {
            guard m >= 0 else { throw .invalid("--mem-per-cpu must not be negative") }
            request.memory = .perCPU(m)
        }
        if [s.gpus, s.gpusPerTask, s.gpusPerJob].compactMap({ $0 }).count > 1 {
            throw .invalid("give one of --gpus, --gpus-per-node and --gpus-per-task")
        }
        if let total = s.gpusPerJob {
            // sbatch's --gpus is the job's total: CHESS gives each node its even share.
            guard total >= 0 else { throw .invalid("--gpus must not be negative") }
            let nodes = max(s.nodes ?? 1, 1)
            guard total % nodes == 0 else {
                throw .invalid("--gpus=\(total) does not divide evenly over \(nodes) nodes: give --gpus-per-node (CHESS gives each node the same number)")
            }
            if total > 0 { request.gpus = GPURequest(count: total / nodes, per: .perNode, type: s.gpuType) }
        }
        if let g = s.gpus {
            guard g >= 0 else { throw .invalid("--gpus must not be negative") }
            if g > 0 { request.gpus = GPURequest(count: g, per: .perNode, type: s.gpuType) }
        }
        if let g = s.gpusPerTask {
            guard g >= 0 else { throw .invalid("--gpus-per-task must not be negative") }
            if g > 0 { request.gpus = GPURequest(count: g, per: .perTask, type: s.gpuType) }
        }
        if let m = s.memPerGPUMB {
            guard m >= 0 else { throw .invalid("--mem-per-gpu must not be negative") }
            guard request.gpus != nil else { throw .invalid("--mem-per-gpu needs GPUs (--gpus-per-node, --gpus-per-task or --gres=gpu)") }
            request.memory = .perGPU(m)
        }
        if let c = s.cpusPerGPU {
            guard c >= 1 else { throw .invalid("--cpus-per-gpu must be at least 1, got \(c)") }
            guard request.gpus != nil else { throw .invalid("--cpus-per-gpu needs GPUs (--gpus-per-node, --gpus-per-task or --gres=gpu)") }
            guard s.cpusPerTask == nil else { throw .invalid("give --cpus-per-task or --cpus-per-gpu, not both") }
            request.cpusPerGPU = c
        }
        request.exclusive = s.exclusive
        // The partition's default memory for a job that asks for none (DefMemPerCPU/DefMemPerNode).
        if request.memory == nil {
            if let m = partition.defMemPerCPU { request.memory = .perCPU(m) } else if let m = partition.defMemPerNode { request.memory = .perNode(m) }
        }
        if let c = s.constraint {
            guard let e = FeatureExpression(c) else { throw .invalid("--constraint '\(c)' is not a feature expression such as ib&avx2 or a100|h100") }
            request.constraint = e
        }
        request.reservation = s.reservation
        try checkReservation(request, account: accountName)
        try applyNodeLists(nodelist: s.nodelist, exclude: s.exclude, to: &request, partition: partition)

        // Time limit: the partition's default, capped by the partition and the QoS.
        if let t = s.timeLimit, t < 1 { throw .invalid("--time must be at least one second") }
        request.timeLimit = s.timeLimit ?? partition.defaultTime ?? partition.maxTime ?? qos.limits.maxWall
        try checkFits(request, partition: partition, qos: qos, account: accountName)

        var job = Job(id: id, name: s.name ?? "job", user: identity.user, account: accountName, partition: partition.name,
                      qos: qos.name, request: request, submitTime: now)
        if let b = s.begin, b > now { job.beginTime = b }
        job.hold = s.hold ?? false
        if let p = s.priority {
            guard identity.admin else { throw .forbidden("only an administrator may set a job's priority") }
            job.priorityOverride = p
        }
        job.nice = try checkNice(s.nice)
        if let text = s.licenses, !text.isEmpty {
            let wanted: [String: Int]
            do { wanted = try JobSpecSyntax.licenses(text) } catch { throw .invalid("\(error)") }
            for (name, count) in wanted.sorted(by: { $0.key < $1.key }) {
                guard let total = cluster.licenses[name] else {
                    let known = cluster.licenses.keys.sorted().joined(separator: ", ")
                    throw .invalid("invalid license '\(name)'; licenses: \(known.isEmpty ? "none are configured" : known)")
                }
                guard count <= total else { throw .invalid("--licenses: \(count) \(name) asked for, the cluster has \(total)") }
            }
            job.request.licenses = wanted
        }
        var record = JobRecord(job: job)
        if let d = s.dependency, !d.isEmpty {
            do {
                let parsed = try JobSpecSyntax.dependencies(d)
                for dep in parsed.dependencies {
                    for target in dep.jobs where !jobExists(target) {
                        throw APIError.invalid("job dependency problem: job \(target) does not exist")
                    }
                }
                record.job.dependencies = parsed.dependencies
                record.job.singleton = parsed.singleton
                record.dependencyText = d
            } catch let e as JobSpecSyntax.Error {
                throw .invalid(e.description)
            } catch let e as APIError {
                throw e
            } catch {
                throw .invalid("\(error)")
            }
        }
        var taskCount = 1
        if let a = s.array {
            do { record.job.array = try JobSpecSyntax.array(a) } catch { throw .invalid("\(error)") }
            record.arrayExpression = a
            taskCount = record.job.array!.pending.count
        }
        try checkSubmitLimit(qos, adding: taskCount)
        record.uid = identity.uid
        record.gid = identity.gid
        record.workdir = s.workdir
        record.output = s.output
        record.error = s.error
        record.eligibleTime = nil
        record.requeue = s.requeue
        if let mode = s.openMode {
            guard mode == "append" || mode == "truncate" else { throw .invalid("--open-mode: '\(mode)' is not append or truncate") }
            record.appendOutput = mode == "append"
        }
        if let text = s.signal {
            do { record.warningSignal = try WarningSignal(parsing: text) } catch { throw .invalid(error.description) }
        }
        let recipient = try s.mailUser.map { user throws(APIError) in try Self.mailRecipient(user) }
        if let text = s.mailType {
            let types: MailType
            do throws(MailType.Error) { types = try MailType(parsing: text) } catch { throw .invalid(error.description) }
            if !types.isEmpty {
                // Slurm's default recipient is the submitting user, at MailDomain when there is one.
                var to = recipient ?? record.job.user
                if let domain = mailDomain, !to.contains("@") { to += "@\(domain)" }
                record.mail = MailRequest(types: types, recipient: to)
            }
        }
        return record
    }

    /// `--mail-user`: addresses or user names, comma-separated (real scripts write
    /// `<netid>@example.edu`, which Slurm passes on as it is). The mail program runs as chessd's
    /// user with this as one argument, never through a shell: what is refused is what could read
    /// as an option (a leading `-`), blanks and control characters (a newline would start a mail
    /// header), and anything beyond printable ASCII.
    package static func mailRecipient(_ text: String) throws(APIError) -> String {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !text.isEmpty, text.utf8.count <= 1024, parts.count <= 16,
              parts.allSatisfy({ !$0.isEmpty && $0.first != "-" && $0.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) } }) else {
            throw .invalid("--mail-user=\(String(text.prefix(80)).debugDescription): expected a mail address or user name (or several, comma-separated), none starting with '-', no blanks")
        }
        return text
    }

    /// Every number of a submission within `InputLimits`, before any arithmetic is done with it
    /// (the lower bounds and the rules between fields are checked where each is used).
    package static func checkBounds(_ s: JobSubmission) throws(APIError) {
        typealias L = InputLimits
        do {
            try L.check(s.nodes, Int.min...L.nodes, "--nodes")
            try L.check(s.ntasks, Int.min...L.tasks, "--ntasks")
            try L.check(s.ntasksPerNode, Int.min...L.tasks, "--ntasks-per-node")
            try L.check(s.cpusPerTask, Int.min...L.cpusPerTask, "--cpus-per-task")
            try L.check(s.cpusPerGPU, Int.min...L.cpusPerTask, "--cpus-per-gpu")
            try L.check(s.memMB, Int.min...L.memoryMB, "--mem (MiB)")
            try L.check(s.memPerCPUMB, Int.min...L.memoryMB, "--mem-per-cpu (MiB)")
            try L.check(s.memPerGPUMB, Int.min...L.memoryMB, "--mem-per-gpu (MiB)")
            try L.check(s.gpus, Int.min...L.gpus, "--gpus-per-node")
            try L.check(s.gpusPerJob, Int.min...L.gpus, "--gpus")
            try L.check(s.gpusPerTask, Int.min...L.gpus, "--gpus-per-task")
            try L.check(s.timeLimit, Int.min...L.seconds, "--time (seconds)")
            try L.check(s.begin, 0...L.timestamp, "--begin (Unix seconds)")
            try L.check(s.priority, 0...L.priority, "--priority")
            try L.check(s.nice, -maxNice...maxNice, "--nice")
        } catch {
            throw .outOfRange(error)
        }
    }

    /// A request within a partition's MaxTime and a QoS's MaxWall, in a shape that some of the
    /// partition's nodes can hold (now or later), within the QoS's MaxTRESPerJob, the
    /// partition's node and memory maxima and the account's GrpTRES.
    package func checkFits(_ request: JobRequest, partition: Partition, qos: QoS, account: String) throws(APIError) {
        if let t = request.timeLimit, let max = partition.maxTime, t > max {
            throw .invalid("requested time limit \(SlurmTime.duration(t)) exceeds partition '\(partition.name)' MaxTime \(SlurmTime.duration(max))")
        }
        if let t = request.timeLimit, let max = qos.limits.maxWall, t > max {
            throw .invalid("requested time limit \(SlurmTime.duration(t)) exceeds QoS '\(qos.name)' MaxWall \(SlurmTime.duration(max))")
        }

        // The shape must fit somewhere in the partition, now or later.
        let candidates = (index.nodeClasses[partition.name] ?? []).filter { c in
            (request.constraint?.matches(c.features) ?? true) && (request.gpus?.type.map { c.gpuTypes.contains($0) } ?? true)
        }
        guard !candidates.isEmpty else {
            throw .invalid("requested node configuration is not available: no node of partition '\(partition.name)' has the features or GPU type asked for")
        }
        let largest = candidates.map(\.capacity.cores).max()!
        guard let shape = request.shape(coresPerNode: largest, exclusiveByDefault: partition.exclusiveByDefault) else {
            throw .invalid("requested node configuration is not available: \(request.tasksPerNode ?? request.tasks ?? 1) task(s) × \(request.cpusPerTask) CPU(s) per node exceed the largest node of partition '\(partition.name)' (\(largest) cores)")
        }
        let fitting = candidates.filter { $0.capacity.covers(shape.perNode) }.reduce(0) { $0 + $1.count }
        guard fitting >= shape.nodeCount else {
            throw .invalid("requested node configuration is not available: \(shape.nodeCount) node(s) with \(shape.perNode.cores) cores, \(shape.perNode.memoryMB) MiB and \(shape.perNode.gpus) GPU(s) each; partition '\(partition.name)' has \(fitting) such node(s)")
        }
        if !qos.limits.maxTRESPerJob.allows(shape.tres) {
            throw .invalid("the job exceeds QoS '\(qos.name)' MaxTRESPerJob")
        }
        // A job bigger than its account's (or a parent's) GrpTRES could never start.
        for a in cluster.accountChain(account) where !a.grpTRES.allows(shape.tres) {
            throw .invalid("the job exceeds account '\(a.name)' GrpTRES (what its running jobs may hold together)")
        }
        if let most = partition.maxNodes, shape.nodeCount > most {
            throw .invalid("the job's \(shape.nodeCount) nodes exceed partition '\(partition.name)' MaxNodes \(most)")
        }
        if let most = partition.maxMemPerNode, shape.perNode.memoryMB > most {
            throw .invalid("the job's \(shape.perNode.memoryMB) MiB per node exceed partition '\(partition.name)' MaxMemPerNode \(most) MiB")
        }
        if let most = partition.maxMemPerCPU, shape.perNode.cores > 0, shape.perNode.memoryMB > most * shape.perNode.cores {
            throw .invalid("the job's memory per CPU exceeds partition '\(partition.name)' MaxMemPerCPU \(most) MiB")
        }
        try checkNodeLists(request, shape: shape, partition: partition)
    }

    /// The nodes of `--nodelist` are in the partition and each can hold the job; those left by
    /// `--exclude` are enough for it.
    package func checkNodeLists(_ request: JobRequest, shape: JobShape, partition: Partition) throws(APIError) {
        let excluded = Set(request.excludedNodes ?? [])
        func holds(_ node: Node) -> Bool {
            (request.constraint?.matches(node.features) ?? true) && (request.gpus?.type.map { node.topology.gpuTypes.contains($0) } ?? true)
                && node.topology.capacity.covers(shape.perNode)
        }
        for name in request.requiredNodes ?? [] {
            guard !excluded.contains(name) else { throw .invalid("node \(name) is in both --nodelist and --exclude") }
            guard partition.nodes.contains(name) else {
                throw .invalid("node \(name) of --nodelist is not in partition '\(partition.name)'")
            }
            guard let node = index.node(name), holds(node) else {
                throw .invalid("requested node configuration is not available: node \(name) of --nodelist cannot hold \(shape.perNode.cores) cores, \(shape.perNode.memoryMB) MiB and \(shape.perNode.gpus) GPU(s), or lacks the features or GPU type asked for")
            }
        }
        if !excluded.isEmpty {
            let left = partition.nodes.filter { !excluded.contains($0) }.compactMap(index.node).filter(holds).count
            guard left >= shape.nodeCount else {
                throw .invalid("requested node configuration is not available: without the nodes of --exclude, partition '\(partition.name)' has \(left) node(s) that can hold the job, which asks for \(shape.nodeCount)")
            }
        }
    }

    /// Sets `--nodelist` and `--exclude` (host lists; nil leaves one as it is, empty removes it).
    /// As in Slurm, the named nodes are a minimum node count: a request without `--nodes` asks
    /// for at least as many nodes as it names.
    package func applyNodeLists(nodelist: String?, exclude: String?, to request: inout JobRequest, partition: Partition) throws(APIError) {
        if let exclude { request.excludedNodes = try nodeNames(exclude, "--exclude") }
        guard let nodelist else { return }
        request.requiredNodes = try nodeNames(nodelist, "--nodelist")
        guard let required = request.requiredNodes else { return }
        if let n = request.nodes, n < required.count {
            throw .invalid("--nodes=\(n) is fewer than the \(required.count) nodes of --nodelist")
        }
        if request.nodes == nil {
            let implied = index.shape(partition: partition.name, request: request)?.nodeCount ?? 1
            request.nodes = max(implied, required.count)
        }
    }

    /// A `--nice` value within Slurm's range; a negative one (a higher priority) is an
    /// administrator's. 0 is stored as none.
    package func checkNice(_ nice: Int?) throws(APIError) -> Int? {
        guard let nice else { return nil }
        guard nice >= -Self.maxNice && nice <= Self.maxNice else { throw .invalid("--nice must be between -\(Self.maxNice) and \(Self.maxNice), got \(nice)") }
        guard nice >= 0 || identity.admin else { throw .forbidden("only an administrator may set a negative nice (a higher priority)") }
        return nice == 0 ? nil : nice
    }

    /// Slurm's bound (NICE_OFFSET − 3).
    package static let maxNice = 2_147_483_645

    /// The names of a `--nodelist` or `--exclude` host list, each a node of the cluster.
    package func nodeNames(_ text: String?, _ option: String) throws(APIError) -> [String]? {
        guard let text, !text.isEmpty else { return nil }
        let names: [String]
        do { names = try HostList.expand(text) } catch { throw .invalid("\(option): \(error)") }
        if let unknown = names.first(where: { index.node($0) == nil }) {
            throw .invalid("\(option): there is no node named '\(unknown)'")
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// The partition, QoS and account a job names (each defaulted when not named), checked
    /// against each other: each exists, the partition allows the QoS and the account.
    package func placement(partition p: String?, qos q: String?, account a: String?) throws(APIError) -> (Partition, QoS, String) {
        let partitionName = p ?? defaultPartition
        guard let partition = cluster.partition(named: partitionName) else {
            throw .invalid("invalid partition '\(partitionName)'; partitions: \(cluster.partitions.map(\.name).joined(separator: ", "))")
        }
        let qosName = q ?? defaultQoS(for: partition)
        guard let qos = cluster.qos(named: qosName) else {
            throw .invalid("invalid QoS '\(qosName)'; QoS: \(cluster.qos.map(\.name).joined(separator: ", "))")
        }
        if let allowed = partition.allowedQoS, !allowed.contains(qos.name) {
            throw .invalid("partition '\(partition.name)' does not allow QoS '\(qos.name)'; it allows: \(allowed.sorted().joined(separator: ", "))")
        }
        let accountName = a ?? defaultAccount()
        guard let account = cluster.accounts.first(where: { $0.name == accountName }) else {
            throw .invalid("invalid account '\(accountName)'; accounts: \(cluster.accounts.map(\.name).joined(separator: ", "))")
        }
        guard identity.admin || account.admits(identity.user) else {
            let open = cluster.accounts.filter { $0.admits(identity.user) }.map(\.name)
            throw .forbidden("user \(identity.user) may not use account '\(accountName)' (not among its users); "
                + (open.isEmpty ? "no account admits \(identity.user): ask an administrator to add the user to one"
                                : "accounts open to \(identity.user): \(open.joined(separator: ", "))"))
        }
        if let allowed = partition.allowedAccounts, !allowed.contains(accountName) {
            throw .invalid("partition '\(partition.name)' does not allow account '\(accountName)'")
        }
        return (partition, qos, accountName)
    }

    /// A drained or inactive partition takes no new jobs (its queued ones stay).
    package func checkTakesJobs(_ partition: Partition) throws(APIError) {
        guard partition.state.takesJobs else {
            throw .invalid("partition '\(partition.name)' is \(partition.state.rawValue.uppercased()): it takes no new jobs")
        }
    }

    /// The reservation a request names exists and admits the user (or is used by an administrator)
    /// with `account`.
    package func checkReservation(_ request: JobRequest, account: String) throws(APIError) {
        guard let r = request.reservation else { return }
        guard let res = cluster.reservations.first(where: { $0.name == r }) else { throw .invalid("reservation '\(r)' does not exist") }
        guard identity.admin || res.admits(user: identity.user, account: account) else {
            throw .invalid("reservation '\(r)' does not admit user \(identity.user) or account \(account)")
        }
    }

    /// MaxSubmitJobsPerUser of `qos` with `taskCount` more jobs of the user in it.
    package func checkSubmitLimit(_ qos: QoS, adding taskCount: Int) throws(APIError) {
        if let max = qos.limits.maxSubmitJobsPerUser, liveJobsOfUser(qos.name) + taskCount > max {
            throw APIError(status: 422, code: "limit_exceeded",
                           message: "QoS '\(qos.name)' allows \(max) submitted jobs per user (MaxSubmitJobsPerUser); \(identity.user) has \(liveJobsOfUser(qos.name))")
        }
    }

    /// The account of a job that names none (Slurm's DefaultAccount): the first that lists the
    /// user among its users, else `default` or the first account open to every user.
    package func defaultAccount() -> String {
        let accounts = cluster.accounts
        if let member = accounts.first(where: { $0.users?.contains(identity.user) == true }) { return member.name }
        if let open = accounts.first(where: { $0.name == "default" && $0.users == nil }) ?? accounts.first(where: { $0.users == nil }) {
            return open.name
        }
        return accounts.contains { $0.name == "default" } ? "default" : accounts.first?.name ?? "default"
    }

    package func defaultQoS(for partition: Partition) -> String {
        if let allowed = partition.allowedQoS, !allowed.contains("normal"), let first = allowed.sorted().first { return first }
        return cluster.qos(named: "normal") != nil ? "normal" : cluster.qos.first?.name ?? "normal"
    }
}
