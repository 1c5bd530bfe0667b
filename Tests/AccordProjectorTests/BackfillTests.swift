import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjector
import AccordStore
import Foundation
import Synchronization
import Testing

/// Stands in for the agency services: serves the genuine records of chains at the offsets Kafka
/// gave them, and can be made unreachable.
final class FakeChainRanges: ChainRangeSource {
    let events = Mutex<[ChainID: [ChainRangePage.Record]]>([:])
    let checkpoints = Mutex<[ChainID: ChainRangePage.Record]>([:])
    let down = Mutex(false)
    let pagesServed = Mutex(0)
    let sources: [String]

    init(sources: [String]) {
        self.sources = sources
    }

    func serves(_ source: String) -> Bool { sources.contains(source) }

    func page(of chain: ChainID, from position: Int64, limit: Int) async throws(ChainRangeError) -> ChainRangePage {
        if down.withLock({ $0 }) { throw ChainRangeError(retryable: true, "test: \(chain.source) cannot be reached") }
        pagesServed.withLock { $0 += 1 }
        let all = events.withLock { $0[chain] ?? [] }
        let page = Array(all.filter { $0.position >= position }.prefix(limit))
        let next = page.last.flatMap { $0.position < Int64(all.count) ? $0.position + 1 : nil }
        return ChainRangePage(events: page, checkpoint: checkpoints.withLock { $0[chain] }, next: next)
    }
}

