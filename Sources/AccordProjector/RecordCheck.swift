import AccordBus
import AccordEvents
import AccordKafka
import AccordStore

/// The projector's verdict on one consumed record.
public enum RecordVerdict: Sendable {
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
    public func check(_ record: ConsumerRecord) -> RecordVerdict {
        do {
            let event = try record.decodeEvent(codec: codec)
            try event.validate()
            return .accepted(event)
        } catch {
            return .rejected(reason: error.description)
        }
    }
}

extension JournalEntry {
    /// The journal entry for `event`, read from `record`, keeping the record's bytes. The event
    /// id is the record's `ce_id` text exactly as received (it is hashed into the journal chain).
    public init(event: AccordEvent, record: ConsumerRecord) {
        let received = record.header("ce_id")?.stringValue
        let eventId = received.flatMap { $0.lowercased() == event.idString ? $0 : nil } ?? event.idString
        self.init(eventId: eventId, topic: record.topic, partition: record.partition,
                  offset: record.offset, source: event.source.urn, sequence: event.sequence, type: event.type,
                  subject: event.subject, time: event.time.description,
                  recordedAt: Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time).description,
                  key: record.key,
                  headers: record.headers.map { StoredHeader(name: $0.key, value: $0.value ?? []) },
                  value: record.value)
    }

    /// The Kafka record this entry was journaled from.
    public var consumerRecord: ConsumerRecord {
        ConsumerRecord(topic: topic, partition: partition, offset: offset, key: key, value: value,
                       headers: headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                       timestampMilliseconds: nil)
    }
}

extension Timestamp {
    /// The instant of a Kafka record timestamp (milliseconds since the epoch), or `fallback` when absent.
    static func fromKafka(milliseconds: Int64?, fallback: Timestamp) -> Timestamp {
        guard let milliseconds, milliseconds > 0 else { return fallback }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000) ?? fallback
    }
}
