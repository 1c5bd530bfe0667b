/// One Kafka record header: a name and raw bytes (`nil` for a null header value).
public struct KafkaHeader: Sendable, Hashable {
    /// Header name.
    public var key: String
    /// Header value; `nil` is Kafka's null value, distinct from empty.
    public var value: [UInt8]?

    /// Creates a header from raw bytes.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// Creates a header whose value is the UTF-8 encoding of `value`.
    public init(key: String, string value: String) {
        self.init(key: key, value: Array(value.utf8))
    }

    /// The value decoded as UTF-8, if it is valid UTF-8.
    public var stringValue: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// A topic and partition.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Topic name.
    public var topic: String
    /// Partition number.
    public var partition: Int32

    /// Creates a topic-partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// Where a consumer starts reading a partition.
public enum StartOffset: Sendable, Hashable {
    /// The oldest retained record.
    case beginning
    /// After the newest record at the time of assignment.
    case end
    /// The group's committed offset, or `auto.offset.reset` when there is none.
    case committed
    /// An exact offset.
    case offset(Int64)
}

/// A record to send.
public struct ProducerRecord: Sendable, Hashable {
    /// Destination topic.
    public var topic: String
    /// Record key; records with equal keys go to the same partition.
    public var key: [UInt8]?
    /// Record value.
    public var value: [UInt8]
    /// Record headers, in order.
    public var headers: [KafkaHeader]
    /// An explicit partition, or `nil` to let the partitioner choose from the key.
    public var partition: Int32?
    /// The record's timestamp (CreateTime) in milliseconds since the epoch, or `nil` for the
    /// time it is produced.
    public var timestampMilliseconds: Int64?

    /// Creates a record.
    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], partition: Int32? = nil,
                timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// Creates a record with a UTF-8 string key.
    public init(topic: String, key: String, value: [UInt8], headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers, partition: partition)
    }
}

/// Where the broker stored an acknowledged record.
public struct RecordMetadata: Sendable, Hashable, CustomStringConvertible {
    /// Topic the record was written to.
    public var topic: String
    /// Partition the record was written to.
    public var partition: Int32
    /// Offset of the record in its partition.
    public var offset: Int64

    /// Creates record metadata.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// A record read from Kafka.
public struct ConsumerRecord: Sendable, Hashable {
    /// Topic the record was read from.
    public var topic: String
    /// Partition the record was read from.
    public var partition: Int32
    /// Offset of the record in its partition.
    public var offset: Int64
    /// Record key, if any.
    public var key: [UInt8]?
    /// Record value (empty for a null value).
    public var value: [UInt8]
    /// Record headers, in order.
    public var headers: [KafkaHeader]
    /// Record timestamp in milliseconds since the Unix epoch, if the broker supplied one.
    public var timestampMilliseconds: Int64?
    /// Assignment generation the record was delivered under; commits from an older generation are refused.
    let generation: UInt64

    /// Creates a record (for tests and adapters; records from a consumer carry their assignment generation).
    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader], timestampMilliseconds: Int64?) {
        self.init(topic: topic, partition: partition, offset: offset, key: key, value: value,
                  headers: headers, timestampMilliseconds: timestampMilliseconds, generation: 0)
    }

    init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
         headers: [KafkaHeader], timestampMilliseconds: Int64?, generation: UInt64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
        self.generation = generation
    }

    /// The topic and partition of this record.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The key decoded as UTF-8, if present and valid.
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }

    /// The first header with the given name.
    public func header(_ name: String) -> KafkaHeader? { headers.first { $0.key == name } }
}

/// How far a consumer is behind the end of one partition.
public struct PartitionLag: Sendable, Hashable {
    /// The partition.
    public var topicPartition: TopicPartition
    /// Offset after the newest record in the partition (the high watermark).
    public var highWatermark: Int64
    /// Next offset this consumer will deliver.
    public var position: Int64
    /// Records between `position` and `highWatermark`.
    public var lag: Int64 { max(0, highWatermark - position) }

    /// Creates a lag reading.
    public init(topicPartition: TopicPartition, highWatermark: Int64, position: Int64) {
        self.topicPartition = topicPartition
        self.highWatermark = highWatermark
        self.position = position
    }
}
