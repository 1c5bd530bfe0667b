import AccordBus
import AccordEvents
import AccordKafka

/// Helpers for putting typed events on the embedded broker and reading them back.
enum EventWire {
    static func record(for event: AccordEvent) throws -> ProducerRecord {
        try ProducerRecord(event: event)
    }

    static func event(from record: ConsumerRecord) throws -> AccordEvent {
        try record.decodeEvent()
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
