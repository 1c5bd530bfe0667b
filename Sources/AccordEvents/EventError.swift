/// Why an event was rejected. Every error names the attribute, header or `data` field it is
/// about (`field`), so a dead-letter reason, an HTTP problem or a CLI message can point at it.
///
/// `description` reads `<field>: <message>`, e.g. `data.requirements[0].hours: expected number, found string`.
public struct EventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of rejection.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// A required attribute, header or property is absent.
        case missingAttribute = "missing-attribute"
        /// A value has the wrong JSON type.
        case wrongType = "wrong-type"
        /// A value has the right type but breaks a rule (pattern, range, enum, ...).
        case invalidValue = "invalid-value"
        /// The `type` attribute names no event in the catalogue.
        case unknownType = "unknown-type"
        /// The `type` names a known event at a version the catalogue does not have.
        case unknownVersion = "unknown-version"
        /// The topic name is not an Accord event topic.
        case unknownTopic = "unknown-topic"
        /// The `source` agency kind does not own the topic, or the type belongs on another topic.
        case sourceNotTopicOwner = "source-not-topic-owner"
        /// The payload is larger than the configured limit.
        case payloadTooLarge = "payload-too-large"
        /// `specversion` is not `1.0`.
        case invalidSpecVersion = "invalid-specversion"
        /// `time` (or another instant) is not RFC 3339.
        case invalidTime = "invalid-time"
        /// `id` is not a UUID.
        case invalidId = "invalid-id"
        /// `subject`, `partitionkey`, the record key and the payload's own id disagree.
        case subjectMismatch = "subject-mismatch"
        /// The content type is not JSON.
        case unsupportedContentType = "unsupported-content-type"
        /// The bytes are not well-formed JSON (or not UTF-8).
        case malformed = "malformed"
        /// The same attribute header appears twice.
        case duplicateAttribute = "duplicate-attribute"
        /// The event could not be encoded (e.g. a non-finite number).
        case encodingFailed = "encoding-failed"
    }

    /// The class of rejection.
    public let reason: Reason
    /// The attribute, header or `data` path, e.g. `ce_source`, `time`, `data.requirements[0].hours`.
    public let field: String
    /// A short human explanation without the field.
    public let message: String

    /// Creates an error about one field.
    public init(_ reason: Reason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    /// `<field>: <message>`.
    public var description: String { "\(field): \(message)" }
}

/// The name the brief and callers may use for decoding failures; the same type as `EventError`.
public typealias EventDecodingError = EventError
