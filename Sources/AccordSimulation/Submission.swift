import AccordEvents
import AccordJSON
import Foundation

/// One event as an agency would submit it to its service's HTTP intake
/// (`POST /v1/events`): who submits it, when it happened, its type and payload, and a
/// deterministic id that doubles as the idempotency key.
public struct Submission: Sendable, Hashable {
    /// The kind of agency whose service accepts it.
    public var agency: AgencyKind
    /// The submitting agency's id, e.g. `nps-london`, `ace-payback`, `pcc-west`.
    public var agencyId: String
    /// When it happened (the event's `time`).
    public var time: Timestamp
    /// The typed payload (`data`).
    public var data: EventPayload
    /// The event id / idempotency key, derived from the seed.
    public var id: UUID
    /// The flow the event belongs to (`correlationid`): a referral id, case id or contract id.
    public var correlationId: String?
    /// The id of the submission that caused this one (`causationid`), if any.
    public var causationId: UUID?
    /// When the agency's own system recorded it (`recordedtime`, the Kafka timestamp a service
    /// started with `--accept-recorded-time` gives it); nil: when the service accepts it.
    public var recordedAt: Timestamp?

    /// Creates a submission.
    public init(agency: AgencyKind, agencyId: String, time: Timestamp, data: EventPayload, id: UUID,
                correlationId: String? = nil, causationId: UUID? = nil, recordedAt: Timestamp? = nil) {
        self.agency = agency
        self.agencyId = agencyId
        self.time = time
        self.data = data
        self.id = id
        self.correlationId = correlationId
        self.causationId = causationId
        self.recordedAt = recordedAt
    }

    /// The event type.
    public var type: EventKind { data.kind }

    /// The subject (case id, contract id or area code).
    public var subject: String { data.subjectId }

    /// The CloudEvents source the service will assign, e.g. `urn:accord:probation:nps-london`.
    public var source: EventSource? { EventSource(kind: agency, agencyId: agencyId) }
}

/// Renders submissions as the JSON the agency services' intake accepts:
/// `{"type": …, "time": …, "id": …, "correlationid": …, "causationid": …, "recordedtime": …, "data": {…}}`.
///
/// Keys are written in a fixed order and `data` with sorted keys, so the bytes are deterministic.
public struct SubmissionRenderer: Sendable {
    private let codec: EventCodec

    /// Creates a renderer.
    public init(codec: EventCodec = EventCodec()) {
        self.codec = codec
    }

    /// One submission as a JSON object.
    public func json(_ submission: Submission) throws(EventError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        try append(submission, to: &out)
        return out
    }

    /// A batch as a JSON array (the body of one `POST /v1/events`).
    public func batch<C: Collection>(_ submissions: C) throws(EventError) -> [UInt8] where C.Element == Submission {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(submissions.count * 400 + 2)
        var first = true
        for submission in submissions {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            try append(submission, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// NDJSON: one JSON object per line, each line ending in `\n` (the input of `accord publish`).
    public func ndjson<C: Collection>(_ submissions: C) throws(EventError) -> [UInt8] where C.Element == Submission {
        var out: [UInt8] = []
        out.reserveCapacity(submissions.count * 400)
        for submission in submissions {
            try append(submission, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    private func append(_ s: Submission, to out: inout [UInt8]) throws(EventError) {
        out.append(contentsOf: "{\"type\":".utf8)
        JSONValue.writeString(s.type.type, to: &out)
        out.append(contentsOf: ",\"time\":".utf8)
        JSONValue.writeString(s.time.rfc3339, to: &out)
        out.append(contentsOf: ",\"id\":".utf8)
        JSONValue.writeString(s.id.lowercasedString, to: &out)
        if let correlation = s.correlationId {
            out.append(contentsOf: ",\"correlationid\":".utf8)
            JSONValue.writeString(correlation, to: &out)
        }
        if let causation = s.causationId {
            out.append(contentsOf: ",\"causationid\":".utf8)
            JSONValue.writeString(causation.lowercasedString, to: &out)
        }
        if let recordedAt = s.recordedAt {
            out.append(contentsOf: ",\"recordedtime\":".utf8)
            JSONValue.writeString(recordedAt.rfc3339, to: &out)
        }
        out.append(contentsOf: ",\"data\":".utf8)
        out.append(contentsOf: try codec.encodeData(s.data))
        out.append(UInt8(ascii: "}"))
    }
}
