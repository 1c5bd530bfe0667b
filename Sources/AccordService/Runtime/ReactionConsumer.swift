import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import Logging
import Synchronization

/// Consumes every agency topic (the other agencies' and its own) from the beginning into the
/// reaction state, in a consumer group of this service, applying what is buffered in batches of
/// up to ``batchSize`` records. Its own events accepted by this process
/// were applied when accepted and are skipped by their sequence, without decoding. Offsets are
/// never committed: the state is derived and is rebuilt from the topics at every start
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

    /// librdkafka's prefetch for the reaction consumer, kept small (its defaults queue up to 64 MB
    /// and 100,000 records per partition): reactions apply batches of 1,000, so a few thousand
    /// records ahead keep it busy, and the service's memory does not depend on how far behind it is.
    static let boundedPrefetch: [String: String] = [
        "queued.max.messages.kbytes": "8192",
        "queued.min.messages": "2000",
        "fetch.max.bytes": "4194304",
    ]

    /// Runs until cancelled (or until consuming fails, which is thrown).
    func run() async throws {
        let topics = configuration.profile.reactionTopics.map(\.name)
        let consumer = try KafkaConsumer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers,
                                 groupID: configuration.resolvedConsumerGroup,
                                 clientID: "accord-\(configuration.profile.kind.rawValue)-reactions",
                                 autoOffsetReset: "earliest", bufferCapacity: 2_000,
                                 properties: Self.boundedPrefetch
                                     .merging(configuration.kafkaProperties) { _, new in new }
                                     .merging(configuration.consumerProperties) { _, new in new }),
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

    /// Records applied to the reaction view in one transaction at most.
    static let batchSize = 1_000

    private func consume(_ consumer: KafkaConsumer) async throws {
        while true {
            let records = try await consumer.nextBatch(maxRecords: Self.batchSize)
            if records.isEmpty { return }
            var events: [IncomingEvent] = []
            events.reserveCapacity(records.count)
            for record in records {
                if let event = event(in: record) { events.append(IncomingEvent(event, recordedAt: record.recordedAt ?? event.time)) }
            }
            guard !events.isEmpty else { continue }
            do {
                try reactions.apply(events)
            } catch {
                metrics.reactionFailed(events.count)
                throw ReactionApplyFailed(events: events.count, reason: "\(error)")
            }
            metrics.reactionApplied(events.count)
        }
    }

    /// The event a record holds, or nil for a chain checkpoint, for an event of this service
    /// already applied when accepted, and for a record that does not decode (counted and logged).
    private func event(in record: ConsumerRecord) -> AccordEvent? {
        // Chain checkpoints are control records of the integrity protocol, not events.
        if record.header(ChainCheckpoint.recordKindHeader)?.stringValue == ChainCheckpoint.recordKind { return nil }
        if record.header("ce_source")?.stringValue == source.urn,
           let sequence = record.header("ce_sequence")?.stringValue.flatMap(Int64.init), sequence > appliedAbove {
            return nil
        }
        do {
            return try record.decodeEvent(codec: codec)
        } catch {
            metrics.reactionSkipped()
            logger.warning("skipping a record that does not decode", metadata: [
                "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "error": "\(error)"])
            return nil
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

/// The reaction view could not take a batch of consumed events (it is incomplete until a restart).
struct ReactionApplyFailed: Error, CustomStringConvertible {
    /// Events in the batch.
    var events: Int
    /// The store's error.
    var reason: String

    var description: String { "\(events) consumed events could not be applied to the reaction view: \(reason)" }
}