@Suite("Projector fills gaps in chains from their sources", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct BackfillTests {
    /// The records of a run: every event sealed into its chain, with the records that reach Kafka.
    struct Scenario {
        var feed: SignedFeed
        var events: [AccordEvent]
        /// The chain that loses records on the way.
        var chain: ChainID
        /// What Kafka holds, in produce order, and what each record is (nil: junk in place of a lost record).
        var records: [ProducerRecord] = []
        /// Per record: its chain position when it is a genuine event of `chain`.
        var positions: [Int64?] = []
        var genuine: [ProducerRecord] = []
        var lost: Set<Int> = []
    }

    /// 90 events on three chains of one partition count; positions 4–8 of the busiest probation
    /// chain are replaced on the topic by junk (their place in Kafka is taken, their content lost),
    /// and a forged event whose predecessor the source never had is produced after them.
    static func scenario() throws -> Scenario {
        let feed = try SignedFeed()
        let events = EventSamples.mixed(count: 90, caseCount: 9)
        let chains = try events.map { try feed.chain(of: $0) }
        let probation = chains.filter { $0.topic == AccordTopic.probationCaseEvents.name }
        let counts = Dictionary(grouping: probation, by: { $0 }).mapValues(\.count)
        let busiest = try #require(counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key.description < $1.key.description) }?.key)
        var scenario = Scenario(feed: feed, events: events, chain: busiest)
        for (event, chain) in zip(events, chains) {
            let record = try scenario.feed.seal(event)
            let position = chain == busiest ? scenario.feed.writers[chain]?.count : nil
            scenario.genuine.append(record)
            scenario.positions.append(position)
            if let position, (4...8).contains(position) {
                scenario.lost.insert(scenario.records.count)
                scenario.records.append(ProducerRecord(topic: record.topic, key: record.key, value: Array("lost in transit".utf8),
                                                       headers: [], partition: record.partition))
            } else {
                scenario.records.append(record)
            }
            if position == 10 {
                var forged = event
                forged.id = UUID()
                forged.sequence = 999_999
                forged.prevHash = Hash256.sha256(Array("an event the source never had".utf8)).hex
                scenario.records.append(SignedFeed.record(try EventCodec().encodeBinary(forged), chain: busiest))
                scenario.genuine.append(scenario.records[scenario.records.count - 1])
                scenario.positions.append(nil)
            }
        }
        let checkpoints = try scenario.feed.checkpoints()
        scenario.records.append(contentsOf: checkpoints)
        scenario.genuine.append(contentsOf: checkpoints)
        scenario.positions.append(contentsOf: checkpoints.map { _ in nil })
        return scenario
    }

    /// Produces the scenario's records and teaches `ranges` the genuine records of its chain at their offsets.
    static func produce(_ scenario: Scenario, to cluster: EmbeddedKafkaCluster, ranges: FakeChainRanges) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        let results = await producer.send(contentsOf: scenario.records)
        _ = await producer.shutdown()
        var served: [ChainRangePage.Record] = []
        for (i, result) in results.enumerated() {
            let metadata = try result.get()
            let genuine = scenario.genuine[i]
            let message = BinaryMessage(key: genuine.key, headers: genuine.headers.map { MessageHeader(name: $0.key, value: $0.value ?? []) },
                                        value: genuine.value)
            if let position = scenario.positions[i] {
                served.append(ChainRangePage.Record(position: position, offset: metadata.offset, timestampMilliseconds: nil, message: message))
            } else if genuine.partition == scenario.chain.partition, genuine.topic == scenario.chain.topic,
                      ChainCheckpoint.isCheckpointRecord(message), (try? ChainCheckpoint(record: message))?.chain == scenario.chain {
                let count = Int64(served.count)
                ranges.checkpoints.withLock { $0[scenario.chain] = ChainRangePage.Record(position: count, offset: metadata.offset,
                                                                                          timestampMilliseconds: nil, message: message) }
            }
        }
        ranges.events.withLock { $0[scenario.chain] = served }
    }

    static func configuration(_ cluster: EmbeddedKafkaCluster, store: String, scenario: Scenario,
                              ranges: FakeChainRanges) -> ProjectorConfiguration {
        var configuration = ProjectorIntegrityTests.configuration(cluster, store: store, registry: scenario.feed.registry)
        configuration.chainRanges = ranges
        configuration.backfillRetry = .milliseconds(100)
        return configuration
    }

    @Test("events lost from a topic are fetched from their source, verified and applied in chain order; the chain's later records wait held instead of being refused; a forged event whose predecessor its source never had is refused; the audit passes")
    func fillsAGap() async throws {
        try await Self.withLostEvents { store, scenario, ranges, configuration in
            try await Self.expectFilled(store: store, scenario: scenario, configuration: configuration)
        }
    }

    /// A cluster and a store with the scenario produced (five of its events lost from the topic
    /// but served by `ranges`, down at first when `sourceDown`), and the projector configuration.
    static func withLostEvents(sourceDown: Bool = false,
                               _ body: (String, Scenario, FakeChainRanges, ProjectorConfiguration) async throws -> Void) async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-backfill-\(UUID().uuidString).sqlite").path
        defer { ProjectorIntegrityTests.removeStore(store) }
        let scenario = try Self.scenario()
        let ranges = FakeChainRanges(sources: [scenario.chain.source])
        ranges.down.withLock { $0 = sourceDown }
        try await Self.produce(scenario, to: cluster, ranges: ranges)
        try await body(store, scenario, ranges, Self.configuration(cluster, store: store, scenario: scenario, ranges: ranges))
    }

    static func expectFilled(store: String, scenario: Scenario, configuration: ProjectorConfiguration) async throws {
        let projector = try Projector(configuration: configuration)
        try await ProjectorIntegrityTests.run(projector) {
            projector.integrity.snapshot().verified == scenario.events.count && projector.integrity.snapshot().pendingChains.isEmpty
        }
        let snapshot = projector.integrity.snapshot()
        #expect(try await projector.reader.totalEvents() == scenario.events.count, "every genuine event is in the view, the lost ones included")
        #expect(snapshot.verified == scenario.events.count && snapshot.provisional == 0)
        #expect(snapshot.pendingChains.isEmpty)
        #expect(snapshot.backfilled == 5, "the five lost events came from the source")
        let opened = try ProjectorStore(path: store)
        #expect(try opened.heldCounts().isEmpty, "nothing is left held")
        let reasons = try opened.deadLetters().map(\.reason)
        #expect(reasons.filter { $0.hasPrefix("broken-chain:") }.count == 1, "only the forged event is refused for its chain: \(reasons)")
        #expect(!reasons.contains { $0.hasPrefix("count-ahead") }, "\(reasons)")
        #expect(reasons.count == 6, "five junk records and the forgery: \(reasons)")
        var journaled: [String] = []
        try opened.forEachJournalEntry { journaled.append($0.eventId.lowercased()) }
        #expect(journaled.count == scenario.events.count && Set(journaled) == Set(scenario.events.map(\.idString)),
                "each event journaled once")
        if let audit = try ProjectorIntegrityTests.auditVerify(store: store, registry: scenario.feed.registry) {
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("events: \(scenario.events.count) verified, 0 provisional"), "\(audit.output)")
            #expect(audit.output.contains("pending chains: none"), "\(audit.output)")
        }
    }

    @Test("while the source cannot be reached the chain stays pending, its records held and the reason shown, and a flag is raised on the source; once it answers, the gap is filled, the flag cleared and nothing is lost")
    func pendingUntilTheSourceAnswers() async throws {
        try await Self.withLostEvents(sourceDown: true) { store, scenario, ranges, configuration in
            var configuration = configuration
            configuration.sourceFlagAfter = .zero
            try await Self.expectPendingThenFilled(store: store, scenario: scenario, ranges: ranges, configuration: configuration)
        }
    }

    static func expectPendingThenFilled(store: String, scenario: Scenario, ranges: FakeChainRanges,
                                        configuration: ProjectorConfiguration) async throws {
        let first = try Projector(configuration: configuration)
        try await ProjectorIntegrityTests.run(first) {
            first.integrity.snapshot().pendingChains.first?.lastError != nil
        }
        let pending = try #require(first.integrity.snapshot().pendingChains.first)
        #expect(pending.chain == scenario.chain)
        #expect(pending.cause == .brokenLink)
        #expect(pending.held > 0 && pending.retrying)
        #expect(pending.lastError?.contains("cannot be reached") == true)
        // The source is flagged: it does not serve the events missing from its chain.
        #expect(pending.flagged && pending.failingSince != nil)
        let flags = first.integrity.snapshot().sourceFlags
        #expect(flags.map(\.source) == [scenario.chain.source] && flags.first?.chains == [scenario.chain], "\(flags)")
        #expect(flags.first?.held == pending.held && flags.first?.reason.contains("cannot be reached") == true)
        let held = try ProjectorStore(path: store).heldCounts()[scenario.chain] ?? 0
        #expect(held > 0, "the chain's later records are kept in the store")
        #expect(try ProjectorStore(path: store).deadLetters().allSatisfy { !$0.reason.hasPrefix("broken-chain") },
                "nothing of the chain is refused while it waits")
        // The audit names the pending chain: intact, but incomplete (exit 3).
        if let audit = try ProjectorIntegrityTests.auditVerify(store: store, registry: scenario.feed.registry) {
            #expect(audit.status == 3, "\(audit.output)")
            #expect(audit.output.contains("pending chains: 1") && audit.output.contains("broken-link"), "\(audit.output)")
        }

        // A restart keeps the gap and its held records; the source answers again.
        ranges.down.withLock { $0 = false }
        let second = try Projector(configuration: configuration)
        #expect(second.integrity.snapshot().pendingChains.count == 1 || second.integrity.snapshot().pendingChains.isEmpty)
        try await ProjectorIntegrityTests.run(second) {
            second.integrity.snapshot().verified == scenario.events.count && second.integrity.snapshot().pendingChains.isEmpty
        }
        #expect(try await second.reader.totalEvents() == scenario.events.count)
        #expect(second.integrity.snapshot().sourceFlags.isEmpty, "the flag clears once the gap is filled")
        #expect(second.integrity.snapshot().verified == scenario.events.count)
        #expect(try ProjectorStore(path: store).heldCounts().isEmpty)
        let reasons = try ProjectorStore(path: store).deadLetters().map(\.reason)
        #expect(reasons.count == 6, "\(reasons)")
    }
}
