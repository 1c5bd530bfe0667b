import AccordEvents
import AccordKafka

/// Sends refused records to `accord.dead-letter.v1` with their original key, value and
/// headers, plus headers saying why and where they came from.
public struct DeadLetterPublisher: Sendable {
    /// Header carrying the human-readable reason the record was refused.
    public static let reasonHeader = "accord-dlq-reason"
    /// Header carrying the original topic.
    public static let topicHeader = "accord-dlq-topic"
    /// Header carrying the original partition.
    public static let partitionHeader = "accord-dlq-partition"
    /// Header carrying the original offset.
    public static let offsetHeader = "accord-dlq-offset"

    private let producer: KafkaProducer

    /// Creates a publisher sending through `producer`.
    public init(producer: KafkaProducer) {
        self.producer = producer
    }

    /// The dead-letter record for `record`, refused for `reason`.
    public static func deadLetter(for record: ConsumerRecord, reason: String) -> ProducerRecord {
        var headers = record.headers
        headers.append(KafkaHeader(key: reasonHeader, string: reason))
        headers.append(KafkaHeader(key: topicHeader, string: record.topic))
        headers.append(KafkaHeader(key: partitionHeader, string: String(record.partition)))
        headers.append(KafkaHeader(key: offsetHeader, string: String(record.offset)))
        return ProducerRecord(topic: AccordTopic.deadLetter.name, key: record.key, value: record.value, headers: headers)
    }

    /// Sends the refused records and waits until the broker has acknowledged all of them.
    public func send(_ refused: [(record: ConsumerRecord, reason: String)]) async throws {
        guard !refused.isEmpty else { return }
        let results = await producer.send(contentsOf: refused.map { Self.deadLetter(for: $0.record, reason: $0.reason) })
        for result in results { _ = try result.get() }
    }
}
