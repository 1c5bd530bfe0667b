import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordRuntime
import AccordStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The projector's consuming loop: reads every agency topic in one consumer group,
/// checks every record's chain and checkpoint signatures against the key registry (when one is
/// configured), refuses bad records to the dead-letter topic, applies good events through the
/// pure projection and commits journal (hash-chained), view rows, verifier state, verified
/// checkpoints and offsets in one store transaction per batch, with a signed journal
/// checkpoint every so often. On start it rebuilds the view from the journal, restores the
/// verifier's state and resumes from the offsets stored with them.
public final class Projector: Service, Sendable {
    /// The topics the projector reads: every agency's topic.
    public static let topics = AccordTopic.all.filter { $0.owner != nil }.map(\.name)

    private let configuration: ProjectorConfiguration
    private let store: ProjectorStore
    /// The live view, shared with the query API.
    public let view: ViewHolder
    /// Next offset per partition whose records are committed to the store and in the view.
    private let appliedOffsets = Mutex<[TopicPartition: Int64]>([:])
    private let logger: Logger
    private let check = RecordCheck()
    private let consumer: KafkaConsumer
    private let deadLetterProducer: KafkaProducer
    private let applied = Counter(label: "accord_projector_events_applied_total")
    private let duplicates = Counter(label: "accord_projector_events_duplicate_total")
    private let refused = Counter(label: "accord_projector_events_dead_lettered_total")
    private let batchTimer = Timer(label: "accord_projector_batch_duration_seconds")
    /// Verified / provisional counts and per-event status, shared with the query API.
    public let integrity: IntegrityStatus
    /// The projector's key, which signs journal checkpoints.
    public let signingKey: AgencySigningKey
    private let runtime: Mutex<IntegrityRuntime>

    /// The mutable integrity state of the consuming loop, replaced after each committed batch.
    struct IntegrityRuntime: Sendable {
        /// The chain verifier; nil when integrity checking is off.
        var verifier: ChainVerifier?
        /// Batches that applied events since the last journal checkpoint.
        var batchesSinceCheckpoint = 0
        /// Entries journaled since the last journal checkpoint.
        var entriesSinceCheckpoint = 0
        /// When the last journal checkpoint was signed (or the projector started).
        var lastCheckpoint = ContinuousClock.now
    }

