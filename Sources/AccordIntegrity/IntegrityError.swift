/// Why an integrity input (a record, a key file, a registry, a checkpoint) was refused.
///
/// Like `EventError`, every error names the header, field or file it is about, and
/// `description` reads `<field>: <message>`.
public struct IntegrityError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// A required header or field is absent.
        case missing = "missing"
        /// Bytes are not well-formed (not UTF-8, not JSON, not base64, a forbidden character).
        case malformed = "malformed"
        /// A value is well-formed but breaks a rule (pattern, range, length, consistency).
        case invalidValue = "invalid-value"
        /// The same attribute header appears twice.
        case duplicateAttribute = "duplicate-attribute"
        /// The record is larger than the limit.
        case tooLarge = "too-large"
        /// The event does not extend the chain it is appended to.
        case brokenChain = "broken-chain"
        /// A key could not be created, read or used.
        case keyFailure = "key-failure"
        /// A file could not be read or written.
        case fileFailure = "file-failure"
    }

    /// The class of failure.
    public let reason: Reason
    /// The header, field or file the failure is about, e.g. `ce_prevhash` or `keys[2].publicKey`.
    public let field: String
    /// A specific, human-readable message.
    public let message: String

    /// Creates an error.
    public init(_ reason: Reason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    /// `<field>: <message>`.
    public var description: String { "\(field): \(message)" }
}
