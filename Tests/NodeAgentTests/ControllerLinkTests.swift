import ChessAPI
import Foundation
import Glibc
import Testing
@testable import NodeAgent

/// How an agent's link to chessd behaves when the controller misbehaves or vanishes.
@Suite("controller link") struct ControllerLinkTests {
    /// A controller that accepts the connection and then says nothing (its host hung, a
    /// half-open connection): the request fails after the answer timeout, with a clear error,
    /// instead of holding the agent's loop forever.
    @Test func aSilentControllerIsGivenUpAfterTheAnswerTimeout() throws {
        let (listener, port) = try TCPConnection.listenAnyPort()
        defer { close(listener) }
        let client = ControllerClient(tcp: HostPort("127.0.0.1:\(port)")!, signer: nil)
        client.answerTimeout = 0.3
        let started = ProcessInfo.processInfo.systemUptime
        var failure: ControllerClient.Failure?
        do {
            _ = try client.request("GET", "/v1/ping")
        } catch let e as ControllerClient.Failure {
            failure = e
        }
        #expect(failure?.code == "timeout", "\(String(describing: failure))")
        #expect(failure?.description.contains("no answer from chessd") == true)
        // Bounded by the timeout (with room for a loaded machine), not by the kernel's.
        #expect(ProcessInfo.processInfo.systemUptime - started < 20)
    }

    /// Reconnection waits double from half a second to 30 s and are spread over the upper half
    /// of each step, so that agents that lost the controller together come back apart.
    @Test func backoffDoublesToThirtySecondsWithJitter() {
        for failures in 1...12 {
            let ceiling = min(0.5 * Double(1 << min(failures - 1, 6)), 30)
            let pauses = (0..<200).map { _ in ControllerLink.backoff(after: failures) }
            #expect(pauses.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling }, "failure \(failures)")
            #expect(Set(pauses).count > 100, "no jitter at failure \(failures)")
        }
        #expect(ControllerLink.backoff(after: 20) <= 30)
    }
}
