@testable import chessd
import ControllerCore
import Foundation
import SchedulerCore
import Testing

/// The node outages the provider's uptime is measured against, as the store records them from
/// the node states chessd writes.
@Suite("Provider uptime") struct ProviderUptimeTests {
    @Test func silentAgentsAndNodesSetDownAreOutDrainedOnesAreNot() throws {
        let directory = try SettlementStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        defer { store.close() }
        func record(_ s: NodeStatus, at time: Int) throws {
            try store.writeAndWait { try MarketTable.recordAvailability("n1", s, at: time, in: $0) }
        }
        func outage(until end: Int) throws -> Int { try store.read { try MarketTable.outageSeconds(from: 0, to: end, in: $0) } }
        let up = NodeStatus(adminState: .up, reason: nil, registered: true, lastHeartbeat: nil)
        var silent = up
        silent.registered = false
        silent.adminState = .down
        silent.reason = NodeStatus.silentPrefix + " for more than 30s"
        var setDown = up
        setDown.adminState = .down
        setDown.reason = "bad DIMM"
        setDown.adminSet = true
        var drained = up
        drained.adminState = .drain
        drained.reason = "kernel update"
        drained.adminSet = true
        var unregistered = up
        unregistered.registered = false
        unregistered.adminState = .down
        unregistered.reason = NodeStatus.notRegistered

        try record(up, at: 0)
        try record(silent, at: 100)
        try record(up, at: 130)                 // the agent registered again: 30 s out
        #expect(try outage(until: 1000) == 30)
        try record(setDown, at: 200)
        try record(setDown, at: 220)            // its agent registers while it is down: still out
        try record(up, at: 260)                 // resumed: 60 s more
        try record(drained, at: 300)            // drained: its jobs run on, not out
        try record(unregistered, at: 400)       // chessd restarted, the agent not back yet: not known to be out
        try record(up, at: 410)
        #expect(try outage(until: 1000) == 90)
        try record(setDown, at: 900)            // an outage still open counts up to the period's end
        #expect(try outage(until: 1000) == 190)
    }
}
