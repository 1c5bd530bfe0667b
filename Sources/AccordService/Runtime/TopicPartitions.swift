import AccordKafka
import Logging

/// Finds how many partitions a topic has, by asking for watermarks of partitions 0, 1, 2, …
/// until the broker says a partition (or the topic) does not exist.
enum TopicPartitions {
    /// The most partitions probed.
    static let maximum: Int32 = 1024

    /// Whether `error` means "no such partition or topic" (rather than "broker unreachable").
    static func isMissing(_ error: KafkaError) -> Bool {
        ["_UNKNOWN_PARTITION", "_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART"].contains(error.codeName)
    }

    /// The partition count of `topic` (0 if the topic does not exist). Other failures are thrown.
    static func count(of topic: String, bootstrapServers: String, properties: [String: String],
                      timeout: Duration, logger: Logger) async throws -> Int32 {
        let probe = try KafkaConsumer(configuration: .init(bootstrapServers: bootstrapServers,
                                                           clientID: "accord-partition-probe", properties: properties),
                                      logger: logger)
        var partition: Int32 = 0
        do {
            while partition < maximum {
                try Task.checkCancellation()
                do {
                    try await probe.assign([TopicPartition(topic: topic, partition: partition): .end],
                                           stopAtEnd: true, timeout: timeout)
                } catch let error as KafkaError where isMissing(error) {
                    break
                }
                partition += 1
            }
        } catch {
            await probe.close()
            throw error
        }
        await probe.close()
        return partition
    }
}
