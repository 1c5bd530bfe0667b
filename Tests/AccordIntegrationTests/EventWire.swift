import AccordEvents
import AccordKafka

/// Maps between the CloudEvents binary message and Kafka records (what the agency
/// services and projector will do; kept here until they exist).
enum EventWire {
    static let codec = EventCodec()

    static func record(for event: AccordEvent) throws -> ProducerRecord {
        let message = try codec.encodeBinary(event)
        return ProducerRecord(topic: event.kind.topic.name, key: message.key, value: message.value,
                              headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) })
    }

    static func event(from record: ConsumerRecord) throws -> AccordEvent {
        let message = BinaryMessage(key: record.key,
                                    headers: record.headers.map { MessageHeader(name: $0.key, value: $0.value ?? []) },
                                    value: record.value)
        return try codec.decodeBinary(message, topic: record.topic)
    }

    /// Every agency topic (not the dead-letter topic).
    static var agencyTopics: [AccordTopic] { AccordTopic.all.filter { $0.owner != nil } }

    static func createTopics(on cluster: EmbeddedKafkaCluster, partitions: Int32 = 6) throws {
        for topic in AccordTopic.all {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: partitions,
                                              replicationFactor: Int32(cluster.brokerCount)))
        }
    }

    /// Reads every agency topic from the beginning to its current end.
    static func readAll(from cluster: EmbeddedKafkaCluster, partitions: Int32 = 6) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        var assignment: [TopicPartition: StartOffset] = [:]
        for topic in agencyTopics {
            for partition in 0..<partitions { assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning }
        }
        try await consumer.assign(assignment, stopAtEnd: true)
        var records: [ConsumerRecord] = []
        for try await record in consumer.records { records.append(record) }
        await consumer.close()
        return records
    }
}
