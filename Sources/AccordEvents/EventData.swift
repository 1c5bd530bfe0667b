/// The `data` payload of one Accord event type and version.
///
/// Each conforming struct mirrors one JSON Schema under `schemas/events/`; `validate()`
/// checks the semantic rules that schema states beyond JSON types (patterns, ranges, ...).
public protocol EventData: Codable, Sendable, Hashable {
    /// The catalogue entry (type and version) of this payload.
    static var kind: EventKind { get }
    /// The id the event is about — its CloudEvents `subject` and Kafka key:
    /// the case id, contract id or area code, per `kind.subjectKind`.
    var subjectId: String { get }
    /// Checks the rules of the payload's JSON Schema that JSON typing alone does not enforce.
    /// Errors name the field as `data.<path>`.
    func validate() throws(EventError)
    /// Wraps this payload in the catalogue-wide `EventPayload` enum.
    var payload: EventPayload { get }
}
