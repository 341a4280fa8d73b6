import Billing
import ChessAPI
import ControllerCore
import Foundation
import GRDB
import HTTPServer
import MarketBridge
import SchedulerCore

/// Prices, quotes, funded jobs, settlements, oracle prices, SLA figures and invoices.
extension Controller {
    func requireMarket() throws(APIError) -> MarketRuntime {
        guard let market else { throw .notFound("this cluster does not sell on the marketplace (no [market] in its configuration)") }
        return market
    }

    // MARK: Prices and quotes

    func priceList() -> PriceListResponse {
        lock.lock()
        defer { lock.unlock() }
        let prices = effective.prices.partitions.keys.sorted().map { PriceInfo(partition: $0, prices: effective.prices.partitions[$0]!) }
        return PriceListResponse(prices: prices, policy: effective.billing,
                                 usageFactors: Dictionary(uniqueKeysWithValues: index.cluster.qos.map { ($0.name, $0.usageFactorPermille) }))
    }

    /// `chessctl price set`: a partition update of its `prices`, checked, stored and replayed
    /// like every runtime change.
    func setPrices(_ partition: String, _ prices: PriceList, identity: Identity) throws(APIError) -> PriceInfo {
        let node: DocumentNode
        do { node = try WireJSON.decode(DocumentNode.self, from: WireJSON.encode(prices)) } catch { throw .internal("\(error)") }
        try changeObject(.partitions, partition, .update(["prices": node]), identity: identity)
        lock.lock()
        defer { lock.unlock() }
        return PriceInfo(partition: partition, prices: effective.prices.partitions[partition] ?? prices)
    }

    /// The price of a validated job over its time limit, and the escrow it needs.
    func quoteLocked(_ record: JobRecord, index: ClusterIndex) throws(APIError) -> QuoteResponse {
        let job = record.job
        guard let prices = effective.prices.prices(for: job.partition) else {
            throw .invalid("partition \(job.partition) is not for sale on the marketplace (it has no prices)")
        }
        guard let partition = index.cluster.partition(named: job.partition) else { throw .invalid("no partition \(job.partition)") }
        guard let limit = job.request.timeLimit ?? partition.defaultTime ?? partition.maxTime else {
            throw .invalid("a marketplace job needs a time limit (--time): the escrow covers the price over it")
        }
        let factor = index.cluster.qos(named: job.qos)?.usageFactorPermille ?? 1000
        let resources = BillableResources(job: job, tres: index.tres(of: job), exclusive: job.request.exclusive ?? partition.exclusiveByDefault)
        guard let price = prices.charge(resources, seconds: Int64(limit), usageFactorPermille: Int64(factor)),
              let required = effective.billing.requiredEscrow(price: price) else {
            throw .invalid("the price of this job does not fit in 64 bits of micro-USDC")
        }
        return QuoteResponse(partition: job.partition, qos: job.qos, resources: resources, timeLimit: limit, price: price,
                             requiredEscrow: required, usageFactorPermille: factor)
    }

    func quote(_ submission: JobSubmission, token: MarketTable.Token) throws(APIError) -> QuoteResponse {
        let identity = try marketIdentity(token)
        lock.lock()
        defer { lock.unlock() }
        let record = try validatorLocked(identity: identity, now: clock.now()).validate(marketSubmission(submission), id: nextID)
        return try quoteLocked(record, index: index)
    }

    /// Marketplace jobs run as the token's local user, charged to `[market] account` unless they name one.
    func marketIdentity(_ token: MarketTable.Token) throws(APIError) -> Identity {
        guard let (uid, gid) = Identity.lookUp(user: token.user) else {
            throw .unavailable("token '\(token.name)' runs jobs as '\(token.user)', who is not a user on this controller's host")
        }
        // Strangers' code never runs as root (a token made before this was refused at creation).
        guard uid != 0 else { throw .forbidden("token '\(token.name)' would run jobs as root; make one for an unprivileged user") }
        return Identity(user: token.user, uid: uid, gid: gid, admin: false)
    }

    private func marketSubmission(_ s: JobSubmission) throws(APIError) -> JobSubmission {
        var s = s
        if s.account == nil { s.account = market?.settings.account }
        guard s.array == nil else { throw .invalid("marketplace jobs are single jobs: submit one funded job per array task") }
        return s
    }

