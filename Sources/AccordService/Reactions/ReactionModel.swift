import AccordEvents
import AccordKafka

/// In-memory state a service derives from consumed events (its own and other agencies'),
/// rebuilt from the topics at every start. `apply` must be idempotent (an event may be seen
/// twice) and must not depend on the order of events from different topics or partitions.
public protocol ReactionModel: Sendable {
    /// Takes one event into account; `recordedAt` is when Kafka stored it (the record timestamp,
    /// or the acknowledgement time for events this service just published).
    func apply(_ event: AccordEvent, recordedAt: Timestamp)
    /// Takes several events into account at once, all recorded at `recordedAt` (a batch the
    /// intake just accepted); by default one by one.
    func apply(contentsOf events: [AccordEvent], recordedAt: Timestamp)
}

extension ReactionModel {
    /// Applies the events one by one.
    public func apply(contentsOf events: [AccordEvent], recordedAt: Timestamp) {
        for event in events { apply(event, recordedAt: recordedAt) }
    }
}

extension Timestamp {
    /// This instant plus whole days (unchanged if that leaves the representable range).
    func plusDays(_ days: Int) -> Timestamp {
        adding(seconds: Int64(days) * 86_400) ?? self
    }
}

extension ConsumerRecord {
    /// The record's broker timestamp as an instant, if it has one.
    var recordedAt: Timestamp? {
        guard let milliseconds = timestampMilliseconds, milliseconds >= 0 else { return nil }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000)
    }
}
