import AccordEvents
import AccordHTTP
import AccordJSON
import Foundation

/// One event a client asked this service to publish, validated and complete except for what
/// the service assigns at publication: `source` (always), `sequence` (always), and `id` and
/// `time` when the client left them out.
public struct IntakeSubmission: Sendable, Hashable {
    /// Position in the request (0 for a single event).
    public var index: Int
    /// The validated payload (its kind is the event type).
    public var payload: EventPayload
    /// The client's idempotency key, if it gave one.
    public var id: UUID?
    /// When it happened, if the client said so.
    public var time: Timestamp?
    /// The `causationid` extension, if given.
    public var causationId: String?
    /// The `correlationid` extension, if given.
    public var correlationId: String?
    /// The `recordedtime` extension (when the agency's own system recorded it), if the service
    /// accepts it: the Kafka record's timestamp.
    public var recordedAt: Timestamp?

    /// Creates a submission.
    public init(index: Int, payload: EventPayload, id: UUID? = nil, time: Timestamp? = nil,
                causationId: String? = nil, correlationId: String? = nil, recordedAt: Timestamp? = nil) {
        self.index = index
        self.payload = payload
        self.id = id
        self.time = time
        self.causationId = causationId
        self.correlationId = correlationId
        self.recordedAt = recordedAt
    }

    /// The event type.
    public var kind: EventKind { payload.kind }
}

/// What is wrong with one item of a submission, located for the client.
public typealias IntakeItemError = FieldError

/// Why a whole request was refused before anything was published.
public enum IntakeFailure: Error, Sendable {
    /// The body is not well-formed JSON (400).
    case malformed(JSONSyntaxError)
    /// The content type is not one the intake accepts (415).
    case unsupportedMediaType(String)
    /// The body or one event's data is larger than allowed (413).
    case tooLarge(String, [IntakeItemError])
    /// One or more items are invalid (422); nothing was published.
    case invalid([IntakeItemError])
}
