import AccordEvents
import AccordKafka

/// The verdict of ``RecordCheck`` on one consumed record.
public enum RecordCheckVerdict: Sendable {
    /// A well-formed event its topic's owner published.
    case accepted(AccordEvent)
    /// Anything else, with the reason that goes into the dead-letter header.
    case rejected(reason: String)
}

/// Checks consumed records before they reach the projection: the topic's owner must be
/// the event's `source`, the type and version must be known, the data must decode and
/// validate against its schema rules, and the payload must not be oversized.
public struct RecordCheck: Sendable {
    private let codec: EventCodec

    /// Creates a check with the given codec (its payload size limit applies).
    public init(codec: EventCodec = EventCodec()) {
        self.codec = codec
    }

    /// Checks one record.
    public func check(_ record: ConsumerRecord) -> RecordCheckVerdict {
        check(record.binaryMessage, topic: record.topic)
    }

    /// Checks one record's message, read from `topic`.
    public func check(_ message: BinaryMessage, topic: String) -> RecordCheckVerdict {
        do {
            let event = try codec.decodeBinary(message, topic: topic)
            try event.validate()
            return .accepted(event)
        } catch {
            return .rejected(reason: error.description)
        }
    }
}

extension Timestamp {
    /// The instant of a Kafka record timestamp (milliseconds since the epoch), or `fallback` when absent.
    public static func fromKafka(milliseconds: Int64?, fallback: Timestamp) -> Timestamp {
        guard let milliseconds, milliseconds > 0 else { return fallback }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000) ?? fallback
    }
}
