import DaemonLogging
import Logging
import Synchronization
import Testing

/// The daemons' log lines carry text from the other side (a marketplace's dispute reason, an
/// agent's refusal): one event stays one line, and no escape sequence reaches a reader's
/// terminal (`NeutralizingLogHandler`).
@Suite struct NeutralizingLogHandlerTests {
    final class Box: Sendable { let events = Mutex<[LogEvent]>([]) }

    /// Keeps what it is handed, as the stream handler would print it.
    struct Recorder: LogHandler {
        let box: Box
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { box.events.withLock { $0.append(event) } }
    }

    @Test func aForgedLineAndEscapeSequencesStayInTheirEvent() throws {
        let box = Box()
        var logger = Logger(label: "chessd") { _ in NeutralizingLogHandler(Recorder(box: box)) }
        logger[metadataKey: "node"] = "n1\nforged"
        let reason = "x\n2026-12-08T00:00:00+0000 info [chessd] settlement settled\u{1B}]0;pwned\u{07}"
        logger.warning("settlement disputed\u{1B}[2J", metadata: ["reason": "\(reason)", "jobs": .array(["1\n2"]), "n": .stringConvertible(7)])
        let event = try #require(box.events.withLock { $0.first })
        #expect(event.message.description == "settlement disputed?[2J")
        #expect(event.metadata?["reason"] == .string("x?2026-12-08T00:00:00+0000 info [chessd] settlement settled?]0;pwned?"))
        #expect(event.metadata?["jobs"] == .array([.string("1?2")]))
        #expect(event.metadata?["n"] == .string("7"))
        #expect(logger[metadataKey: "node"] == .string("n1?forged"))
    }
}
