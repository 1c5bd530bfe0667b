import AccordBus
import AccordEvents
import AccordKafka

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

    /// The instant the entry was recorded, falling back to `fallback` (the event time) when unreadable.
    public func recordedInstant(fallback: Timestamp) -> Timestamp {
        Timestamp(rfc3339: recordedAt) ?? fallback
    }
}

