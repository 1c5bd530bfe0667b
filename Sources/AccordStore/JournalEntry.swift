/// One applied event as the projector journals it: the Kafka record it came from,
/// byte for byte, plus the attributes needed to find and order it.
public struct JournalEntry: Sendable, Hashable {
    /// Position in the journal (1, 2, 3 …), assigned by the store on append; 0 before.
    public var position: Int64
    /// CloudEvents `id` of the event (unique in the journal).
    public var eventId: String
    /// Kafka topic the record was read from.
    public var topic: String
    /// Kafka partition the record was read from.
    public var partition: Int32
    /// Kafka offset of the record.
    public var offset: Int64
    /// CloudEvents `source` (agency URN).
    public var source: String
    /// Per-source sequence number.
    public var sequence: Int64
    /// CloudEvents `type`.
    public var type: String
    /// CloudEvents `subject` (case, contract or area id).
    public var subject: String
    /// When the event happened (RFC 3339).
    public var time: String
    /// When the record was written to Kafka (RFC 3339), from the record's timestamp.
    public var recordedAt: String
    /// The record key.
    public var key: [UInt8]?
    /// The record headers, in order.
    public var headers: [StoredHeader]
    /// The record value (the event's JSON data).
    public var value: [UInt8]

    /// Creates a journal entry.
    public init(position: Int64 = 0, eventId: String, topic: String, partition: Int32, offset: Int64,
                source: String, sequence: Int64, type: String, subject: String, time: String,
                recordedAt: String, key: [UInt8]?, headers: [StoredHeader], value: [UInt8]) {
        self.position = position
        self.eventId = eventId
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.source = source
        self.sequence = sequence
        self.type = type
        self.subject = subject
        self.time = time
        self.recordedAt = recordedAt
        self.key = key
        self.headers = headers
        self.value = value
    }
}

/// A Kafka record header as stored in the journal.
public struct StoredHeader: Sendable, Hashable, Codable {
    /// Header name.
    public var name: String
    /// Header value bytes.
    public var value: [UInt8]

    /// Creates a stored header.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// The next offset to read for one partition, as committed with the view.
public struct StoredOffset: Sendable, Hashable {
    /// Kafka topic.
    public var topic: String
    /// Kafka partition.
    public var partition: Int32
    /// Offset of the next record to read.
    public var nextOffset: Int64

    /// Creates a stored offset.
    public init(topic: String, partition: Int32, nextOffset: Int64) {
        self.topic = topic
        self.partition = partition
        self.nextOffset = nextOffset
    }
}

/// A record the projector refused and sent to the dead-letter topic.
public struct DeadLetterEntry: Sendable, Hashable {
    /// Topic of the refused record.
    public var topic: String
    /// Partition of the refused record.
    public var partition: Int32
    /// Offset of the refused record.
    public var offset: Int64
    /// Why it was refused.
    public var reason: String

    /// Creates a dead-letter entry.
    public init(topic: String, partition: Int32, offset: Int64, reason: String) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.reason = reason
    }
}

/// A materialised row of a view table: one case or contract as a JSON document.
public struct ViewDocument: Sendable, Hashable {
    /// The case or contract id.
    public var id: String
    /// The area the case or contract belongs to, if known.
    public var area: String?
    /// The JSON document.
    public var json: [UInt8]

    /// Creates a view document.
    public init(id: String, area: String?, json: [UInt8]) {
        self.id = id
        self.area = area
        self.json = json
    }
}

/// Everything one projector batch writes, committed in a single transaction.
public struct StoreBatch: Sendable {
    /// Events applied in this batch, in apply order.
    public var entries: [JournalEntry] = []
    /// Case documents changed by this batch.
    public var cases: [ViewDocument] = []
    /// Contract documents changed by this batch.
    public var contracts: [ViewDocument] = []
    /// Records refused in this batch.
    public var deadLetters: [DeadLetterEntry] = []
    /// Next offsets of every partition this batch read from.
    public var offsets: [StoredOffset] = []

    /// Creates an empty batch.
    public init() {}
}
