import Foundation

/// One Accord event: CloudEvents 1.0 attributes plus a typed payload.
///
/// `type`, `dataschema`, `subject` and `partitionkey` are derived from the payload so they
/// cannot disagree with it; `specversion` is always `1.0` and `datacontenttype` always
/// `application/json`.
public struct AccordEvent: Sendable, Hashable {
    /// The CloudEvents spec version Accord writes and accepts.
    public static let specVersion = "1.0"
    /// The `datacontenttype` Accord writes.
    public static let dataContentType = "application/json"

    /// Event id (UUID); also the idempotency key. Written in lower case.
    public var id: UUID
    /// The publishing agency.
    public var source: EventSource
    /// When it happened (not when it was published).
    public var time: Timestamp
    /// Per-source sequence number, ≥ 1, increasing by one per event from that source (gap detection).
    public var sequence: Int64
    /// The payload.
    public var payload: EventPayload
    /// Id of the event that caused this one, if any (`causationid` extension).
    public var causationId: String?
    /// Id shared by all events of one flow, if any (`correlationid` extension).
    public var correlationId: String?
    /// Reserved for a later signing extension (`signature`); carried through unchanged, not verified here.
    public var signature: String?
    /// Reserved for a later hash-chain extension (`prevhash`); carried through unchanged, not verified here.
    public var prevHash: String?

    /// Creates an event. Call `validate()` before publishing.
    public init(id: UUID, source: EventSource, time: Timestamp, sequence: Int64, payload: EventPayload,
                causationId: String? = nil, correlationId: String? = nil,
                signature: String? = nil, prevHash: String? = nil) {
        self.id = id
        self.source = source
        self.time = time
        self.sequence = sequence
        self.payload = payload
        self.causationId = causationId
        self.correlationId = correlationId
        self.signature = signature
        self.prevHash = prevHash
    }

    /// The catalogue entry of the payload.
    public var kind: EventKind { payload.kind }
    /// The CloudEvents `type`, e.g. `org.accord.probation.case-opened.v1`.
    public var type: String { payload.kind.type }
    /// The CloudEvents `dataschema` URI.
    public var dataschema: String { payload.kind.dataschema }
    /// The CloudEvents `subject`: the case id, contract id or area code.
    public var subject: String { payload.subjectId }
    /// The `partitionkey` extension and Kafka key; equal to `subject`.
    public var partitionKey: String { payload.subjectId }
    /// The topic this event belongs on.
    public var topic: AccordTopic { payload.kind.topic }
    /// The id in canonical lower-case text form.
    public var idString: String { id.lowercasedString }

    /// The seconds since the epoch an event `time` may have: 1900-01-01T00:00:00Z up to, not
    /// including, 2200-01-01T00:00:00Z. Journals and views keep instants as 64-bit nanoseconds
    /// (years 1677–2262); this range keeps every accepted time stored exactly, with margin.
    public static let storableTimes: Range<Int64> = -2_208_988_800..<7_258_118_400

    /// Checks everything a receiver would: the source owns the event's topic, the sequence is
    /// ≥ 1, the time is in `storableTimes`, extension values are well-formed, and the payload's
    /// semantic rules hold.
    /// Field names are the structured-mode attribute names (`source`, `sequence`, `data.…`).
    public func validate() throws(EventError) {
        guard source.kind == kind.owner else {
            throw EventError(.sourceNotTopicOwner, field: "source",
                             "\(source.urn) is a \(source.kind.rawValue) agency; \(type) is owned by \(kind.owner.rawValue) on \(topic.name)")
        }
        guard sequence >= 1 else {
            throw EventError(.invalidValue, field: "sequence", "\(sequence) must be at least 1")
        }
        guard Self.storableTimes.contains(time.secondsSinceEpoch) else {
            throw EventError(.invalidValue, field: "time",
                             "\(time) is outside the instants Accord stores exactly: from 1900-01-01T00:00:00Z up to (not including) 2200-01-01T00:00:00Z")
        }
        for (name, value) in [("causationid", causationId), ("correlationid", correlationId),
                              ("signature", signature), ("prevhash", prevHash)] {
            if let value, !Patterns.isToken(value) {
                throw EventError(.invalidValue, field: name, "expected 1 to 128 printable ASCII characters without spaces")
            }
        }
        try payload.validate()
    }
}
