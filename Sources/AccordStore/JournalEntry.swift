import AccordEvents
import AccordIntegrity

/// One applied event as the projector journals it: the Kafka record it came from,
/// byte for byte, plus the attributes needed to find and order it, and its place in the
/// journal hash chain (`schemas/integrity.md` §7).
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
    /// The event hash (§2) of the record as received; nil until known (the store computes it
    /// from `headers` and `value` on commit when the caller did not).
    public var eventHash: Hash256?
    /// The journal entry hash (§7), assigned by the store on append; nil before.
    public var entryHash: Hash256?
    /// The event's position in its source chain `(source, topic, partition)`, when a chain
    /// verifier linked it; nil when integrity checking was off.
    public var chainPosition: Int64?
    /// True once a signed agency checkpoint covers the event; false while it is provisional
    /// (or was never checked).
    public var verified: Bool

    /// Creates a journal entry.
    public init(position: Int64 = 0, eventId: String, topic: String, partition: Int32, offset: Int64,
                source: String, sequence: Int64, type: String, subject: String, time: String,
                recordedAt: String, key: [UInt8]?, headers: [StoredHeader], value: [UInt8],
                eventHash: Hash256? = nil, entryHash: Hash256? = nil, chainPosition: Int64? = nil,
                verified: Bool = false) {
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
        self.eventHash = eventHash
        self.entryHash = entryHash
        self.chainPosition = chainPosition
        self.verified = verified
    }

    /// The record headers as integrity headers (for hashing).
    public var messageHeaders: [MessageHeader] {
        headers.map { MessageHeader(name: $0.name, value: $0.value) }
    }

    /// The entry as the integrity journal chain sees it; nil before the store assigned its hashes.
    public var chainEntry: AccordIntegrity.JournalEntry? {
        guard let eventHash, let entryHash else { return nil }
        return AccordIntegrity.JournalEntry(position: position, eventId: eventId, topic: topic, partition: partition,
                                            offset: offset, eventHash: eventHash, entryHash: entryHash)
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

/// The Kafka coordinates of one record.
public struct RecordCoordinates: Sendable, Hashable {
    /// Kafka topic.
    public var topic: String
    /// Kafka partition.
    public var partition: Int32
    /// Kafka offset.
    public var offset: Int64

    /// Creates coordinates.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// `topic/partition@offset`.
    public var description: String { "\(topic)/\(partition)@\(offset)" }
}

/// A verified agency chain checkpoint as stored (`chain_checkpoints`), with the raw record body.
public struct StoredChainCheckpoint: Sendable, Hashable {
    /// The checkpoint.
    public var checkpoint: ChainCheckpoint
    /// Where the checkpoint record was read.
    public var offset: Int64
    /// The record value exactly as received (the checkpoint JSON).
    public var body: [UInt8]

    /// Creates a stored checkpoint.
    public init(checkpoint: ChainCheckpoint, offset: Int64, body: [UInt8]) {
        self.checkpoint = checkpoint
        self.offset = offset
        self.body = body
    }
}

/// What the store needs to sign a journal checkpoint at the head the batch leaves: the view's
/// digest after the batch, the signing time and the projector's key.
public struct JournalCheckpointRequest: Sendable {
    /// `JournalViewDigest.digest(of:asOf:)` of the view after the batch.
    public var viewDigest: Hash256
    /// When the checkpoint is issued (the projector's clock).
    public var issuedAt: Timestamp
    /// The projector's signing key.
    public var key: AgencySigningKey

    /// Creates a request.
    public init(viewDigest: Hash256, issuedAt: Timestamp, key: AgencySigningKey) {
        self.viewDigest = viewDigest
        self.issuedAt = issuedAt
        self.key = key
    }
}

/// What a committed batch changed.
public struct StoreCommit: Sendable {
    /// The entries appended, with their journal positions and hashes.
    public var appended: [JournalEntry] = []
    /// Event ids whose journal rows became verified in this batch.
    public var newlyVerified: [String] = []
    /// The journal checkpoint signed in this batch, if one was requested.
    public var journalCheckpoint: JournalCheckpoint?

    /// Creates an empty result.
    public init() {}
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
    /// Records (applied in this or an earlier batch) that a verified checkpoint now covers.
    public var verifiedRecords: [RecordCoordinates] = []
    /// Agency checkpoints verified in this batch.
    public var chainCheckpoints: [StoredChainCheckpoint] = []
    /// The chain verifier's state of every chain this batch touched.
    public var chainStates: [ChainState] = []
    /// Sign a journal checkpoint at the head this batch leaves.
    public var journalCheckpoint: JournalCheckpointRequest?

    /// Creates an empty batch.
    public init() {}
}
