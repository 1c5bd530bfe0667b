import AccordBus
import AccordEvents
import AccordKafka
import AccordProjection
import AccordStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The projector's consuming loop: reads every agency topic in one consumer group,
/// refuses bad records to the dead-letter topic, applies good events through the pure
/// projection and commits journal, view rows and offsets in one store transaction per
/// batch. On start it rebuilds the view from the journal and resumes from the offsets
/// stored with it.
public final class Projector: Service, Sendable {
    /// The topics the projector reads: every agency's topic.
    public static let topics = AccordTopic.all.filter { $0.owner != nil }.map(\.name)

    private let configuration: ProjectorConfiguration
    private let store: ProjectorStore
    /// The live view, shared with the query API.
    public let view: ViewHolder
    private let logger: Logger
    private let check = RecordCheck()
    private let consumer: KafkaConsumer
    private let deadLetterProducer: KafkaProducer
    private let applied = Counter(label: "accord_projector_events_applied_total")
    private let duplicates = Counter(label: "accord_projector_events_duplicate_total")
    private let refused = Counter(label: "accord_projector_events_dead_lettered_total")
    private let batchTimer = Timer(label: "accord_projector_batch_duration_seconds")

    /// Opens the store, rebuilds the view from its journal and prepares the Kafka clients.
    public init(configuration: ProjectorConfiguration, logger: Logger = Logger(label: "accord.projector")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try ProjectorStore(path: configuration.storePath)
        let rebuilt = try Self.rebuild(from: store, rules: configuration.rules, logger: logger)
        view = ViewHolder(rebuilt.state, latestEventTime: rebuilt.latestEventTime)
        let store = self.store
        let logger = self.logger
        consumer = try KafkaConsumer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers, groupID: configuration.groupID,
                                 clientID: "accord-projector", bufferCapacity: max(configuration.batchSize * 4, 1_000),
                                 properties: configuration.consumerProperties),
            startOffsets: { partitions in
                // The store, not Kafka, is the authority on where to resume.
                let stored = (try? store.offsets()) ?? []
                var starts: [TopicPartition: StartOffset] = [:]
                for partition in partitions {
                    let next = stored.first { $0.topic == partition.topic && $0.partition == partition.partition }
                    starts[partition] = next.map { .offset($0.nextOffset) } ?? .beginning
                }
                logger.info("resuming partitions from the store", metadata: ["partitions": "\(starts.count)"])
                return starts
            },
            logger: logger)
        deadLetterProducer = try KafkaProducer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers, clientID: "accord-projector-dlq"),
            logger: logger)
    }

    /// Rebuilds the projection from the journal, in journal order.
    static func rebuild(from store: ProjectorStore, rules: ProjectionRules,
                        logger: Logger) throws -> (state: ProjectionState, latestEventTime: Timestamp?) {
        var state = ProjectionState(rules: rules)
        var latest: Timestamp?
        let codec = EventCodec()
        var count = 0
        try store.forEachJournalEntry { entry in
            let event = try entry.consumerRecord.decodeEvent(codec: codec)
            let recordedAt = Timestamp(rfc3339: entry.recordedAt) ?? event.time
            _ = state.apply(event, recordedAt: recordedAt)
            latest = max(latest ?? event.time, event.time)
            count += 1
        }
        if count > 0 { logger.notice("view rebuilt from journal", metadata: ["events": "\(count)"]) }
        return (state, latest)
    }

    /// Consumes until graceful shutdown or cancellation, then closes its Kafka clients.
    public func run() async throws {
        try consumer.subscribe(Self.topics)
        logger.notice("projector consuming", metadata: ["topics": "\(Self.topics.joined(separator: ","))"])
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let records = try await self.consumer.nextBatch(maxRecords: self.configuration.batchSize)
                    if records.isEmpty { break }
                    try await self.process(records)
                }
            }
        } catch is CancellationError {
            // Shutdown: the last committed batch is the resume point.
        } catch {
            await closeClients()
            throw error
        }
        await closeClients()
        logger.notice("projector stopped")
    }

    private func closeClients() async {
        await consumer.close()
        _ = await deadLetterProducer.shutdown(timeout: .seconds(5))
    }

    /// Checks, dead-letters, applies and commits one batch of records.
    func process(_ records: [ConsumerRecord]) async throws {
        let started = ContinuousClock.now
        var state = view.snapshot()
        var latest = view.latestEventTime
        var batch = StoreBatch()
        var rejected: [(record: ConsumerRecord, reason: String)] = []
        var touchedCases = Set<String>()
        var touchedContracts = Set<String>()
        var nextOffsets: [TopicPartition: Int64] = [:]
        for record in records {
            nextOffsets[record.topicPartition] = max(nextOffsets[record.topicPartition] ?? 0, record.offset + 1)
            switch check.check(record) {
            case .accepted(let event):
                let recordedAt = Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time)
                switch state.apply(event, recordedAt: recordedAt) {
                case .applied:
                    batch.entries.append(JournalEntry(event: event, record: record))
                    latest = max(latest ?? event.time, event.time)
                    switch event.kind.subjectKind {
                    case .caseId: touchedCases.insert(event.subject)
                    case .contractId: touchedContracts.insert(event.subject)
                    case .area: break
                    }
                case .duplicate:
                    duplicates.increment()
                }
            case .rejected(let reason):
                rejected.append((record, reason))
                batch.deadLetters.append(DeadLetterEntry(topic: record.topic, partition: record.partition,
                                                         offset: record.offset, reason: reason))
                logger.warning("record dead-lettered", metadata: [
                    "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                    "reason": "\(reason)",
                ])
            }
        }
        // Refused records must be safely on the dead-letter topic before their offsets are committed.
        try await DeadLetterPublisher(producer: deadLetterProducer).send(rejected)
        batch.offsets = nextOffsets.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
        if let latest {
            let documents = ViewDocuments(state: state, asOf: latest)
            batch.cases = touchedCases.sorted().compactMap(documents.caseDocument)
            batch.contracts = touchedContracts.sorted().compactMap(documents.contractDocument)
        }
        try await store.commitAsync(batch)
        view.replace(state, latestEventTime: latest)
        applied.increment(by: batch.entries.count)
        refused.increment(by: rejected.count)
        batchTimer.recordInterval(since: started)
        // Kafka's committed offsets follow the store's, for operators' tools; the store stays the authority.
        try? await consumer.commit(records)
    }

    /// How far behind the end of its partitions the projector is.
    public func lag() async throws -> [PartitionLag] {
        try await consumer.lag()
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
