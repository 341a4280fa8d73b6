/// A bank account for fair share: its share of the machine relative to its siblings.
public struct Account: Sendable, Hashable, Codable {
    public var name: String
    public var parent: String?
    /// Raw shares (Slurm's `Fairshare=`); normalised against the sum of all accounts' shares.
    public var shares: Int
    /// The users who may submit under the account (Slurm's associations, enforced); nil lets
    /// every user. Administrators may use any account.
    public var users: Set<String>?
    /// Slurm's association GrpTRES and GrpJobs: what the running jobs of the account and of the
    /// accounts below it may hold together.
    public var grpTRES: TRESLimit
    public var grpJobs: Int?

    public init(name: String, parent: String? = nil, shares: Int = 1, users: Set<String>? = nil,
                grpTRES: TRESLimit = TRESLimit(), grpJobs: Int? = nil) {
        self.name = name
        self.parent = parent
        self.shares = shares
        self.users = users
        self.grpTRES = grpTRES
        self.grpJobs = grpJobs
    }

    /// The limit of the account's that `tres` more (and one more job) would break, given what
    /// its running jobs hold.
    public func grpReason(held: TRES, jobs: Int, adding tres: TRES) -> PendingReason? {
        if let most = grpJobs, jobs + 1 > most { return .assocGrpJobsLimit }
        let total = held + tres
        if let c = grpTRES.cpus, total.cpus > c { return .assocGrpCpuLimit }
        if let m = grpTRES.memoryMB, total.memoryMB > m { return .assocGrpMemLimit }
        if let g = grpTRES.gpus, total.gpus > g { return .assocGrpGRES }
        if let n = grpTRES.nodes, total.nodes > n { return .assocGrpNodeLimit }
        return nil
    }

    /// Whether `user` may submit under the account (administrators aside).
    public func admits(_ user: String) -> Bool { users?.contains(user) ?? true }
}

extension Cluster {
    /// An account and those above it, nearest first: the accounts whose limits a job of it counts against.
    public func accountChain(_ name: String) -> [Account] {
        var chain: [Account] = []
        var next: String? = name
        while let n = next, let a = accounts.first(where: { $0.name == n }), !chain.contains(where: { $0.name == n }) {
            chain.append(a)
            next = a.parent
        }
        return chain
    }
}

/// An advance reservation: whole nodes set aside for some users or accounts during a window.
///
/// A reservation asked for by amount (`cpus=128,gpus=8`) is pinned to nodes once, when it is
/// created (`pinNodes`), so that every later pass and the users see the same nodes.
public struct Reservation: Sendable, Hashable, Codable {
    public var name: String
    public var nodes: [String]
    /// What was asked for when the reservation was made by amount rather than by node names.
    public var requestedTRES: TRES?
    /// Seconds, half-open `[start, end)`.
    public var start: Int
    public var end: Int
    public var users: Set<String>
    public var accounts: Set<String>

    public init(name: String, nodes: [String], requestedTRES: TRES? = nil, start: Int, end: Int,
                users: Set<String> = [], accounts: Set<String> = []) {
        self.name = name
        self.nodes = nodes
        self.requestedTRES = requestedTRES
        self.start = start
        self.end = end
        self.users = users
        self.accounts = accounts
    }

    public func admits(user: String, account: String) -> Bool {
        users.contains(user) || accounts.contains(account)
    }

    /// Picks, in the given order, the fewest leading nodes whose capacity covers `tres`; nil when
    /// all of them together cannot.
    public static func pinNodes(for tres: TRES, among candidates: [Node]) -> [String]? {
        var picked: [String] = []
        var total = TRES.zero
        for node in candidates where node.acceptsJobs {
            if total.cpus >= tres.cpus && total.memoryMB >= tres.memoryMB && total.gpus >= tres.gpus
                && total.nodes >= tres.nodes && !picked.isEmpty { break }
            picked.append(node.name)
            let c = node.topology.capacity
            total = total + TRES(cpus: c.cores, memoryMB: c.memoryMB, gpus: c.gpus, nodes: 1)
        }
        guard total.cpus >= tres.cpus, total.memoryMB >= tres.memoryMB, total.gpus >= tres.gpus,
              total.nodes >= tres.nodes else { return nil }
        return picked
    }
}