    /// Opens the store, rebuilds the view from its journal and prepares the Kafka clients.
    public init(configuration: ProjectorConfiguration, logger: Logger = Logger(label: "accord.projector")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try ProjectorStore(path: configuration.storePath)
        let rebuilt = try Self.rebuild(from: store, rules: configuration.rules, logger: logger)
        view = ViewHolder(rebuilt.state, latestEventTime: rebuilt.latestEventTime)
        let keyPath = configuration.signingKeyPath ?? ProjectorSigningKey.defaultPath(store: configuration.storePath)
        let loaded = try ProjectorSigningKey.loadOrCreate(path: keyPath, signer: configuration.signer)
        signingKey = loaded.key
        let entry = try ProjectorSigningKey.registryEntry(for: loaded.key, keyFile: keyPath)
        let publicPath = ProjectorSigningKey.publicPath(store: configuration.storePath)
        try ProjectorSigningKey.writePublic(entry, to: publicPath)
        logger.notice(loaded.created ? "projector signing key generated" : "projector signing key loaded", metadata: [
            "signer": "\(entry.source)", "keyId": "\(entry.keyId)", "file": "\(keyPath)",
            "publicEntry": "\(String(decoding: (try? KeyRegistry(keys: [entry]).jsonBytes()) ?? [], as: UTF8.self))",
            "publicFile": "\(publicPath)",
        ])
        let counts = try store.integrityCounts()
        var runtime = IntegrityRuntime()
        if let registry = configuration.keyRegistry {
            var verifier = ChainVerifier(registry: registry, maxUnverifiedPerChain: configuration.maxUnverifiedPerChain)
            let states = try store.chainStates()
            for state in states { verifier.restore(state) }
            runtime.verifier = verifier
            integrity = IntegrityStatus(checking: true, counts: counts, provisionalIds: try store.provisionalEventIds(),
                                        lastJournalCheckpoint: try store.latestJournalCheckpoint())
            logger.notice("integrity checking on", metadata: [
                "keys": "\(registry.keys.count)", "chainsRestored": "\(states.count)",
                "verified": "\(counts.verified)", "provisional": "\(counts.provisional)",
            ])
        } else {
            integrity = IntegrityStatus(checking: false, counts: counts,
                                        lastJournalCheckpoint: try store.latestJournalCheckpoint())
            logger.warning("integrity checking is OFF: no key registry (--key-registry); chains and signatures are not checked and events are journaled as unverified")
        }
        self.runtime = Mutex(runtime)
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
        let resumed = try store.offsets()
        appliedOffsets.withLock { applied in
            for offset in resumed {
                applied[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.nextOffset
            }
        }
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
        do {
            try await checkpointJournal()
        } catch {
            logger.error("cannot sign the final journal checkpoint", metadata: ["error": "\(error)"])
        }
        await closeClients()
        logger.notice("projector stopped")
    }

    private func closeClients() async {
        await consumer.close()
        _ = await deadLetterProducer.shutdown(timeout: .seconds(5))
    }

    /// What the integrity check made of one record.
    private enum Screened {
        /// An event to decode and apply: its hash and, when checked, its place in the chain.
        case event(Hash256, ChainLink?)
        /// Not an event to apply and not refused: a verified checkpoint or a redelivery.
        case skip
        /// Refused with a reason.
        case reject(String)
    }

    /// Hashes the record and, with a registry, runs it through the chain verifier.
    private func screen(_ record: ConsumerRecord, verifier: inout ChainVerifier?, batch: inout StoreBatch,
                        orphans: inout [ChainLink]) -> Screened {
        let message = record.binaryMessage
        guard var checker = verifier else {
            if ChainCheckpoint.isCheckpointRecord(message) { return .skip }
            do {
                return .event(try EventHashing.hash(message: message).hash, nil)
            } catch {
                return .reject("unhashable: \(error)")
            }
        }
        let verdict = checker.accept(record: message, topic: record.topic, partition: record.partition, offset: record.offset)
        verifier = checker
        switch verdict {
        case .checkpoint(.verified(let coverage)):
            batch.chainCheckpoints.append(StoredChainCheckpoint(checkpoint: coverage.checkpoint, offset: record.offset,
                                                                body: record.value))
            batch.verifiedRecords.append(contentsOf: coverage.verified.map {
                RecordCoordinates(topic: $0.chain.topic, partition: $0.chain.partition, offset: $0.offset)
            })
            orphans.append(contentsOf: coverage.orphaned)
            return .skip
        case .checkpoint(.duplicate), .event(.duplicate):
            return .skip
        case .checkpoint(.rejected(let rejection)):
            return .reject("\(rejection.code): \(rejection)")
        case .event(.rejected(let rejection)):
            return .reject("\(rejection.code): \(rejection)")
        case .event(.provisional(let link)):
            if link.forked {
                logger.error("forked chain: two events claim the same place", metadata: [
                    "chain": "\(link.chain)", "position": "\(link.position)", "offset": "\(link.offset)",
                ])
            }
            return .event(link.hash, link)
        }
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
        var runtime = self.runtime.withLock { $0 }
        let verifierBefore = runtime.verifier
        var orphans: [ChainLink] = []
        for record in records {
            nextOffsets[record.topicPartition] = max(nextOffsets[record.topicPartition] ?? 0, record.offset + 1)
            let eventHash: Hash256
            let link: ChainLink?
            switch screen(record, verifier: &runtime.verifier, batch: &batch, orphans: &orphans) {
            case .skip:
                continue
            case .reject(let reason):
                reject(record, reason: reason, into: &batch, rejected: &rejected)
                continue
            case .event(let hash, let chainLink):
                eventHash = hash
                link = chainLink
            }
            switch check.check(record) {
            case .accepted(let event):
                let recordedAt = Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time)
                switch state.apply(event, recordedAt: recordedAt) {
                case .applied:
                    var entry = AccordStore.JournalEntry(event: event, record: record)
                    entry.eventHash = eventHash
                    entry.chainPosition = link?.position
                    batch.entries.append(entry)
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
                reject(record, reason: reason, into: &batch, rejected: &rejected)
            }
        }
        for orphan in orphans {
            let coordinates = RecordCoordinates(topic: orphan.chain.topic, partition: orphan.chain.partition, offset: orphan.offset)
            let journaled = try batch.entries.first {
                $0.topic == coordinates.topic && $0.partition == coordinates.partition && $0.offset == coordinates.offset
            } ?? store.journalEntry(at: coordinates)
            // An orphan that was never journaled was refused by the event check and is already dead-lettered.
            guard let journaled else { continue }
            let reason = "orphaned: event \(orphan.hash) at position \(orphan.position) of \(orphan.chain) is not on the chain its source signed (forged or wrongly attributed)"
            logger.error("orphaned event: applied but never verifiable", metadata: [
                "eventId": "\(journaled.eventId)", "chain": "\(orphan.chain)", "offset": "\(orphan.offset)",
            ])
            reject(journaled.consumerRecord, reason: reason, into: &batch, rejected: &rejected)
        }
        if let verifier = runtime.verifier {
            batch.chainStates = verifier.chains.values.filter {
                verifierBefore?.state(of: $0.chain)?.lastOffset != $0.lastOffset
            }.sorted { ($0.chain.source, $0.chain.topic, $0.chain.partition) < ($1.chain.source, $1.chain.topic, $1.chain.partition) }
        }
        // Refused records must be safely on the dead-letter topic before their offsets are committed.
        try await DeadLetterPublisher(producer: deadLetterProducer).send(rejected)
        batch.offsets = nextOffsets.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
        if let latest {
            let documents = ViewDocuments(state: state, asOf: latest)
            batch.cases = touchedCases.sorted().compactMap { documents.caseDocument($0) }
            // A contract's performance changes with the cases referred under it, not only with its own events.
            let contracts = touchedContracts.union(documents.contracts(referencedBy: touchedCases))
            batch.contracts = contracts.sorted().compactMap { documents.contractDocument($0) }
        }
        if !batch.entries.isEmpty {
            runtime.batchesSinceCheckpoint += 1
            runtime.entriesSinceCheckpoint += batch.entries.count
        }
        if runtime.entriesSinceCheckpoint > 0,
           runtime.batchesSinceCheckpoint >= configuration.journalCheckpointBatches
            || ContinuousClock.now - runtime.lastCheckpoint >= configuration.journalCheckpointInterval {
            batch.journalCheckpoint = JournalCheckpointRequest(viewDigest: JournalViewDigest.digest(of: state, asOf: latest),
                                                               issuedAt: ServiceClock.system.now(), key: signingKey)
        }
        let committed = try await store.commitBatchAsync(batch)
        if committed.journalCheckpoint != nil {
            runtime.batchesSinceCheckpoint = 0
            runtime.entriesSinceCheckpoint = 0
            runtime.lastCheckpoint = ContinuousClock.now
        }
        let installed = runtime
        self.runtime.withLock { $0 = installed }
        integrity.record(committed, chainCheckpoints: batch.chainCheckpoints.count)
        view.replace(state, latestEventTime: latest)
        appliedOffsets.withLock { applied in
            for offset in batch.offsets {
                applied[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.nextOffset
            }
        }
        applied.increment(by: batch.entries.count)
        refused.increment(by: rejected.count)
        batchTimer.recordInterval(since: started)
        // Kafka's committed offsets follow the store's, for operators' tools; the store stays the authority.
        try? await consumer.commit(records)
    }

    private func reject(_ record: ConsumerRecord, reason: String, into batch: inout StoreBatch,
                        rejected: inout [(record: ConsumerRecord, reason: String)]) {
        rejected.append((record, reason))
        batch.deadLetters.append(DeadLetterEntry(topic: record.topic, partition: record.partition,
                                                 offset: record.offset, reason: reason))
        logger.warning("record dead-lettered", metadata: [
            "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
            "reason": "\(reason)",
        ])
    }

    /// Signs a journal checkpoint of the current head and view when entries were journaled since
    /// the last one (called at shutdown).
    func checkpointJournal() async throws {
        let runtime = self.runtime.withLock { $0 }
        guard runtime.entriesSinceCheckpoint > 0 else { return }
        var batch = StoreBatch()
        batch.journalCheckpoint = JournalCheckpointRequest(
            viewDigest: JournalViewDigest.digest(of: view.snapshot(), asOf: view.latestEventTime),
            issuedAt: ServiceClock.system.now(), key: signingKey)
        let committed = try await store.commitBatchAsync(batch)
        self.runtime.withLock {
            $0.batchesSinceCheckpoint = 0
            $0.entriesSinceCheckpoint = 0
            $0.lastCheckpoint = ContinuousClock.now
        }
        integrity.record(committed, chainCheckpoints: 0)
        if let checkpoint = committed.journalCheckpoint {
            logger.notice("journal checkpoint signed", metadata: [
                "position": "\(checkpoint.position)", "entryHash": "\(checkpoint.entryHash)",
            ])
        }
    }

    /// How far the view is behind the end of each partition: the high watermark against the
    /// next offset committed to the store (records handed over but not yet committed still count
    /// as lag, so "caught up" means the view has them).
    public func lag() async throws -> [PartitionLag] {
        let applied = appliedOffsets.withLock { $0 }
        return try await consumer.lag().map { lag in
            PartitionLag(topicPartition: lag.topicPartition, highWatermark: lag.highWatermark,
                         position: applied[lag.topicPartition] ?? 0)
        }
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
