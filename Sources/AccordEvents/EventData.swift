/// The `data` payload of one Accord event type and version.
///
/// Each conforming struct mirrors one JSON Schema under `schemas/events/`; `validate()`
/// checks the semantic rules that schema states beyond JSON types (patterns, ranges, ...).
public protocol EventData: Codable, Sendable, Hashable {
    /// The catalogue entry (type and version) of this payload type: its first version when one
    /// type serves several (see `eventKind`).
    static var kind: EventKind { get }
    /// The catalogue entry (type and version) of this value. `Self.kind` unless one payload type
    /// serves several versions, as `CaseTransferred` does: then the fields present decide, so a
    /// value always encodes to valid `data` of the version it reports.
    var eventKind: EventKind { get }
    /// The id the event is about — its CloudEvents `subject` and Kafka key:
    /// the case id, contract id or area code, per `kind.subjectKind`.
    var subjectId: String { get }
    /// Checks the rules of the payload's JSON Schema that JSON typing alone does not enforce.
    /// Errors name the field as `data.<path>`.
    func validate() throws(EventError)
    /// Wraps this payload in the catalogue-wide `EventPayload` enum.
    var payload: EventPayload { get }
}

extension EventData {
    /// `Self.kind`: one payload type, one version.
    public var eventKind: EventKind { Self.kind }
}
