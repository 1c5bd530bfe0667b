import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordRuntime
import AccordStore
import Dispatch
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The projector's consuming loop: reads every agency topic in one consumer group, checks every
/// record's chain and checkpoint signatures against the key registry (when one is configured),
/// refuses bad records to the dead-letter topic, and journals and applies good events through the
/// projection engine — journal (hash-chained), view, verifier state, verified checkpoints and
/// offsets in one store transaction per batch, with a signed journal checkpoint of the journal head
/// and view digest every so often. On start it resumes from the offsets stored with the view; the
/// view itself lives in the store, so a restart costs what it missed, not the whole journal.
///
/// Records the projector can no longer read (an offset reset that skipped unread records, e.g.
/// after broker retention dropped them) are counted, logged with their offsets, stored and
/// reported by `/ready` and `/v1/integrity`.
public final class Projector: Service, Sendable {
    /// The topics the projector reads: every agency's topic.
    public static let topics = AccordTopic.all.filter { $0.owner != nil }.map(\.name)

    /// Consumer properties the projector sets unless configured otherwise: fetches answer within
    /// 10 ms (freshness), and a dead member's partitions move within seconds.
    public static let consumerDefaults: [String: String] = [
        "fetch.wait.max.ms": "10", "session.timeout.ms": "6000", "heartbeat.interval.ms": "2000",
        "queued.max.messages.kbytes": "16384", "queued.min.messages": "20000",
    ]

    private let configuration: ProjectorConfiguration
    /// The store.
    public let store: ProjectorStore
    /// Answers the query API's questions from the store.
    public let reader: StoreViewReader
    private let writer: Mutex<ViewStoreWriter>
    private let writerQueue = DispatchQueue(label: "accord.projector.writer")
    /// Next offset per partition whose records are committed to the store and in the view.
    private let appliedOffsets = AppliedOffsets()
    private let logger: Logger
    private let check = RecordCheck()
    private let consumer: KafkaConsumer
    private let deadLetterProducer: KafkaProducer
    private let applied = Counter(label: "accord_projector_events_applied_total")
    private let duplicates = Counter(label: "accord_projector_events_duplicate_total")
    private let refused = Counter(label: "accord_projector_events_dead_lettered_total")
    private let unreadCounter = Counter(label: "accord_projector_records_unread_total")
    private let retractedCounter = Counter(label: "accord_projector_events_retracted_total")
    private let heldCounter = Counter(label: "accord_projector_records_held_total")
    /// Records kept aside because their event id was journaled with other content.
    private let shadowedCounter = Counter(label: "accord_projector_records_shadowed_total")
    private let backfilledCounter = Counter(label: "accord_projector_events_backfilled_total")
    private let pendingGauge = Gauge(label: "accord_projector_chains_pending")
    /// Sources flagged for chain gaps they do not fill.
    private let flaggedGauge = Gauge(label: "accord_projector_sources_flagged")
    private let batchTimer = Timer(label: "accord_projector_batch_duration_seconds")
    /// Verified / provisional counts, unread records, shared with the query API.
    public let integrity: IntegrityStatus
    /// The projector's key, which signs journal checkpoints.
    public let signingKey: AgencySigningKey
    private let runtime: Mutex<IntegrityRuntime>
    private let fillAttempts = Mutex(FillAttempts())

