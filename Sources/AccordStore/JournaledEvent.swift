import AccordEvents
import AccordIntegrity

/// The Kafka coordinates of one record.
public struct RecordCoordinates: Sendable, Hashable, CustomStringConvertible {
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

/// One applied event as the projector journals it: the Kafka record it came from, byte for
/// byte, where it was read, when it was recorded, and its place in the journal hash chain
/// (`schemas/integrity.md` §7).
public struct JournaledEvent: Sendable, Hashable {
    /// Position in the journal (1, 2, 3 …), assigned by the store on append; 0 before.
    public var position: Int64
    /// CloudEvents `id` of the event as received (unique in the journal; hashed into the chain).
    public var eventId: String
    /// Where the record was read.
    public var coordinates: RecordCoordinates
    /// CloudEvents `source` (agency URN).
    public var source: String
    /// Per-source sequence number.
    public var sequence: Int64
    /// CloudEvents `subject` (case, contract or area id).
    public var subject: String
    /// When the event happened.
    public var time: Timestamp
    /// When the record was written to Kafka (its record timestamp).
    public var recordedAt: Timestamp
    /// The record: key, headers in order, value.
    public var message: BinaryMessage
    /// The event hash (§2) of the record as received.
    public var eventHash: Hash256
    /// The journal entry hash (§7), assigned by the store on append.
    public var entryHash: Hash256?
    /// The event's position in its source chain, when a chain verifier linked it.
    public var chainPosition: Int64?
    /// True once a signed agency checkpoint covers the event.
    public var verified: Bool
    /// When the projector took the event back out of the view (its chain's signed checkpoint
    /// does not take it: forged or wrongly attributed); nil while it is part of the view. The
    /// entry stays in the journal, whose hash chain covers it.
    public var retractedAt: Timestamp?

    /// Creates a journal entry.
    public init(position: Int64 = 0, eventId: String, coordinates: RecordCoordinates, source: String, sequence: Int64,
                subject: String, time: Timestamp, recordedAt: Timestamp, message: BinaryMessage, eventHash: Hash256,
                entryHash: Hash256? = nil, chainPosition: Int64? = nil, verified: Bool = false, retractedAt: Timestamp? = nil) {
        self.position = position
        self.eventId = eventId
        self.coordinates = coordinates
        self.source = source
        self.sequence = sequence
        self.subject = subject
        self.time = time
        self.recordedAt = recordedAt
        self.message = message
        self.eventHash = eventHash
        self.entryHash = entryHash
        self.chainPosition = chainPosition
        self.verified = verified
        self.retractedAt = retractedAt
    }

    /// Whether the event is part of the view as known at `knownAt` (nil: now): it is, unless it
    /// was retracted by then.
    public func isInView(knownAt: Timestamp? = nil) -> Bool {
        guard let retractedAt else { return true }
        guard let knownAt else { return false }
        return retractedAt > knownAt
    }

    /// The journal entry of `event`, read as `message` at `coordinates`. The event id is the
    /// record's `ce_id` text exactly as received when it names the event.
    public init(event: AccordEvent, message: BinaryMessage, coordinates: RecordCoordinates, recordedAt: Timestamp,
                eventHash: Hash256, chainPosition: Int64? = nil) {
        let received = message.headers.first { $0.name == "ce_id" }?.text
        let eventId = received.flatMap { $0.lowercased() == event.idString ? $0 : nil } ?? event.idString
        self.init(eventId: eventId, coordinates: coordinates, source: event.source.urn, sequence: event.sequence,
                  subject: event.subject, time: event.time, recordedAt: recordedAt, message: message, eventHash: eventHash,
                  chainPosition: chainPosition)
    }

    /// Kafka topic.
    public var topic: String { coordinates.topic }
    /// Kafka partition.
    public var partition: Int32 { coordinates.partition }
    /// Kafka offset.
    public var offset: Int64 { coordinates.offset }
    /// The record headers.
    public var headers: [MessageHeader] { message.headers }
    /// The record value.
    public var value: [UInt8] { message.value }
    /// The CloudEvents `type` from the record's headers.
    public var type: String { message.headers.first { $0.name == "ce_type" }?.text ?? "" }

    /// Decodes the event this entry journals.
    public func decodeEvent(codec: EventCodec = EventCodec()) throws(EventError) -> AccordEvent {
        try codec.decodeBinary(message, topic: coordinates.topic)
    }

