import ChessWire
import Logging

/// The daemons' log handler: another handler (`StreamLogHandler` on standard error) with the
/// control characters of every message and metadata value shown as `?` (`TerminalText`).
///
/// Why: what the daemons log carries text from the other side — a marketplace's dispute
/// reason, an agent's or a step's refusal, a node's reason — and a line break in it wrote a
/// log line of the sender's making (`… info [chessd] settlement settled`), an escape sequence
/// acted on the terminal of whoever reads the log. Line breaks and tabs are neutralized too:
/// one event is one line.
public struct NeutralizingLogHandler<Inner: LogHandler>: LogHandler {
    public var inner: Inner

    public init(_ inner: Inner) { self.inner = inner }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue.mapValues(Self.neutralized) }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.neutralized) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(TerminalText.neutralized(event.message.description))"
        event.metadata = event.metadata?.mapValues(Self.neutralized)
        inner.log(event: event)
    }

    static func neutralized(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): return .string(TerminalText.neutralized(s))
        case .stringConvertible(let c): return .string(TerminalText.neutralized(c.description))
        case .array(let values): return .array(values.map(neutralized))
        case .dictionary(let values): return .dictionary(values.mapValues(neutralized))
        @unknown default: return .string(TerminalText.neutralized("\(value)"))
        }
    }
}