    // MARK: Funded jobs

    func submitMarket(_ m: MarketSubmission, token: MarketTable.Token,
                      completion: @escaping @Sendable (Result<Int, APIError>) -> Void) {
        let identity: Identity
        let submission: JobSubmission
        do {
            _ = try requireMarket()
            identity = try marketIdentity(token)
            submission = try marketSubmission(m.job)
        } catch { return completion(.failure(error)) }
        guard let payer = EthereumAddress(m.escrow.payer) else {
            return completion(.failure(.badRequest("escrow.payer is not an Ethereum address (0x + 40 hex digits; a mixed-case one needs a valid EIP-55 checksum)")))
        }
        let escrow = EscrowRecord(escrowID: m.escrow.escrowID.lowercased(), payer: payer, amount: m.escrow.amount,
                                  transaction: m.escrow.transaction.lowercased(), discount: m.escrow.discount ?? BasisPoints(0))
        submit(submission, identity: identity, prepare: { [self] record, index throws(APIError) in
            let q = try quoteLocked(record, index: index)
            if let problem = escrow.problem(requiredEscrow: q.requiredEscrow, policy: effective.billing) {
                throw APIError(status: 402, code: "escrow_insufficient", message: problem)
            }
            var state = EscrowState.quoted
            do { state = try state.applying(.fund) } catch { throw .internal("\(error)") }
            let prices = effective.prices.prices(for: record.job.partition)!
            let terms = SettlementCalculator.Terms(escrow: escrow, prices: prices, usageFactorPermille: Int64(q.usageFactorPermille))
            do {
                record.market = MarketJob(funding: try MarketFunding(terms: terms, token: token.name, fundedAt: clock.now(), quote: q),
                                          escrowState: state)
            } catch { throw .internal("\(error)") }
            // Claimed here, under the lock, so that two submissions of one escrow cannot both pass.
            guard liveEscrows.insert(escrow.escrowID).inserted else {
                throw .conflict("escrow \(escrow.escrowID) already funds a live job")
            }
        }, completion: completion)
    }

    /// A marketplace job as `token` may see it: its own (or any, for an admin token or nil, an
    /// administrator); another token's job is not found.
    func marketJob(_ id: JobID, token: MarketTable.Token?) throws(APIError) -> MarketJobStatus {
        let found: JobRecord?
        do { found = try lookup(JobReference(id: id, task: nil)) } catch { throw .internal("store: \(error)") }
        guard let r = found, let m = r.market, MarketGate.sees(m.funding.token, as: token) else {
            throw .notFound("job \(id) is not a marketplace job of this token's")
        }
        var s = MarketJobStatus(id: r.id, state: r.job.state.rawValue, escrowState: m.escrowState.rawValue,
                                escrowID: m.terms.escrow.escrowID, submitTime: r.job.submitTime)
        s.reason = r.job.state.isWaiting ? r.job.reason?.rawValue : r.endReason
        s.startTime = m.firstStart
        s.endTime = r.job.endTime
        s.startLatency = m.startLatency
        s.settlementID = m.settlementID
        s.quote = m.quote
        return s
    }

    // MARK: Settlement

    /// Prices a marketplace job that has just ended and, with a good oracle price, adds its
    /// rewards. Called under the lock by `applyLocked` for each job a rule ended; the signature is made by
    /// `signSettlements` after the lock is released, before the transaction that stores the
    /// job's end.
    func settleLocked(_ r: inout JobRecord, now: Int, reason: String) {
        guard let market, var m = r.market else { return }
        let partition = index.cluster.partition(named: r.job.partition)
        let tres = r.job.allocation?.tres ?? TRES()
        let resources = BillableResources(job: r.job, tres: tres, exclusive: r.job.request.exclusive ?? partition?.exclusiveByDefault ?? false)
        do {
            var s = try market.calculator.settle(jobID: r.id, terms: m.terms, allocated: resources, runs: m.runs, endTime: now, reason: reason)
            if case .accepted(let price, _) = market.oracle.evaluate(Array(oracleReadings.values), now: now) {
                market.calculator.reward(&s, cptPriceE8: price)
            }
            m.escrowState = try m.escrowState.applying(s.outcome == .settled ? .settle : .refund)
            m.settlement = s
        } catch {
            logger.error("settlement failed; the job's escrow stays open", metadata: ["job": "\(r.id)", "error": "\(error)"])
        }
        r.market = m
    }

