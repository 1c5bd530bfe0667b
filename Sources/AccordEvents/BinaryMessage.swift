/// One Kafka record header: a name and raw bytes.
public struct MessageHeader: Sendable, Hashable {
    /// Header name, e.g. `ce_id` or `content-type`.
    public var name: String
    /// Header value bytes (UTF-8 text for CloudEvents attributes).
    public var value: [UInt8]

    /// Creates a header from raw bytes.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// Creates a header from text, stored as UTF-8.
    public init(name: String, text: String) {
        self.name = name
        self.value = Array(text.utf8)
    }

    /// The value as UTF-8 text, or nil when it is not valid UTF-8.
    public var text: String? { String(validating: value, as: UTF8.self) }
}

/// A Kafka record as CloudEvents binary content mode sees it, independent of any Kafka client:
/// the key, the headers in record order (duplicates possible), and the value bytes.
/// The Kafka layer maps its own record type to and from this.
public struct BinaryMessage: Sendable, Hashable {
    /// The record key (the event's `partitionkey`), or nil for a record without key.
    public var key: [UInt8]?
    /// The record headers, in order.
    public var headers: [MessageHeader]
    /// The record value: the event `data` as JSON.
    public var value: [UInt8]

    /// Creates a message.
    public init(key: [UInt8]?, headers: [MessageHeader], value: [UInt8]) {
        self.key = key
        self.headers = headers
        self.value = value
    }

    /// The first header with the given name (exact match), if any.
    public func header(_ name: String) -> MessageHeader? {
        headers.first { $0.name == name }
    }
}
