import AccordBus
import AccordEvents
import AccordKafka
import Logging

/// The startup catch-up: reads the agency's own topics from the beginning to their current end,
/// continuing the sequence after the highest number found for its source, remembering the ids it
/// published (for idempotent retries) and feeding every event to the reaction state.
struct OwnTopicReplay: Sendable {
    let source: EventSource
    let configuration: ServiceConfiguration
    let ledger: PublicationLedger
    let reactions: any ReactionModel
    let codec: EventCodec
    let metrics: ServiceMetrics
    let logger: Logger

    /// What the replay found.
    struct Summary: Sendable {
        var records = 0
        var ownEvents = 0
        var partitions: [String: Int32] = [:]
    }

    func run() async throws -> Summary {
        var summary = Summary()
        var assignment: [TopicPartition: StartOffset] = [:]
        for topic in configuration.profile.ownTopics {
            let count: Int32
            if let configured = configuration.partitions {
                count = configured
            } else {
                count = try await TopicPartitions.count(of: topic.name, bootstrapServers: configuration.bootstrapServers,
                                                        properties: configuration.kafkaProperties,
                                                        timeout: configuration.queryTimeout, logger: logger)
            }
            summary.partitions[topic.name] = count
            for partition in 0..<count {
                assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning
            }
        }
        guard !assignment.isEmpty else { return summary }
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                                              clientID: "accord-\(source.kind.rawValue)-replay",
                                                              properties: configuration.kafkaProperties),
                                         logger: logger)
        do {
            try await consumer.assign(assignment, stopAtEnd: true, timeout: configuration.queryTimeout)
            for try await record in consumer.records {
                summary.records += 1
                if apply(record) { summary.ownEvents += 1 }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return summary
    }

    /// Takes one record of an own topic into account; returns whether it is this source's event.
    private func apply(_ record: ConsumerRecord) -> Bool {
        // The sequence counts even if the record does not decode (never reuse a number).
        var own = false
        if record.header("ce_source")?.stringValue == source.urn {
            own = true
            if let sequence = record.header("ce_sequence")?.stringValue.flatMap(Int64.init) {
                ledger.noteSequence(sequence)
            }
        }
        let event: AccordEvent
        do {
            event = try record.decodeEvent(codec: codec)
        } catch {
            metrics.reactionSkipped()
            logger.warning("skipping a record of an own topic that does not decode", metadata: [
                "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "error": "\(error)"])
            return own
        }
        if event.source == source {
            ledger.record(event, acknowledgement: Acknowledgement(
                event: event, metadata: RecordMetadata(topic: record.topic, partition: record.partition, offset: record.offset)))
        }
        reactions.apply(event, recordedAt: record.recordedAt ?? event.time)
        return own
    }
}