    /// Signs the settlements of ended jobs that `settleLocked` gave their rewards, outside the
    /// controller's lock (a secp256k1 signature is the largest part of a settlement's cost) and
    /// before the transaction that stores the jobs' ends, so that the settlement is stored signed
    /// with its job's final state. Signing is deterministic (RFC 6979): the same settlement signs
    /// to the same bytes on any thread. One that fails to sign is stored unsigned and waits, as
    /// one without a price does (`signWaitingSettlements`).
    func signSettlements(_ records: inout [JobRecord]) {
        guard let market else { return }
        for i in records.indices {
            guard var s = records[i].market?.settlement, !s.isSigned, s.userReward != nil else { continue }
            do {
                try market.signer.sign(&s)
                records[i].market!.settlement = s
            } catch {
                logger.error("signing a settlement failed; it waits", metadata: ["job": "\(s.jobID)", "error": "\(error)"])
            }
        }
    }

    /// Signs the settlements that waited for a good price, if there is one now.
    func signWaitingSettlements(now: Int) {
        guard let market else { return }
        lock.lock()
        let verdict = market.oracle.evaluate(Array(oracleReadings.values), now: now)
        lock.unlock()
        guard case .accepted(let price, _) = verdict else { return }
        do {
            // Most price reports find nothing waiting: no write transaction for them.
            var waiting = try store.read { try MarketTable.unsigned(in: $0) }
            guard !waiting.isEmpty else { return }
            for i in waiting.indices {
                market.calculator.reward(&waiting[i], cptPriceE8: price)
                try market.signer.sign(&waiting[i])
            }
            let signed = waiting
            try store.writeAndWait { db in
                for s in signed { try MarketTable.sign(s, in: db) }
            }
        } catch {
            logger.error("signing waiting settlements failed", metadata: ["error": "\(error)"])
        }
    }

