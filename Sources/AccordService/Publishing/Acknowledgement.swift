import AccordEvents

/// What the service answers for one accepted event: its identity, where its chain put it, and
/// — once Kafka acknowledged it — its offset.
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
    /// Topic the event is (or will be) written to.
    public var topic: String
    /// Partition the event is (or will be) written to: its chain's.
    public var partition: Int32
    /// The event's position in its chain (1 for the first).
    public var position: Int64
    /// Offset of the event in its partition once Kafka acknowledged it; nil while it waits in the outbox.
    public var offset: Int64?

    /// Creates an acknowledgement.
    public init(id: String, type: String, subject: String, source: String, time: String, sequence: Int64,
                topic: String, partition: Int32, position: Int64, offset: Int64?) {
        self.id = id
        self.type = type
        self.subject = subject
        self.source = source
        self.time = time
        self.sequence = sequence
        self.topic = topic
        self.partition = partition
        self.position = position
        self.offset = offset
    }
}
