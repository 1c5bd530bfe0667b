import AccordEvents
import AccordIntegrity
import AccordKafka

/// What an outbox entry carries: an event of a chain, or a signed checkpoint of it.
enum OutboxEntryKind: Int, Sendable {
    /// A sealed CloudEvents record.
    case event = 0
    /// A signed `ChainCheckpoint` record.
    case checkpoint = 1
}

/// One record of the outbox, exactly as it is (or was) produced: the relay sends these in
/// outbox order, which is chain order on every partition.
struct OutboxEntry: Sendable {
    /// Position in the outbox (the order of acceptance).
    var seq: Int64
    /// Event or checkpoint.
    var kind: OutboxEntryKind
    /// The chain (and so the topic and partition) it belongs to.
    var chain: ChainID
    /// Chain position of an event; the count a checkpoint covers.
    var position: Int64
    /// The event hash of an event; SHA-256 of the record value of a checkpoint (its identity).
    var identity: Hash256
    /// When the service accepted it, in milliseconds since the epoch.
    var acceptedAtMilliseconds: Int64
    /// The record key.
    var key: [UInt8]?
    /// The record headers, in order.
    var headers: [MessageHeader]
    /// The record value.
    var value: [UInt8]
    /// The Kafka timestamp an imported event asked for (ms since the epoch); nil: when produced.
    var recordedAtMilliseconds: Int64? = nil

    /// The record to produce, timestamped with when the agency recorded it (`recordedtime`) or
    /// else when the service accepted it: the outbox knows every record's Kafka timestamp, so a
    /// record fetched from a chain range is the record Kafka holds, timestamp included.
    var producerRecord: ProducerRecord {
        ProducerRecord(topic: chain.topic, key: key, value: value,
                       headers: headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                       partition: chain.partition, timestampMilliseconds: recordedAtMilliseconds ?? acceptedAtMilliseconds)
    }
}

/// One chain as the outbox keeps it.
struct OutboxChain: Sendable, Hashable {
    /// Head, length and last sequence, including entries not yet sent.
    var writer: ChainWriter
    /// The count covered by the newest checkpoint written to the outbox.
    var checkpointed: Int64
    /// Outbox seq of the chain's newest entry.
    var lastSeq: Int64
    /// Every entry of the chain up to this outbox seq is acknowledged by Kafka.
    var sentThrough: Int64
    /// Kafka offset of the newest acknowledged entry, -1 when none is known.
    var lastOffset: Int64

    /// Events not covered by a checkpoint in the outbox.
    var uncovered: Int64 { writer.count - checkpointed }

    /// Whether the chain has entries Kafka has not acknowledged.
    var hasPending: Bool { lastSeq > sentThrough }
}

/// A delivery report the relay writes back: entry `seq` of `chain` is at `offset`.
struct OutboxDelivery: Sendable {
    var seq: Int64
    var chain: ChainID
    var offset: Int64
}