    /// The entry as the integrity journal chain sees it; nil before the store assigned its hash.
    public var chainEntry: AccordIntegrity.JournalEntry? {
        guard let entryHash else { return nil }
        return AccordIntegrity.JournalEntry(position: position, eventId: eventId, topic: topic, partition: partition,
                                            offset: offset, eventHash: eventHash, entryHash: entryHash)
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

/// A range of a partition's records the projector could no longer read: an offset reset
/// skipped them (broker retention dropped them before they were read).
/// The unread ranges of one partition, recovered: the events among them were fetched from their sources.
public struct UnreadRecovery: Sendable, Hashable {
    /// Kafka topic.
    public var topic: String
    /// Kafka partition.
    public var partition: Int32
    /// When (the projector's clock).
    public var at: Timestamp

    /// A recovery.
    public init(topic: String, partition: Int32, at: Timestamp) {
        self.topic = topic
        self.partition = partition
        self.at = at
    }
}

/// Records of a partition the projector could not read (an offset reset skipped them).
public struct UnreadRange: Sendable, Hashable, CustomStringConvertible {
    /// Kafka topic.
    public var topic: String
    /// Kafka partition.
    public var partition: Int32
    /// First offset not read.
    public var from: Int64
    /// One past the last offset not read.
    public var until: Int64
    /// When the projector noticed (its clock).
    public var detectedAt: Timestamp
    /// When every chain of the partition was read again from its source to its end, so the
    /// events among the records skipped are in the journal (nil while they may be missing).
    public var recoveredAt: Timestamp?

    /// Creates a range.
    public init(topic: String, partition: Int32, from: Int64, until: Int64, detectedAt: Timestamp, recoveredAt: Timestamp? = nil) {
        self.topic = topic
        self.partition = partition
        self.from = from
        self.until = until
        self.detectedAt = detectedAt
        self.recoveredAt = recoveredAt
    }

    /// Number of records not read.
    public var count: Int64 { max(0, until - from) }

    /// `topic/partition offsets from..<until`.
    public var description: String { "\(topic)/\(partition) offsets \(from)..<\(until) (\(count) records)" }
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

/// What the store needs to sign a journal checkpoint at the head the batch leaves: the signing
/// time and the projector's key. The view digest signed is the store's view root after the batch.
public struct JournalCheckpointRequest: Sendable {
    /// When the checkpoint is issued (the projector's clock).
    public var issuedAt: Timestamp
    /// The projector's signing key.
    public var key: AgencySigningKey

    /// Creates a request.
    public init(issuedAt: Timestamp, key: AgencySigningKey) {
        self.issuedAt = issuedAt
        self.key = key
    }
}

/// A journaled record to take back out of the view, and why.
public struct Retraction: Sendable, Hashable {
    /// Where the record was read.
    public var coordinates: RecordCoordinates
    /// Why it is retracted (the dead-letter reason).
    public var reason: String
    /// When the projector decided it.
    public var at: Timestamp

    /// Creates a retraction.
    public init(coordinates: RecordCoordinates, reason: String, at: Timestamp) {
        self.coordinates = coordinates
        self.reason = reason
        self.at = at
    }
}

/// What a committed batch changed.
public struct StoreCommit: Sendable {
    /// The entries appended, with their journal positions and hashes.
    public var appended: [JournaledEvent] = []
    /// Events skipped because their id was already journaled.
    public var duplicates = 0
    /// Event ids whose journal rows became verified in this batch.
    public var newlyVerified: [String] = []
    /// The journal checkpoint signed in this batch, if one was requested.
    public var journalCheckpoint: JournalCheckpoint?
    /// The view's digest after the batch.
    public var viewDigest: Hash256 = .zero
    /// Flags changed by the batch.
    public var flagsChanged = 0
    /// Event ids retracted from the view in this batch.
    public var retracted: [String] = []
    /// Event ids of records kept aside because the id is journaled with other content (one of
    /// the two is forged; the kept record is applied if the journaled one is retracted).
    public var shadowed: [String] = []
    /// Event ids of kept-aside records journaled and applied in this batch, in place of a
    /// retracted entry with the same id.
    public var promoted: [String] = []

    /// Creates an empty result.
    public init() {}
}

/// One event to journal and apply.
public struct PendingEntry: Sendable {
    /// The journal entry (position and entry hash assigned on commit).
    public var entry: JournaledEvent {
        didSet { storedHeaders = HeaderCoding.encode(entry.message.headers) }
    }
    /// The decoded event.
    public var event: AccordEvent
    /// The entry's headers in the journal's stored form (`HeaderCoding`), encoded where the entry
    /// is made so the store's writer does not spend its time on it.
    private(set) var storedHeaders: [UInt8]

    /// Creates a pending entry.
    public init(entry: JournaledEvent, event: AccordEvent) {
        self.entry = entry
        self.event = event
        storedHeaders = HeaderCoding.encode(entry.message.headers)
    }
}

/// Everything one projector batch writes, committed in a single transaction.
public struct StoreBatch: Sendable {
    /// Events to journal and apply, in apply order (already journaled ids are skipped).
    public var entries: [PendingEntry] = []
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
    /// Ranges of records that could not be read (skipped by an offset reset).
    public var unreadRanges: [UnreadRange] = []
    /// Sign a journal checkpoint at the head this batch leaves.
    public var journalCheckpoint: JournalCheckpointRequest?
    /// Journaled records (of this or an earlier batch) to take back out of the view: orphans of
    /// a verified checkpoint. Their journal entries stay, marked retracted.
    public var retractions: [Retraction] = []
    /// Records to keep behind their chain's gap.
    public var heldRecords: [HeldRecord] = []
    /// Partitions whose unread ranges are recovered by this batch: every chain of the partition
    /// was read from its source to its end.
    public var recoveredUnread: [UnreadRecovery] = []
    /// Held records given back in this batch (applied or refused): no longer kept.
    public var releasedHeld: [RecordCoordinates] = []

    /// Creates an empty batch.
    public init() {}
}
