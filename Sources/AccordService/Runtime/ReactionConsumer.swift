import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import Logging
import Synchronization

/// Consumes every agency topic (the other agencies' and its own) from the beginning into the
/// reaction state, in a consumer group of this service. Its own events accepted by this process
/// were applied when accepted and are skipped by their sequence, without decoding. Offsets are
/// never committed: the state lives in memory and is rebuilt from the topics at every start
/// (applying is idempotent). Chain checkpoint records are skipped. Refreshes the reaction lag
/// gauge while it runs.
struct ReactionConsumer: Sendable {
    let configuration: ServiceConfiguration
    let reactions: any ReactionModel
    let codec: EventCodec
    let metrics: ServiceMetrics
    let lag: LagReading
    let logger: Logger
    /// This service's source: its events with a sequence above ``appliedAbove`` were applied when
    /// they were accepted by this process, and are skipped when they come back from the topic.
    let source: EventSource
    /// The last sequence number accepted before this process started accepting.
    let appliedAbove: Int64

    /// Runs until cancelled (or until consuming fails, which is thrown).
    func run() async throws {
        let topics = configuration.profile.reactionTopics.map(\.name)
        let consumer = try KafkaConsumer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                 groupID: configuration.resolvedConsumerGroup,
                                 clientID: "accord-\(configuration.profile.kind.rawValue)-reactions",
                                 autoOffsetReset: "earliest",
                                 properties: configuration.kafkaProperties.merging(configuration.consumerProperties) { _, new in new }),
            logger: logger)
        do {
            try consumer.subscribe(topics)
            logger.info("consuming agency topics for reactions", metadata: [
                "topics": "\(topics.joined(separator: ","))", "group": "\(configuration.resolvedConsumerGroup)"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consume(consumer) }
                group.addTask { try await watchLag(consumer) }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await close(consumer)
            throw error
        }
        await close(consumer)
    }

    /// Leaves the group, waiting at most the shutdown timeout (a rebalance in progress on the
    /// broker can hold `close` for up to the session timeout; the process must still stop).
    private func close(_ consumer: KafkaConsumer) async {
        let timeout = configuration.shutdownTimeout
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumed = Mutex(false)
            let resume: @Sendable (Bool) -> Void = { value in
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            Task {
                await consumer.close()
                resume(true)
            }
            Task {
                try? await Task.sleep(for: timeout)
                resume(false)
            }
        }
        if !finished {
            logger.warning("reaction consumer did not leave its group in time; continuing shutdown",
                           metadata: ["timeout": "\(configuration.shutdownTimeout)"])
        }
    }

    private func consume(_ consumer: KafkaConsumer) async throws {
        for try await record in consumer.records {
            // Chain checkpoints are control records of the integrity protocol, not events.
            if record.header(ChainCheckpoint.recordKindHeader)?.stringValue == ChainCheckpoint.recordKind { continue }
            if record.header("ce_source")?.stringValue == source.urn,
               let sequence = record.header("ce_sequence")?.stringValue.flatMap(Int64.init), sequence > appliedAbove {
                continue
            }
            let event: AccordEvent
            do {
                event = try record.decodeEvent(codec: codec)
            } catch {
                metrics.reactionSkipped()
                logger.warning("skipping a record that does not decode", metadata: [
                    "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                    "error": "\(error)"])
                continue
            }
            reactions.apply(event, recordedAt: record.recordedAt ?? event.time)
            metrics.reactionApplied()
        }
    }

    private func watchLag(_ consumer: KafkaConsumer) async throws {
        while true {
            try await Task.sleep(for: configuration.lagInterval)
            do {
                let total = try await consumer.lag(timeout: configuration.queryTimeout).reduce(Int64(0)) { $0 + $1.lag }
                lag.set(total)
                metrics.reactionLag(total)
            } catch let error as KafkaError {
                logger.debug("reaction lag not available", metadata: ["error": "\(error)"])
            }
        }
    }
}
