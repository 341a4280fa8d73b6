import ChessAPI
import SchedulerCore

/// `chessctl show config` (scontrol show config): what chessd runs with now — the file's values
/// with runtime changes and a `reconfigure` applied, and what it read only at start.
extension Controller {
    func settings(version: String) -> SettingList {
        // The file as chessd runs it (what only a restart changes keeps its start value), and the
        // objects with the runtime changes applied.
        let c = configuration
        lock.lock()
        let objects = effective.cluster
        lock.unlock()
        let now = clock.now()
        var out: [SettingList.Setting] = []
        func add(_ key: String, _ value: String?) { out.append(.init(key, value ?? "(null)")) }
        add("Version", version)
        add("BootTime", SlurmTime.timestamp(startedAt))
        add("Uptime", "\(now - startedAt)s")
        add("ConfigurationFile", configPath)
        add("ClusterName", c.clusterName)
        add("StateSaveLocation", c.stateDirectory)
        add("Socket", c.socketPath)
        add("Listen", c.listen)
        add("ClusterKeyFile", c.keyFile)
        add("Operators", c.operators.isEmpty ? nil : c.operators.sorted().joined(separator: ","))
        add("PrivateData", c.privateData.isEmpty ? "none" : c.privateData.description)
        add("SchedulerType", c.planner.policy.rawValue)
        add("SchedulerInterval", "\(c.schedulerInterval)s")
        add("Preemption", c.planner.preemption ? "yes" : "no")
        add("DefaultPartition", c.defaultPartition)
        add("Nodes", "\(objects.nodes.count) (\(objects.nodes.reduce(0) { $0 + $1.topology.coreCount }) cores)")
        add("Partitions", objects.partitions.map(\.name).joined(separator: ","))
        add("QOS", objects.qos.map(\.name).joined(separator: ","))
        add("Accounts", objects.accounts.map(\.name).joined(separator: ","))
        add("Licenses", objects.licenses.isEmpty ? nil : JobSpecSyntax.licensesText(objects.licenses))
        add("HeartbeatTimeout", "\(c.heartbeatTimeout)s")
        let w = c.planner.effectiveWeights
        add("PriorityWeightAge", "\(w.age)")
        add("PriorityWeightFairshare", "\(w.fairShare)")
        add("PriorityWeightJobSize", "\(w.jobSize)")
        add("PriorityWeightPartition", "\(w.partition)")
        add("PriorityWeightQOS", "\(w.qos)")
        add("PriorityMaxAge", "\(w.maxAge)s")
        add("PriorityDecayHalfLife", "\(c.fairShareHalfLife)s")
        add("HealthCheckProgram", c.healthCheck?.program)
        add("HealthCheckInterval", c.healthCheck.map { "\($0.interval)s" })
        add("HealthCheckTimeout", c.healthCheck.map { "\($0.timeout)s" })
        add("Prolog", c.prolog)
        add("Epilog", c.epilog)
        add("PrologEpilogTimeout", "\(c.prologEpilogTimeout)s")
        add("MailProg", c.mailProgram ?? "(none)")
        add("MailDomain", c.mailDomain)
        add("PlatformFee", "\(c.billing.platformFee)")
        add("UserReward", "\(c.billing.userReward)")
        add("ProviderReward", "\(c.billing.providerReward)")
        add("EscrowBuffer", "\(c.billing.escrowBuffer)")
        add("Marketplace", c.market == nil ? "no" : "yes")
        if let m = c.market {
            add("MarketChainID", "\(m.chainID)")
            add("MarketEscrowContract", m.escrowContract)
            add("MarketRunAs", m.runAs)
            add("MarketRateLimit", "\(m.rateLimitPerMinute)/min per token")
        }
        return SettingList(settings: out)
    }

    /// scontrol show licenses: each license with what active jobs hold of it.
    func licenses() -> LicenseList {
        lock.lock()
        defer { lock.unlock() }
        var used: [String: Int] = [:]
        for r in records.values where r.job.state.isActive {
            for (name, count) in r.job.request.licenses ?? [:] { used[name, default: 0] += count }
        }
        return LicenseList(licenses: index.cluster.licenses.sorted { $0.key < $1.key }.map {
            LicenseList.License(name: $0.key, total: $0.value, used: used[$0.key] ?? 0)
        })
    }
}