    /// Signed settlements after `after`; waits up to `wait` seconds for one when there is none.
    /// Blocks its thread: for the stream's own thread. A request's long poll goes through
    /// `settlementFeed(after:limit:wait:token:answer:)`, which holds none.
    func settlementFeed(after: Int, limit: Int, wait: Int, token: MarketTable.Token?) throws(APIError) -> SettlementFeed {
        let deadline = Date().addingTimeInterval(Double(min(max(wait, 0), 60)))
        while true {
            if let feed = try settlementFeedNow(after: after, limit: limit, token: token, deadline: deadline) { return feed }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The feed as a long poll that holds no thread while it waits: looked at again every
    /// 100 ms until a settlement comes or `wait` seconds pass; `answer` is called once.
    func settlementFeed(after: Int, limit: Int, wait: Int, token: MarketTable.Token?,
                        answer: @escaping @Sendable (Result<SettlementFeed, APIError>) -> Void) {
        let deadline = Date().addingTimeInterval(Double(min(max(wait, 0), 60)))
        @Sendable func look() {
            do {
                if let feed = try settlementFeedNow(after: after, limit: limit, token: token, deadline: deadline) {
                    return answer(.success(feed))
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.1, execute: look)
            } catch {
                answer(.failure(error))
            }
        }
        look()
    }

    /// One look at the feed: nil when it is empty and `deadline` has not passed.
    private func settlementFeedNow(after: Int, limit: Int, token: MarketTable.Token?, deadline: Date) throws(APIError) -> SettlementFeed? {
        let market = try requireMarket()
        let only = MarketGate.sees(nil, as: token) ? nil : token?.name
        let (rows, waiting): ([MarketTable.Row], Int)
        do {
            (rows, waiting) = try store.read { db in
                (try MarketTable.feed(after: after, limit: min(max(limit, 1), 1000), token: only, in: db),
                 try MarketTable.unsignedCount(in: db))
            }
        } catch { throw .internal("store: \(error)") }
        guard !rows.isEmpty || Date() >= deadline || stopping else { return nil }
        return SettlementFeed(settlements: rows.map(market.info), next: rows.last?.settlement.sequence ?? after, awaitingPrice: waiting)
    }

    /// Writes signed settlements after `after` as server-sent events (`id:` the feed sequence,
    /// `data:` the settlement as the feed gives it) as they are signed, with a comment line every
    /// 15 s of quiet; returns when the client goes away or chessd stops.
    func streamSettlements(after: Int, token: MarketTable.Token?, to out: ResponseStream) {
        var cursor = after
        while !stopping {
            guard let feed = try? settlementFeed(after: cursor, limit: 100, wait: 15, token: token) else { return }
            if feed.settlements.isEmpty {
                guard out.send(": no new settlement\n\n") else { return }
                continue
            }
            var text = ""
            for s in feed.settlements {
                text += "id: \(s.sequence ?? 0)\nevent: settlement\ndata: \(String(decoding: WireJSON.encode(s), as: UTF8.self))\n\n"
            }
            guard out.send(text) else { return }
            cursor = feed.next
        }
    }

    func settlement(id: String, token: MarketTable.Token?) throws(APIError) -> SettlementInfo {
        let market = try requireMarket()
        let row: MarketTable.Row?
        do {
            row = try store.read { db in
                if let job = Int(id) { return try MarketTable.find(job: job, in: db) }
                return try MarketTable.find(id: id, in: db)
            }
        } catch { throw .internal("store: \(error)") }
        guard let row, MarketGate.sees(row.token, as: token) else { throw .notFound("no settlement \(id) (give its 0x id or the job id)") }
        return market.info(row)
    }

    func settlements(start: Int, end: Int) throws(APIError) -> [SettlementInfo] {
        let market = try requireMarket()
        do { return try store.read { try MarketTable.ended(from: start, to: end, in: $0) }.map(market.info) } catch {
            throw .internal("store: \(error)")
        }
    }

    /// The marketplace has paid out a settlement: it leaves the set of unacknowledged ones.
    /// Acknowledging twice is harmless.
    func acknowledgeSettlement(id: String, token: MarketTable.Token?) throws(APIError) -> SettlementInfo {
        let current = try settlement(id: id, token: token)
        guard current.signature != nil else { throw .conflict("settlement \(id) is not signed yet (it waits for a good oracle price)") }
        let now = clock.now()
        do { try store.writeAndWait { try MarketTable.acknowledge(job: current.jobID, at: now, in: $0) } } catch {
            throw .unavailable("not stored: \(error)")
        }
        return try settlement(id: current.id, token: token)
    }

    /// Marks a settlement disputed (within the window); its amounts and signature stay as they are.
    func disputeSettlement(id: String, reason: String, token: MarketTable.Token?) throws(APIError) -> SettlementInfo {
        let market = try requireMarket()
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw .badRequest("a dispute needs a reason") }
        let now = clock.now()
        let row: MarketTable.Row?
        // By its 0x id or its job's id, as the other settlement routes take it.
        do { row = try store.read { db in try Int(id).map { try MarketTable.find(job: $0, in: db) } ?? MarketTable.find(id: id, in: db) } } catch {
            throw .internal("store: \(error)")
        }
        guard var s = row?.settlement, MarketGate.sees(row?.token, as: token) else { throw .notFound("no settlement \(id)") }
        guard now - s.endTime <= market.settings.disputeWindow else {
            throw .conflict("settlement \(id) was made \((now - s.endTime) / 3600) h ago; disputes close after \(market.settings.disputeWindow / 3600) h")
        }
        do { s.outcome = try s.outcome.applying(.dispute) } catch { throw .conflict("settlement \(id): \(error)") }
        s.dispute = Settlement.Dispute(openedAt: now, reason: reason)
        logger.warning("settlement disputed", metadata: ["settlement": "\(s.id)", "job": "\(s.jobID)", "reason": "\(reason)"])
        let disputed = s
        do { try store.writeAndWait { try MarketTable.dispute(disputed, at: now, in: $0) } } catch { throw .unavailable("not stored: \(error)") }
        return try settlement(id: s.id, token: token)
    }

    // MARK: Oracle

    func reportOraclePrice(source: String, _ report: OraclePriceReport) throws(APIError) -> OracleReading {
        let market = try requireMarket()
        guard market.oracle.sources.contains(source) else {
            throw .notFound("'\(source)' is not a configured price source (\(market.oracle.sources.joined(separator: ", ")))")
        }
        guard let price = Self.parsePriceE8(report.price), price > 0 else {
            throw .badRequest("price '\(report.price)' is not a positive USD amount with at most 8 decimals")
        }
        let now = clock.now()
        guard report.time <= now + 60 else { throw .badRequest("time \(report.time) is in the future") }
        let reading = OracleReading(source: source, priceE8: price, time: report.time)
        do { try store.writeAndWait { try MarketTable.save(reading, in: $0) } } catch { throw .unavailable("not stored: \(error)") }
        lock.lock()
        oracleReadings[source] = reading
        lock.unlock()
        signWaitingSettlements(now: now)
        return reading
    }

    /// `"0.25"` → 25_000_000.
    static func parsePriceE8(_ text: String) -> UInt64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = UInt64(parts[0]), parts[0].allSatisfy(\.isNumber) else { return nil }
        var fraction: UInt64 = 0
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 8, parts[1].allSatisfy(\.isNumber), let f = UInt64(parts[1]) else { return nil }
            fraction = f * UInt64(pow(10, Double(8 - parts[1].count)))
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100_000_000)
        return overflow ? nil : scaled + fraction
    }

    // MARK: SLA and invoices

    /// The provider's figures for a calendar month (UTC), `YYYY-MM`.
    func slaReport(month: String) throws(APIError) -> SLAReport {
        let market = try requireMarket()
        guard let (start, end) = Self.monthBounds(month) else { throw .badRequest("month must be YYYY-MM, got '\(month)'") }
        let now = clock.now()
        let rows: [JobRecord]
        let settled: [MarketTable.Row]
        let outage: Int
        do {
            (rows, settled, outage) = try store.read { db in
                (try JobTable.existing(from: start, to: end - 1, in: db),
                 try MarketTable.ended(from: start, to: end, in: db),
                 try MarketTable.outageSeconds(from: start, to: min(end, now), in: db))
            }
        } catch { throw .internal("store: \(error)") }
        var latencies: [Int] = []
        var failures = 0
        for r in rows {
            guard let m = r.market else { continue }
            if let first = m.firstStart, first >= start, first < end, let l = m.startLatency { latencies.append(l) }
            failures += m.runs.filter { $0.ended.isProviderSide && $0.end >= start && $0.end < end }.count
        }
        // Refunded in full after running: the SLA's early provider-side failures.
        let refunds = settled.count { !$0.settlement.runs.isEmpty && $0.settlement.billedSeconds == 0 && $0.settlement.outcome != .settled }
        latencies.sort()
        lock.lock()
        let nodeCount = index.cluster.nodes.count
        lock.unlock()
        let span = max(min(end, now) - start, 0) * nodeCount
        let upBasis = span == 0 ? 10_000 : (span - min(outage, span)) * 10_000 / span
        return SLAReport(month: month, jobsStarted: latencies.count,
                         startedPromptly: latencies.filter { $0 <= market.settings.promptStart }.count,
                         promptStartSeconds: market.settings.promptStart,
                         medianStartLatency: latencies.isEmpty ? nil : latencies[latencies.count / 2], maxStartLatency: latencies.last,
                         providerFailures: failures, slaRefunds: refunds, uptime: BasisPoints(Int64(upBasis)).description)
    }

    static func monthBounds(_ month: String) -> (Int, Int)? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1970...9999).contains(y), (1...12).contains(m) else { return nil }
        var c = DateComponents()
        c.year = y
        c.month = m
        c.day = 1
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        guard let s = cal.date(from: c), let e = cal.date(byAdding: .month, value: 1, to: s) else { return nil }
        return (Int(s.timeIntervalSince1970), Int(e.timeIntervalSince1970))
    }

    /// Invoices for jobs that ended in `[start, end)` in partitions with prices: a marketplace
    /// job at its settled cost, any other at the partition's prices and its QoS factor.
    func invoices(by subject: Invoice.Subject, start: Int, end: Int, names: Set<String>?) throws(APIError) -> [Invoice] {
        let rows: [JobRecord]
        var settledCost: [JobID: MicroUSDC] = [:]
        do {
            let settled: [MarketTable.Row]
            (rows, settled) = try store.read { db in
                (try String.fetchAll(db, sql: "SELECT record FROM jobs WHERE end_time >= ? AND end_time < ? ORDER BY id",
                                     arguments: [start, end]).map(JobTable.decode),
                 // A settlement's end time is its job's.
                 try MarketTable.ended(from: start, to: end, in: db))
            }
            for row in settled { settledCost[row.settlement.jobID] = row.settlement.split.cost }
        } catch { throw .internal("store: \(error)") }
        lock.lock()
        let prices = effective.prices
        let cluster = index.cluster
        lock.unlock()
        var charged: [ChargedJob] = []
        for r in rows {
            let j = r.job
            guard let a = j.allocation, let startTime = j.startTime, let endTime = j.endTime, j.array == nil else { continue }
            if let n = names, !n.contains(subject == .user ? j.user : j.account) { continue }
            let seconds = Int64(max(endTime - startTime, 0))
            let exclusive = j.request.exclusive ?? cluster.partition(named: j.partition)?.exclusiveByDefault ?? false
            let amount: MicroUSDC
            if let cost = settledCost[j.id] {
                amount = cost
            } else if let list = prices.prices(for: j.partition) {
                let factor = Int64(cluster.qos(named: j.qos)?.usageFactorPermille ?? 1000)
                amount = list.charge(BillableResources(job: j, tres: a.tres, exclusive: exclusive), seconds: seconds,
                                     usageFactorPermille: factor) ?? MicroUSDC(units: .max)
            } else { continue }
            charged.append(ChargedJob(jobID: j.id, user: j.user, account: j.account, partition: j.partition, endTime: endTime,
                                      seconds: seconds, coreSeconds: Int64(a.tres.cpus) * seconds,
                                      gpuSeconds: Int64(a.tres.gpus) * seconds, charge: amount))
        }
        return Invoice.build(charged, by: subject, start: start, end: end)
    }

    // MARK: Tokens

    func createToken(_ request: TokenRequest, identity: Identity) throws(APIError) -> TokenInfo {
        guard identity.admin else { throw .forbidden("only root or an operator may create marketplace tokens") }
        let market = try requireMarket()
        guard !request.name.isEmpty, request.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw .badRequest("token names use letters, digits, '-' and '_'")
        }
        let scopes = Set(request.scopes)
        let known = Set(MarketGate.Scope.allCases.map(\.rawValue))
        guard !scopes.isEmpty, scopes.isSubset(of: known) else {
            throw .badRequest("scopes must be some of: \(known.sorted().joined(separator: ", "))")
        }
        let user = request.user ?? market.settings.runAs
        guard let ids = Identity.lookUp(user: user) else { throw .badRequest("'\(user)' is not a user on this host; jobs could not run as it") }
        guard ids.uid != 0 else {
            throw .badRequest("marketplace jobs are strangers' code: a token cannot run them as root ('\(user)'); name an unprivileged user")
        }
        let secret = MarketGate.newSecret()
        let token = MarketTable.Token(name: request.name, hash: MarketGate.hash(secret), scopes: scopes, user: user,
                                      createdAt: clock.now(), revokedAt: nil)
        do {
            try store.writeAndWait { db in
                if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM market_tokens WHERE name = ?", arguments: [token.name]) != 0 {
                    throw APIError.conflict("token '\(token.name)' exists; revoke it or choose another name")
                }
                try MarketTable.save(token, in: db)
            }
        } catch let e as APIError { throw e } catch { throw .unavailable("not stored: \(error)") }
        market.gate.add(token)
        return TokenInfo(name: token.name, scopes: scopes.sorted(), user: user, createdAt: token.createdAt, token: secret)
    }

    func revokeToken(_ name: String, identity: Identity) throws(APIError) {
        guard identity.admin else { throw .forbidden("only root or an operator may revoke marketplace tokens") }
        let market = try requireMarket()
        let now = clock.now()
        do {
            try store.writeAndWait { db in
                guard var t = try MarketTable.tokens(in: db).first(where: { $0.name == name }) else { throw APIError.notFound("no token '\(name)'") }
                t.revokedAt = t.revokedAt ?? now
                try MarketTable.save(t, in: db)
            }
        } catch let e as APIError { throw e } catch { throw .unavailable("not stored: \(error)") }
        market.gate.revoke(name: name)
    }

    func tokens() throws(APIError) -> [TokenInfo] {
        do {
            return try store.read { try MarketTable.tokens(in: $0) }.map {
                TokenInfo(name: $0.name, scopes: $0.scopes.sorted(), user: $0.user, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
            }
        } catch { throw .internal("store: \(error)") }
    }
}
