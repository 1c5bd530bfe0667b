import AccordEvents
import AccordKafka

/// The broker's acknowledgement of one published event, as the intake reports it.
public struct Acknowledgement: Sendable, Hashable, Codable {
    /// Event id (lower-case UUID).
    public var id: String
    /// CloudEvents type.
    public var type: String
    /// Subject (case id, contract id or area).
    public var subject: String
    /// The publishing agency's URN.
    public var source: String
    /// When it happened (RFC 3339).
    public var time: String
    /// The per-source sequence number the service assigned.
    public var sequence: Int64
    /// Topic the event was written to.
    public var topic: String
    /// Partition the event was written to.
    public var partition: Int32
    /// Offset of the event in its partition.
    public var offset: Int64

    /// Creates an acknowledgement for `event` stored at `metadata`.
    public init(event: AccordEvent, metadata: RecordMetadata) {
        id = event.idString
        type = event.type
        subject = event.subject
        source = event.source.urn
        time = event.time.rfc3339
        sequence = event.sequence
        topic = metadata.topic
        partition = metadata.partition
        offset = metadata.offset
    }
}
