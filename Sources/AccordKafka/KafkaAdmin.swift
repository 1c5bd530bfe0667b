import CRdKafka
import Logging

/// A topic to create: name, partition count, replication factor and topic config.
public struct TopicSpec: Sendable, Hashable {
    /// Topic name.
    public var name: String
    /// Number of partitions.
    public var partitions: Int32
    /// Replicas per partition.
    public var replicationFactor: Int32
    /// Topic-level configuration (for example `min.insync.replicas`).
    public var config: [String: String]

    /// Creates a topic specification.
    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// Administrative operations on a real Kafka cluster, through librdkafka's Admin API.
///
/// (librdkafka's mock cluster does not answer CreateTopics; use
/// ``EmbeddedKafkaCluster/createTopic(_:)`` there.)
public final class KafkaAdmin: Sendable {
    private let handle: ClientHandle

    /// Connects an admin client to `bootstrapServers`.
    public init(bootstrapServers: String, properties: [String: String] = [:],
                logger: Logger = Logger(label: "accord.kafka.admin")) throws {
        let config = KafkaConfig(["bootstrap.servers": bootstrapServers, "client.id": "accord-admin"]).merging(properties)
        handle = try ClientHandle(type: RD_KAFKA_PRODUCER, config: config, context: ClientContext(logger: logger))
    }

    /// Creates `topics`; topics that already exist count as created.
    /// Returns the names that were newly created.
    @discardableResult
    public func createTopics(_ topics: [TopicSpec], timeout: Duration = .seconds(30)) async throws -> [String] {
        let pointer = UncheckedPointer(handle.pointer)
        return try await Blocking.run { try Self.createTopicsBlocking(pointer.value, topics, timeout: timeout) }
    }

    private static func createTopicsBlocking(_ handle: OpaquePointer, _ topics: [TopicSpec],
                                             timeout: Duration) throws -> [String] {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in topics {
            guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor,
                                                    &errorText, errorText.count) else {
                throw KafkaError(kind: .admin, message: "topic \(spec.name): \(String(errorBuffer: errorText))")
            }
            newTopics.append(topic)
            for (key, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                let error = rd_kafka_NewTopic_set_config(topic, key, value)
                if error.isError { throw KafkaError(kind: .admin, error: error, context: "topic \(spec.name) \(key)") }
            }
        }
        guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError(kind: .admin, message: "out of memory") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        let milliseconds = Int32(clamping: timeout.milliseconds)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, milliseconds + 5000) else {
            throw KafkaError(kind: .admin, message: "CreateTopics was not answered within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError.isError {
            throw KafkaError(kind: .admin, error: eventError, context: "CreateTopics")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(kind: .admin, message: "CreateTopics returned no result")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return [] }
        var created: [String] = []
        var failures: [String] = []
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let error = rd_kafka_topic_result_error(topicResult)
            if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                created.append(name)
            } else if error != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let reason = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
                    ?? String(cString: rd_kafka_err2str(error))
                failures.append("\(name): \(reason)")
            }
        }
        if !failures.isEmpty {
            throw KafkaError(kind: .admin, message: "could not create topics: \(failures.joined(separator: "; "))")
        }
        return created
    }

    /// Destroys the admin client.
    public func close() async {
        let handle = self.handle
        await Blocking.run { handle.destroy() }
    }
}
