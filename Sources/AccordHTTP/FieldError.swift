/// What is wrong with one item or field of a request, located for the client.
public struct FieldError: Error, Sendable, Hashable, Codable {
    /// Position of the item in the request (0 for a single item).
    public var index: Int
    /// RFC 6901 JSON Pointer into the request body, e.g. `/0/data/hours` ("" for a header or parameter).
    public var pointer: String
    /// The field, header or parameter, e.g. `data.hours`, `type`, `ce-time`, `Idempotency-Key`.
    public var field: String
    /// What is wrong.
    public var message: String
    /// Machine-readable class of the rejection.
    public var reason: String

    /// Creates a field error.
    public init(index: Int, pointer: String, field: String, message: String, reason: String) {
        self.index = index
        self.pointer = pointer
        self.field = field
        self.message = message
        self.reason = reason
    }
}
