import ChessAPI
import Foundation

/// Commands waiting for each agent, and the heartbeats parked until there is one.
///
/// An agent's heartbeat doubles as a long poll: when nothing is queued the answer is held up
/// to the `wait` the agent asked for, and sent the moment a command arrives. That keeps
/// submit-to-launch latency at one round trip without the agent polling fast.
final class AgentLinks: @unchecked Sendable {
    private let lock = NSLock()
    private var queued: [String: [AgentCommand]] = [:]
    private var parked: [String: (token: Int, respond: @Sendable ([AgentCommand]) -> Void)] = [:]
    private var nextToken = 0

    func send(_ command: AgentCommand, to agent: String) {
        lock.lock()
        queued[agent, default: []].append(command)
        let waiter = parked.removeValue(forKey: agent)
        let commands = waiter != nil ? queued.removeValue(forKey: agent) ?? [] : []
        lock.unlock()
        waiter?.respond(commands)
    }

    /// Answers with the queued commands now, or when one arrives, or after `wait` seconds with none.
    func collect(for agent: String, wait: Int, respond: @escaping @Sendable ([AgentCommand]) -> Void) {
        lock.lock()
        if let commands = queued.removeValue(forKey: agent), !commands.isEmpty {
            lock.unlock()
            return respond(commands)
        }
        if wait <= 0 {
            lock.unlock()
            return respond([])
        }
        // A newer heartbeat replaces an older parked one (the agent gave up on it).
        let previous = parked.removeValue(forKey: agent)
        nextToken += 1
        let token = nextToken
        parked[agent] = (token, respond)
        lock.unlock()
        previous?.respond([])
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(wait)) { [self] in
            lock.lock()
            guard let waiter = parked[agent], waiter.token == token else {
                lock.unlock()
                return
            }
            parked[agent] = nil
            lock.unlock()
            waiter.respond([])
        }
    }

    /// Releases every parked heartbeat (shutdown).
    func releaseAll() {
        lock.lock()
        let waiters = parked.values
        parked.removeAll()
        lock.unlock()
        for w in waiters { w.respond([]) }
    }
}
