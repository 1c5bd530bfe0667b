import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import Logging

/// The own topic holds a record of this service's source that does not extend its chain: the
/// history was altered, injected or lost. The service refuses to start rather than fork the chain.
public struct ChainHistoryError: Error, Sendable, CustomStringConvertible {
    /// The chain.
    public var chain: ChainID
    /// The offending record's offset.
    public var offset: Int64
    /// What is wrong with it.
    public var reason: String

    /// A specific message with what to do.
    public var description: String {
        "refusing to start: the record at \(chain.topic)/\(chain.partition) offset \(offset) claims source \(chain.source) but does not extend its hash chain (\(reason)). "
            + "The chain on Kafka is broken (an event was altered, injected or lost); publishing would fork it. "
            + "Verify the topic with the agency's public keys (e.g. the projector's dead-letter reasons) and resolve the history before restarting."
    }
}

/// The startup catch-up: reads the agency's own topics from the beginning to their current end,
/// continuing the sequence after the highest number found for its source, rebuilding every
/// chain's head and length from the source's records (hashed exactly as received, as a verifier
/// does), remembering the ids it published (for idempotent retries) and feeding every event to
/// the reaction state. Checkpoint records are not events: the source's own tell how far each
/// chain is already covered.
struct OwnTopicReplay: Sendable {
    let source: EventSource
    let configuration: ServiceConfiguration
    let ledger: PublicationLedger
    let reactions: any ReactionModel
    let codec: EventCodec
    let key: AgencySigningKey
    let metrics: ServiceMetrics
    let logger: Logger

    /// What the replay found.
    struct Summary: Sendable {
        var records = 0
        var ownEvents = 0
        var checkpoints = 0
        var partitions: [String: Int32] = [:]
        var chains: [ChainID: ChainProgress] = [:]
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
            guard count > 0 else {
                throw ServiceSetupError("topic \(topic.name) does not exist yet: events are produced to an explicit partition computed from the partition count, so the topic must exist")
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
                try apply(record, to: &summary)
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return summary
    }

    /// Takes one record of an own topic into account.
    private func apply(_ record: ConsumerRecord, to summary: inout Summary) throws(ChainHistoryError) {
        let message = record.binaryMessage
        let chain = ChainID(source: source.urn, topic: record.topic, partition: record.partition)
        if ChainCheckpoint.isCheckpointRecord(message) {
            summary.checkpoints += 1
            noteCheckpoint(message, record: record, chain: chain, in: &summary)
            return
        }
        // The sequence counts even if the record does not decode (never reuse a number).
        if record.header("ce_source")?.stringValue == source.urn {
            summary.ownEvents += 1
            try extend(chain, with: message, offset: record.offset, in: &summary)
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
            return
        }
        if event.source == source {
            ledger.record(event, acknowledgement: Acknowledgement(
                event: event, metadata: RecordMetadata(topic: record.topic, partition: record.partition, offset: record.offset)))
        }
        reactions.apply(event, recordedAt: record.recordedAt ?? event.time)
    }

    /// Appends one of the source's event records to its chain, hashed exactly as received.
    private func extend(_ chain: ChainID, with message: BinaryMessage, offset: Int64,
                        in summary: inout Summary) throws(ChainHistoryError) {
        let hashed: HashedEvent
        do {
            hashed = try EventHashing.hash(message: message)
        } catch {
            throw ChainHistoryError(chain: chain, offset: offset, reason: "the record cannot be hashed: \(error)")
        }
        var progress = summary.chains[chain] ?? ChainProgress(writer: ChainWriter(chain: chain))
        if progress.writer.count > 0, hashed.hash == progress.writer.head {
            // A byte-identical copy of the head (a redelivered produce): verifiers skip it as replayed.
            logger.warning("own topic holds a duplicate of the chain head; ignoring it", metadata: [
                "chain": "\(chain)", "offset": "\(offset)"])
            return
        }
        do {
            try progress.writer.append(hashed)
        } catch {
            throw ChainHistoryError(chain: chain, offset: offset, reason: "\(error)")
        }
        summary.chains[chain] = progress
    }

    /// Notes how far a checkpoint of this source covers its chain. A checkpoint follows the events
    /// it covers, so it must sign the head read so far, with this service's key; any other is
    /// ignored (the chain then gets a fresh checkpoint).
    private func noteCheckpoint(_ message: BinaryMessage, record: ConsumerRecord, chain: ChainID,
                                in summary: inout Summary) {
        guard let checkpoint = try? ChainCheckpoint(record: message), checkpoint.chain.source == source.urn else { return }
        let writer = summary.chains[chain]?.writer ?? ChainWriter(chain: chain)
        guard checkpoint.chain == chain, checkpoint.count == writer.count, checkpoint.head == writer.head else {
            logger.warning("a checkpoint of this source does not sign its chain as read; a new one will be issued",
                           metadata: ["topic": "\(record.topic)", "partition": "\(record.partition)",
                                      "offset": "\(record.offset)", "count": "\(checkpoint.count)"])
            return
        }
        guard checkpoint.keyId == key.keyId, let registry = try? KeyRegistry(keys: [key.registryEntry(validFrom: checkpoint.issuedAt)]),
              registry.verify(signature: checkpoint.signature, over: checkpoint.signedBytes, keyId: checkpoint.keyId,
                              signer: source.urn, at: checkpoint.issuedAt) == nil else {
            // Signed with an earlier key (rotation) or not by this source: issue one with the current key.
            logger.debug("a checkpoint of this source is not signed with the current key", metadata: [
                "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "keyId": "\(checkpoint.keyId)"])
            return
        }
        guard checkpoint.count > 0, var progress = summary.chains[chain] else { return }
        progress.covered = max(progress.covered, checkpoint.count)
        summary.chains[chain] = progress
    }
}