    /// Per chain with a gap: when fetching its missing events may be tried again, and why the last try failed.
    struct FillAttempts: Sendable {
        var due: [ChainID: ContinuousClock.Instant] = [:]
        var wait: [ChainID: Duration] = [:]
        var errors: [ChainID: ChainRangeError] = [:]
        /// When fetching first failed, on both clocks (the wall clock is shown).
        var failingSince: [ChainID: (instant: ContinuousClock.Instant, at: Timestamp)] = [:]
        /// Chains whose source is flagged.
        var flagged: Set<ChainID> = []
    }

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
        /// When a batch last journaled events.
        var lastApplied = ContinuousClock.now
    }

    /// Opens the store (rebuilding the view from the journal when its format or rules changed)
    /// and prepares the Kafka clients.
    public init(configuration: ProjectorConfiguration, logger: Logger = Logger(label: "accord.projector")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try ProjectorStore(path: configuration.storePath)
        var writer = try ViewStoreWriter(store: store, rules: configuration.rules, cacheCases: configuration.cacheCases,
                                         upcaster: configuration.upcaster)
        if let reason = try writer.rebuildReason() {
            let started = ContinuousClock.now
            logger.notice("rebuilding the view from the journal", metadata: ["reason": "\(reason)"])
            try writer.rebuildView { done, total in
                if done % 100_000 == 0 || done == total {
                    logger.notice("view rebuild progress", metadata: ["done": "\(done)", "total": "\(total)"])
                }
            }
            logger.notice("view rebuilt", metadata: ["events": "\(writer.eventCount)", "seconds": "\(ContinuousClock.now - started)"])
        }
        logger.notice("view opened", metadata: [
            "events": "\(writer.eventCount)", "store": "\(configuration.storePath)",
            "upcaster": "\(configuration.upcaster.fingerprint)", "upcasting": "\(configuration.upcaster)",
        ])
        self.writer = Mutex(writer)
        reader = StoreViewReader(store: store, rules: configuration.rules)
        let keyPath = configuration.signingKeyPath ?? ProjectorSigningKey.defaultPath(store: configuration.storePath)
        let loaded = try ProjectorSigningKey.loadOrCreate(path: keyPath, signer: configuration.signer)
        signingKey = loaded.key
        let entry = try ProjectorSigningKey.registryEntry(for: loaded.key, keyFile: keyPath)
        let publicPath = ProjectorSigningKey.publicPath(store: configuration.storePath)
        try ProjectorSigningKey.writePublic(entry, to: publicPath)
        logger.notice(loaded.created ? "projector signing key generated" : "projector signing key loaded", metadata: [
            "signer": "\(entry.source)", "keyId": "\(entry.keyId)", "file": "\(keyPath)", "publicFile": "\(publicPath)",
        ])
        let counts = try store.integrityCounts()
        let unread = try store.unreadRanges().filter { $0.recoveredAt == nil }
        var runtime = IntegrityRuntime()
        if let registry = configuration.keyRegistry {
            var verifier = ChainVerifier(registry: registry, maxUnverifiedPerChain: configuration.maxUnverifiedPerChain,
                                         gapHandling: configuration.chainRanges == nil ? .refuse : .hold)
            let states = try store.chainStates()
            for state in states { verifier.restore(state) }
            runtime.verifier = verifier
            integrity = IntegrityStatus(checking: true, counts: counts, unread: unread,
                                        lastJournalCheckpoint: try store.latestJournalCheckpoint())
            logger.notice("integrity checking on", metadata: [
                "keys": "\(registry.keys.count)", "chainsRestored": "\(states.count)",
                "verified": "\(counts.verified)", "provisional": "\(counts.provisional)",
                "gaps": configuration.chainRanges == nil ? "refused (no --chain-endpoint)" : "held and filled from the sources",
            ])
        } else {
            integrity = IntegrityStatus(checking: false, counts: counts, unread: unread,
                                        lastJournalCheckpoint: try store.latestJournalCheckpoint())
            logger.warning("integrity checking is OFF: no key registry (--key-registry); chains and signatures are not checked and events are journaled as unverified")
        }
        if !unread.isEmpty {
            logger.error("records were lost before the projector could read them", metadata: [
                "ranges": "\(unread.count)", "records": "\(unread.reduce(0) { $0 + $1.count })",
            ])
        }
        self.runtime = Mutex(runtime)
        let resumed = try store.offsets()
        appliedOffsets.withLock { applied in
            for offset in resumed {
                applied[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.nextOffset
            }
        }
        let offsets = appliedOffsets
        let store = self.store
        let logger = self.logger
        var properties = Self.consumerDefaults
        for (key, value) in configuration.consumerProperties { properties[key] = value }
        consumer = try KafkaConsumer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers, groupID: configuration.groupID,
                                 clientID: "accord-projector", bufferCapacity: max(configuration.batchSize * 2, 1_000),
                                 properties: properties),
            startOffsets: { partitions in
                // The store, not Kafka, is the authority on where to resume: offsets move with the view.
                var known = offsets.withLock { $0 }
                if partitions.contains(where: { known[$0] == nil }) {
                    do {
                        for offset in try store.offsets() {
                            known[TopicPartition(topic: offset.topic, partition: offset.partition)] = offset.nextOffset
                        }
                    } catch {
                        logger.error("cannot read stored offsets; new partitions resume from the group's committed offsets",
                                     metadata: ["error": "\(error)"])
                    }
                }
                var starts: [TopicPartition: StartOffset] = [:]
                for partition in partitions {
                    starts[partition] = known[partition].map { .offset($0) } ?? .beginning
                }
                logger.info("resuming partitions from the store", metadata: ["partitions": "\(starts.count)"])
                return starts
            },
            logger: logger)
        deadLetterProducer = try KafkaProducer(
            configuration: .init(bootstrapServers: configuration.bootstrapServers, clientID: "accord-projector-dlq"),
            logger: logger)
    }

    /// Consumes until graceful shutdown or cancellation, then closes its Kafka clients.
    public func run() async throws {
        publishPending(runtime.withLock { $0.verifier }, backfilled: 0)
        try consumer.subscribe(Self.topics)
        logger.notice("projector consuming", metadata: ["topics": "\(Self.topics.joined(separator: ","))"])
        // Two stages overlap: while the store commits one batch (on the writer's thread), this task
        // fetches, screens and decodes the next. A batch is committed only after the one before it.
        let inFlight = InFlightBatch()
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.consume(inFlight: inFlight) }
                    group.addTask { try await self.checkpointWhenIdle() }
                    // The consuming loop ends (end of the stream) or throws; the watcher then stops.
                    try await group.next()
                    group.cancelAll()
                }
            }
            try await inFlight.wait()
        } catch is CancellationError {
            // Shutdown: the batch being committed finishes; the last committed batch is the resume point.
            do {
                try await inFlight.wait()
            } catch {
                logger.error("the last batch was not committed; it is read again at the next start", metadata: ["error": "\(error)"])
            }
        } catch {
            do {
                try await inFlight.wait()
            } catch let second {
                logger.error("the batch being committed failed as well", metadata: ["error": "\(second)"])
            }
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

    /// Fetches, screens and commits batches until the stream ends or the task is cancelled; fills
    /// the gaps of chains between batches (and, while any is open, at least every half second).
    private func consume(inFlight: InFlightBatch) async throws {
        var state = ScreenState(verifier: runtime.withLock { $0.verifier },
                                expectedOffsets: appliedOffsets.withLock { $0 })
        var previous: StoreBatch?
        let fillsGaps = configuration.chainRanges != nil
        while !Task.isCancelled {
            let records: [ConsumerRecord]
            if fillsGaps, state.verifier?.chains.values.contains(where: { $0.gap != nil }) == true {
                guard let next = try await nextRecords(waitingAtMost: .milliseconds(500)) else { break }
                records = next
            } else {
                records = try await consumer.nextBatch(maxRecords: configuration.batchSize)
                if records.isEmpty { break }
            }
            if !records.isEmpty {
                // Partitions assigned since (a rebalance) resume from the store's offsets.
                for (partition, offset) in appliedOffsets.withLock({ $0 }) where (state.expectedOffsets[partition] ?? 0) < offset {
                    state.expectedOffsets[partition] = offset
                }
                let prepared = try prepare(records, state: &state, inFlight: previous)
                try await inFlight.wait()
                previous = prepared.batch
                inFlight.start { try await self.finish(prepared) }
            }
            if fillsGaps { try await fillGaps(state: &state, inFlight: inFlight, previous: &previous) }
        }
    }

    /// The consumer's next batch, or an empty one when none came within `timeout`; nil at the
    /// end of the stream. A batch handed over just as the wait ended is still returned.
    private func nextRecords(waitingAtMost timeout: Duration) async throws -> [ConsumerRecord]? {
        enum Wake: Sendable {
            case records([ConsumerRecord])
            case timeout
        }
        let consumer = self.consumer
        let batchSize = configuration.batchSize
        return try await withThrowingTaskGroup(of: Wake.self) { group in
            group.addTask { .records(try await consumer.nextBatch(maxRecords: batchSize)) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timeout
            }
            var received: [ConsumerRecord]?
            if case .records(let records)? = try await group.next() { received = records }
            group.cancelAll()
            while let result = await group.nextResult() {
                if case .success(.records(let records)) = result { received = records }
            }
            guard let received else { return [] }
            return received.isEmpty ? nil : received
        }
    }

    /// What was fetched of a chain from its source in one step.
    struct FetchedRange: Sendable {
        var events: [ChainRangePage.Record] = []
        /// The chain's newest checkpoint, when the source's chain was read to its end.
        var checkpoint: ChainRangePage.Record?
        /// The missing records are all here: the source's chain was read to its end, or up to
        /// the first record held (from there on Kafka has the chain, as held and later records).
        var complete = false
    }

    /// Pages of a chain range fetched in one step of filling a gap.
    static let fillPagesPerStep = 10
    /// Records asked for per page.
    static let fillPageSize = 1_000

    /// Reads `chain` from its source from `position` on, up to `fillPagesPerStep` pages, until
    /// its end or the offset `joinAt` (the first record held); stops early at a record the
    /// source has no Kafka offset for yet (its relay has not heard back).
    private func fetchRange(_ ranges: any ChainRangeSource, of chain: ChainID, from position: Int64, joinAt: Int64?)
        async throws(ChainRangeError) -> FetchedRange {
        var fetched = FetchedRange()
        var from = position
        for _ in 0..<Self.fillPagesPerStep {
            let page = try await ranges.page(of: chain, from: from, limit: Self.fillPageSize)
            for event in page.events {
                guard let offset = event.offset else { return fetched }
                if let joinAt, offset >= joinAt {
                    fetched.complete = true
                    return fetched
                }
                fetched.events.append(event)
            }
            guard let next = page.next, !page.events.isEmpty else {
                fetched.checkpoint = page.checkpoint
                fetched.complete = true
                return fetched
            }
            from = next
        }
        return fetched
    }

    /// Fills the gaps whose next attempt is due: fetches each chain's missing records from its
    /// source, and hands them, with the records held behind the gap, in the chain's offset
    /// order, to the same checks as consumed records (`ChainVerifier.fill`). The gap closes once
    /// the missing records are all in (the source's chain read to its end, or up to the first
    /// record held); a failed fetch is tried again with back-off.
    private func fillGaps(state: inout ScreenState, inFlight: InFlightBatch, previous: inout StoreBatch?) async throws {
        guard let ranges = configuration.chainRanges, let verifier = state.verifier else { return }
        let now = ContinuousClock.now
        let due = fillAttempts.withLock { $0.due }
        for gapped in verifier.chainsWithGaps where (due[gapped.chain] ?? now) <= now {
            guard !Task.isCancelled else { return }
            let chain = gapped.chain
            let from = max(gapped.gap?.filledThrough ?? 0, gapped.verifiedCount) + 1
            // The records held behind the gap, those of the batch being committed included.
            try await inFlight.wait()
            let held = try store.heldRecords(of: chain)
            let fetched: FetchedRange
            do {
                fetched = try await fetchRange(ranges, of: chain, from: from, joinAt: held.first?.offset)
            } catch {
                noteFillFailure(chain, error)
                publishPending(state.verifier, backfilled: 0)
                continue
            }
            var byOffset: [Int64: ConsumerRecord] = [:]
            for event in fetched.events {
                guard let offset = event.offset else { continue }
                byOffset[offset] = Self.consumerRecord(event.message, chain: chain, offset: offset,
                                                       timestamp: event.timestampMilliseconds)
            }
            let reach = fetched.events.compactMap(\.offset).max() ?? -1
            var released: [RecordCoordinates] = []
            for record in held where fetched.complete || record.offset <= reach {
                // The record as Kafka delivered it is the one kept (its own timestamp), not a fetched copy.
                byOffset[record.offset] = Self.consumerRecord(record.message, chain: chain, offset: record.offset,
                                                              timestamp: record.timestampMilliseconds)
                released.append(RecordCoordinates(topic: chain.topic, partition: chain.partition, offset: record.offset))
            }
            if let checkpoint = fetched.checkpoint, let offset = checkpoint.offset, byOffset[offset] == nil {
                byOffset[offset] = Self.consumerRecord(checkpoint.message, chain: chain, offset: offset,
                                                       timestamp: checkpoint.timestampMilliseconds)
            }
            let records = byOffset.values.sorted { $0.offset < $1.offset }
            let through = fetched.events.last?.position ?? (from - 1)
            let heldOffsets = Set(held.map(\.offset))
            var prepared = try prepare(records, state: &state, inFlight: previous, origin: .filling) { verifier in
                if fetched.complete {
                    verifier?.closeGap(in: chain)
                } else {
                    verifier?.noteFilled(in: chain, through: through, released: released.count)
                }
            }
            prepared.batch.releasedHeld = released
            if fetched.complete, servesEverySource(of: chain.topic, ranges), state.verifier?.chains.values.contains(where: {
                $0.gap != nil && $0.chain.topic == chain.topic && $0.chain.partition == chain.partition
            }) == false {
                // Every source that can write to the partition was read: what its unread ranges held is in the journal.
                prepared.batch.recoveredUnread.append(UnreadRecovery(topic: chain.topic, partition: chain.partition,
                                                                     at: ServiceClock.system.now()))
            }
            prepared.backfilled = prepared.batch.entries.filter {
                $0.entry.coordinates.topic == chain.topic && !heldOffsets.contains($0.entry.coordinates.offset)
            }.count
            fillAttempts.withLock {
                $0.errors[chain] = nil
                $0.wait[chain] = nil
                $0.due[chain] = nil
                $0.failingSince[chain] = nil
            }
            let summary: Logger.Metadata = [
                "chain": "\(chain)", "fetched": "\(fetched.events.count)", "released": "\(released.count)",
                "applied": "\(prepared.batch.entries.count)", "refused": "\(prepared.rejected.count)",
                "throughPosition": "\(through)",
            ]
            if fetched.complete {
                logger.notice("chain gap filled from its source", metadata: summary)
            } else {
                logger.info("chain gap: a step filled from its source", metadata: summary)
            }
            previous = prepared.batch
            let batch = prepared
            inFlight.start { try await self.finish(batch) }
        }
    }

    /// True when every registered source that owns `topic` has a chain endpoint: only then can
    /// skipped records of the topic all be fetched again.
    private func servesEverySource(of topic: String, _ ranges: any ChainRangeSource) -> Bool {
        guard let owner = AccordTopic(name: topic)?.owner, let registry = configuration.keyRegistry else { return false }
        return registry.keys.map(\.source).filter { EventSource(urn: $0)?.kind == owner }.allSatisfy(ranges.serves)
    }

    private static func consumerRecord(_ message: BinaryMessage, chain: ChainID, offset: Int64, timestamp: Int64?) -> ConsumerRecord {
        ConsumerRecord(topic: chain.topic, partition: chain.partition, offset: offset, key: message.key, value: message.value,
                       headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                       timestampMilliseconds: timestamp)
    }

    private func noteFillFailure(_ chain: ChainID, _ error: ChainRangeError) {
        let first = fillAttempts.withLock { attempts -> Bool in
            let previous = attempts.errors[chain]
            let wait = error.retryable
                ? min(max((attempts.wait[chain] ?? .zero) * 2, configuration.backfillRetry), .seconds(30))
                : .seconds(30)
            attempts.wait[chain] = wait
            attempts.due[chain] = ContinuousClock.now + wait
            attempts.errors[chain] = error
            if attempts.failingSince[chain] == nil {
                attempts.failingSince[chain] = (ContinuousClock.now, ServiceClock.system.now())
            }
            return previous?.description != error.description
        }
        logger.log(level: first ? .error : .debug, "cannot fetch the missing events of a chain from its source; its records stay held", metadata: [
            "chain": "\(chain)", "error": "\(error)", "retrying": "\(error.retryable ? "with back-off" : "every 30 s: an operator must act")",
        ])
    }

    /// Shows the chains with gaps in `/ready`, `/v1/integrity` and `/metrics`.
    /// A chain whose gap its source has not filled for `sourceFlagAfter` (or cannot fill without
    /// an operator) raises a flag on the source, logged once when raised and once when cleared.
    private func publishPending(_ verifier: ChainVerifier?, backfilled: Int) {
        let now = ContinuousClock.now
        let gapped = verifier?.chainsWithGaps ?? []
        let (pending, raised, cleared) = fillAttempts.withLock { attempts in
            let pending = gapped.compactMap { state -> IntegrityStatus.PendingChain? in
                guard let gap = state.gap else { return nil }
                let error = attempts.errors[state.chain]
                let since = attempts.failingSince[state.chain]
                let flagged = error.map { !$0.retryable } == true
                    || since.map { now - $0.instant >= configuration.sourceFlagAfter } == true
                return IntegrityStatus.PendingChain(chain: state.chain, cause: gap.cause, held: gap.held,
                                                    lastError: error?.description, retrying: error?.retryable ?? true,
                                                    failingSince: since?.at, flagged: flagged)
            }
            let flagged = Set(pending.filter(\.flagged).map(\.chain))
            let raised = pending.filter { $0.flagged && !attempts.flagged.contains($0.chain) }
            let cleared = attempts.flagged.subtracting(flagged)
            attempts.flagged = flagged
            return (pending, raised, cleared)
        }
        for chain in raised {
            logger.error("flag raised on a source: it does not serve the events missing from its chain", metadata: [
                "source": "\(chain.chain.source)", "chain": "\(chain.chain)", "held": "\(chain.held)",
                "failingSince": "\(chain.failingSince.map { "\($0)" } ?? "?")", "reason": "\(chain.lastError ?? "")",
            ])
        }
        for chain in cleared.sorted(by: { $0.description < $1.description }) {
            logger.notice("flag on a source cleared: its chain's gap is filled or gone", metadata: ["chain": "\(chain)"])
        }
        integrity.setPending(pending, backfilled: backfilled)
        pendingGauge.record(pending.count)
        flaggedGauge.record(Set(pending.filter(\.flagged).map(\.chain.source)).count)
    }

    /// Signs a journal checkpoint once events have been applied and none for
    /// `journalCheckpointIdle`, until cancelled. A failure is logged and tried again later.
    private func checkpointWhenIdle() async throws {
        let idle = configuration.journalCheckpointIdle
        let tick = min(idle, .seconds(1))
        while true {
            try await Task.sleep(for: tick)
            let runtime = self.runtime.withLock { $0 }
            guard runtime.entriesSinceCheckpoint > 0, ContinuousClock.now - runtime.lastApplied >= idle else { continue }
            do {
                try await checkpointJournal(logLevel: .info)
            } catch {
                logger.error("cannot sign a journal checkpoint while idle; trying again", metadata: ["error": "\(error)"])
            }
        }
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
        /// Kept behind the gap of its chain, to be applied once the gap is filled.
        case held(ChainID)
    }

    /// Hashes the record and, with a registry, runs it through the chain verifier.
    private func screen(_ record: ConsumerRecord, _ message: BinaryMessage, verifier: inout ChainVerifier?,
                        batch: inout StoreBatch, orphans: inout [ChainLink], filling: Bool) -> Screened {
        guard var checker = verifier else {
            if ChainCheckpoint.isCheckpointRecord(message) { return .skip }
            do {
                return .event(try EventHashing.hash(message: message).hash, nil)
            } catch {
                return .reject("unhashable: \(error)")
            }
        }
        let verdict = filling
            ? checker.fill(record: message, topic: record.topic, partition: record.partition, offset: record.offset)
            : checker.accept(record: message, topic: record.topic, partition: record.partition, offset: record.offset)
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
        case .checkpoint(.held(let chain)), .event(.held(let chain)):
            return .held(chain)
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

    /// Records skipped on a partition: the first offset read after a position that was not the
    /// next expected one (an offset reset past records the projector never read). When gaps are
    /// filled from the sources, every chain of the partition that a source serves is then asked
    /// for what it holds before more of it is applied.
    private func detectUnread(_ records: [ConsumerRecord], state: inout ScreenState, into batch: inout StoreBatch) {
        let now = ServiceClock.system.now()
        for record in records {
            let partition = record.topicPartition
            let next = state.expectedOffsets[partition] ?? 0
            if record.offset > next {
                let range = UnreadRange(topic: record.topic, partition: record.partition, from: next, until: record.offset,
                                        detectedAt: now)
                batch.unreadRanges.append(range)
                logger.error("records lost before the projector read them (offset reset past unread records)", metadata: [
                    "topic": "\(range.topic)", "partition": "\(range.partition)", "fromOffset": "\(range.from)",
                    "untilOffset": "\(range.until)", "records": "\(range.count)",
                ])
                if let ranges = configuration.chainRanges, state.verifier?.gapHandling == .hold {
                    var sources = Set(ranges.sources.filter { EventSource(urn: $0)?.kind == AccordTopic(name: record.topic)?.owner })
                    for chain in state.verifier?.chains.keys ?? [:].keys
                    where chain.topic == record.topic && chain.partition == record.partition && ranges.serves(chain.source) {
                        sources.insert(chain.source)
                    }
                    for source in sources.sorted() {
                        state.verifier?.openGap(in: ChainID(source: source, topic: record.topic, partition: record.partition),
                                                cause: .unreadRecords)
                    }
                }
            }
            state.expectedOffsets[partition] = max(next, record.offset + 1)
        }
    }

    /// What the consuming loop carries from one batch it screened to the next: the chain
    /// verifier after the batches screened so far (committed or not) and the next offset per
    /// partition they reached.
    struct ScreenState: Sendable {
        var verifier: ChainVerifier?
        var expectedOffsets: [TopicPartition: Int64]
    }

    /// A batch screened and decoded, ready to be committed.
    struct PreparedBatch: Sendable {
        var records: [ConsumerRecord]
        var batch: StoreBatch
        var rejected: [(record: ConsumerRecord, reason: String)]
        /// The verifier state after this batch, installed once it is committed.
        var verifier: ChainVerifier?
        var started: ContinuousClock.Instant
        var origin: BatchOrigin = .consumed
        /// Events fetched from a source and applied (a fill).
        var backfilled = 0
    }

    /// Where the records of a batch come from.
    enum BatchOrigin: Sendable, Equatable {
        /// Read from Kafka by the consumer, in offset order per partition.
        case consumed
        /// Records of one chain fetched from its source's chain range, and records held behind
        /// its gap, in the chain's offset order: no consumer offset moves.
        case filling
    }

    /// Checks, decodes and sorts one batch of records into what the store commits: entries,
    /// dead letters, verified marks, chain states, held records, unread ranges and offsets. Pure
    /// CPU work on the consuming task, so it overlaps the store's commit of the batch before
    /// (`inFlight`, whose entries an orphan may be among).
    func prepare(_ records: [ConsumerRecord], state: inout ScreenState, inFlight: StoreBatch?,
                 origin: BatchOrigin = .consumed,
                 afterRecords: (inout ChainVerifier?) -> Void = { _ in }) throws -> PreparedBatch {
        let started = ContinuousClock.now
        var batch = StoreBatch()
        var rejected: [(record: ConsumerRecord, reason: String)] = []
        var nextOffsets: [TopicPartition: Int64] = [:]
        let verifierBefore = state.verifier
        var orphans: [ChainLink] = []
        let filling = origin == .filling
        let now = ServiceClock.system.now()
        if !filling { detectUnread(records, state: &state, into: &batch) }
        func hold(_ record: ConsumerRecord, _ message: BinaryMessage, in chain: ChainID) {
            batch.heldRecords.append(HeldRecord(chain: chain, offset: record.offset, message: message,
                                                timestampMilliseconds: record.timestampMilliseconds, heldAt: now))
        }
        for record in records {
            if !filling {
                nextOffsets[record.topicPartition] = max(nextOffsets[record.topicPartition] ?? 0, record.offset + 1)
            }
            let message = record.binaryMessage
            if ChainCheckpoint.isCheckpointRecord(message) {
                switch screen(record, message, verifier: &state.verifier, batch: &batch, orphans: &orphans, filling: filling) {
                case .reject(let reason): reject(record, reason: reason, into: &batch, rejected: &rejected)
                case .held(let chain): hold(record, message, in: chain)
                case .event, .skip: break
                }
                continue
            }
            // The event is checked (decoding, owner of the topic, schema) before it is linked into
            // its chain: a refused record never takes a place there, and its reason names the most
            // specific fault (a wrong owner rather than a missing chain header).
            let source = message.header("ce_source").map { String(decoding: $0.value, as: UTF8.self) }
            if !filling, let source, state.verifier?.isRead(source: source, topic: record.topic, partition: record.partition,
                                                             offset: record.offset) == true {
                continue  // a redelivery of a record this chain already read
            }
            let event: AccordEvent
            switch check.check(message, topic: record.topic) {
            case .accepted(let accepted):
                event = accepted
            case .rejected(let reason):
                if let source, !filling {
                    state.verifier?.consume(source: source, topic: record.topic, partition: record.partition, offset: record.offset)
                }
                reject(record, reason: reason, into: &batch, rejected: &rejected)
                continue
            }
            let eventHash: Hash256
            let link: ChainLink?
            switch screen(record, message, verifier: &state.verifier, batch: &batch, orphans: &orphans, filling: filling) {
            case .skip:
                continue
            case .reject(let reason):
                reject(record, reason: reason, into: &batch, rejected: &rejected)
                continue
            case .held(let chain):
                hold(record, message, in: chain)
                continue
            case .event(let hash, let chainLink):
                eventHash = hash
                link = chainLink
            }
            let recordedAt = Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time)
            let coordinates = RecordCoordinates(topic: record.topic, partition: record.partition, offset: record.offset)
            batch.entries.append(PendingEntry(
                entry: JournaledEvent(event: event, message: message, coordinates: coordinates, recordedAt: recordedAt,
                                      eventHash: eventHash, chainPosition: link?.position),
                event: event))
        }
        for orphan in orphans {
            let coordinates = RecordCoordinates(topic: orphan.chain.topic, partition: orphan.chain.partition, offset: orphan.offset)
            let pending = batch.entries.first { $0.entry.coordinates == coordinates }?.entry
                ?? inFlight?.entries.first { $0.entry.coordinates == coordinates }?.entry
            // A record kept aside for a repeated event id is retracted and dead-lettered the same way.
            let journaled = try pending ?? store.journalEntry(at: coordinates) ?? store.shadowedRecord(at: coordinates)
            // An orphan that was never journaled was refused by the event check and is already dead-lettered.
            guard let journaled else { continue }
            let reason = "orphaned: event \(orphan.hash) at position \(orphan.position) of \(orphan.chain) is not on the chain its source signed (forged or wrongly attributed)"
            logger.error("orphaned event: not on its source's signed chain; retracted from the view and dead-lettered", metadata: [
                "eventId": "\(journaled.eventId)", "chain": "\(orphan.chain)", "offset": "\(orphan.offset)",
            ])
            batch.retractions.append(Retraction(coordinates: coordinates, reason: reason, at: ServiceClock.system.now()))
            let record = ConsumerRecord(topic: coordinates.topic, partition: coordinates.partition, offset: coordinates.offset,
                                        key: journaled.message.key, value: journaled.message.value,
                                        headers: journaled.message.headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                                        timestampMilliseconds: nil)
            reject(record, reason: reason, into: &batch, rejected: &rejected)
        }
        afterRecords(&state.verifier)
        if let verifier = state.verifier {
            batch.chainStates = verifier.chains.values.filter { now in
                guard let before = verifierBefore?.state(of: now.chain) else { return true }
                return before.lastOffset != now.lastOffset || before.gap != now.gap || before.verifiedCount != now.verifiedCount
                    || before.unverified.count != now.unverified.count
            }.sorted { ($0.chain.source, $0.chain.topic, $0.chain.partition) < ($1.chain.source, $1.chain.topic, $1.chain.partition) }
        }
        batch.offsets = nextOffsets.map { StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value) }
        return PreparedBatch(records: records, batch: batch, rejected: rejected, verifier: state.verifier, started: started,
                             origin: origin)
    }

    /// Dead-letters what the batch refused, commits it to the store (with a signed journal
    /// checkpoint when one is due), then publishes what it changed: integrity counts, applied
    /// offsets, metrics and Kafka's committed offsets.
    func finish(_ prepared: PreparedBatch) async throws {
        var batch = prepared.batch
        // Refused records must be safely on the dead-letter topic before their offsets are committed.
        try await DeadLetterPublisher(producer: deadLetterProducer).send(prepared.rejected)
        var runtime = self.runtime.withLock { $0 }
        if !batch.entries.isEmpty {
            runtime.batchesSinceCheckpoint += 1
            runtime.entriesSinceCheckpoint += batch.entries.count
            runtime.lastApplied = ContinuousClock.now
        }
        if runtime.entriesSinceCheckpoint > 0,
           runtime.batchesSinceCheckpoint >= configuration.journalCheckpointBatches
            || ContinuousClock.now - runtime.lastCheckpoint >= configuration.journalCheckpointInterval {
            batch.journalCheckpoint = JournalCheckpointRequest(issuedAt: ServiceClock.system.now(), key: signingKey)
        }
        let committed = try await commit(batch)
        if committed.journalCheckpoint != nil {
            runtime.batchesSinceCheckpoint = 0
            runtime.entriesSinceCheckpoint = 0
            runtime.lastCheckpoint = ContinuousClock.now
        }
        runtime.verifier = prepared.verifier
        let installed = runtime
        self.runtime.withLock { $0 = installed }
        integrity.record(committed, chainCheckpoints: batch.chainCheckpoints.count, unread: batch.unreadRanges,
                         recovered: batch.recoveredUnread)
        appliedOffsets.withLock { applied in
            for offset in batch.offsets {
                let key = TopicPartition(topic: offset.topic, partition: offset.partition)
                applied[key] = max(applied[key] ?? 0, offset.nextOffset)
            }
        }
        applied.increment(by: committed.appended.count)
        duplicates.increment(by: committed.duplicates)
        refused.increment(by: prepared.rejected.count)
        unreadCounter.increment(by: Int(batch.unreadRanges.reduce(0) { $0 + $1.count }))
        retractedCounter.increment(by: committed.retracted.count)
        shadowedCounter.increment(by: committed.shadowed.count)
        for eventId in committed.shadowed {
            logger.warning("event id repeated with other content: the record is kept aside until one of the two is retracted",
                           metadata: ["eventId": "\(eventId)"])
        }
        for eventId in committed.promoted {
            logger.notice("event kept aside applied: the record that had taken its id was retracted",
                          metadata: ["eventId": "\(eventId)"])
        }
        heldCounter.increment(by: batch.heldRecords.count)
        backfilledCounter.increment(by: prepared.backfilled)
        publishPending(prepared.verifier, backfilled: prepared.backfilled)
        batchTimer.recordInterval(since: prepared.started)
        guard prepared.origin == .consumed else { return }
        // Kafka's committed offsets follow the store's, for operators' tools; the store stays the authority,
        // so a failed commit here loses nothing (the next batch commits again), and the next batch
        // does not wait for the broker's answer.
        do {
            try await consumer.commit(prepared.records, waitForBroker: false)
        } catch {
            logger.debug("Kafka offset commit failed; the store keeps the authoritative offsets", metadata: ["error": "\(error)"])
        }
    }

    /// Commits a batch on the writer's own thread (SQLite blocks), without blocking the caller's executor.
    private func commit(_ batch: StoreBatch) async throws -> StoreCommit {
        try await withCheckedThrowingContinuation { continuation in
            writerQueue.async {
                continuation.resume(with: Result { try self.writer.withLock { try $0.commit(batch) } })
            }
        }
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
    func checkpointJournal(logLevel: Logger.Level = .notice) async throws {
        let runtime = self.runtime.withLock { $0 }
        guard runtime.entriesSinceCheckpoint > 0 else { return }
        var batch = StoreBatch()
        batch.journalCheckpoint = JournalCheckpointRequest(issuedAt: ServiceClock.system.now(), key: signingKey)
        let committed = try await commit(batch)
        self.runtime.withLock {
            $0.batchesSinceCheckpoint = 0
            $0.entriesSinceCheckpoint = 0
            $0.lastCheckpoint = ContinuousClock.now
        }
        integrity.record(committed, chainCheckpoints: 0, unread: [])
        if let checkpoint = committed.journalCheckpoint {
            logger.log(level: logLevel, "journal checkpoint signed", metadata: [
                "position": "\(checkpoint.position)", "entryHash": "\(checkpoint.entryHash)",
                "viewDigest": "\(checkpoint.viewDigest)",
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

/// The batch being committed while the next one is prepared.
final class InFlightBatch: Sendable {
    private let task = Mutex<Task<Void, any Error>?>(nil)

    /// Starts committing a batch (the one before must have been waited for).
    func start(_ body: @escaping @Sendable () async throws -> Void) {
        task.withLock { $0 = Task { try await body() } }
    }

    /// Waits for the batch being committed, if any; rethrows its failure.
    func wait() async throws {
        try await task.withLock { $0 }?.value
    }
}

/// Next offset per partition whose records are committed to the store: shared between the
/// consuming loop, the rebalance callback and readiness.
final class AppliedOffsets: Sendable {
    private let offsets = Mutex<[TopicPartition: Int64]>([:])

    func withLock<T>(_ body: (inout [TopicPartition: Int64]) -> T) -> T {
        offsets.withLock { body(&$0) }
    }
}
