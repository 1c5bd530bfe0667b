import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordProjector
import AccordReliabilityLog
import AccordStore
import Foundation
import GRDB
import Logging
import Testing

/// Agency chains sealed and signed in the test, as the services do: one `ChainWriter` per
/// `(source, topic, partition)`, partition from the key (murmur2), a key per source.
struct SignedFeed {
    let partitions: Int32
    var keys: [String: AgencySigningKey] = [:]
    var writers: [ChainID: ChainWriter] = [:]
    let registry: KeyRegistry
    let codec = EventCodec()

    init(partitions: Int32 = 3) throws {
        self.partitions = partitions
        var entries: [RegisteredKey] = []
        let validFrom = Timestamp(startOf: CalendarDate(daysSinceEpoch: 20_089) ?? EventSamples.defaultDate)  // 2025-01-01
        for kind in [AgencyKind.probation, .interventions, .commissioner] {
            let source = EventSamples.source(for: kind).urn
            let key = try #require(AgencySigningKey.generate(signer: source))
            keys[source] = key
            entries.append(key.registryEntry(validFrom: validFrom))
        }
        registry = try KeyRegistry(keys: entries)
    }

    /// The chain an event goes to.
    func chain(of event: AccordEvent, topic: String? = nil) throws -> ChainID {
        let message = try codec.encodeBinary(event)
        let partition = try #require(KafkaPartitioner.murmur2(key: message.key ?? [], partitions: partitions))
        return ChainID(source: event.source.urn, topic: topic ?? event.kind.topic.name, partition: partition)
    }

    /// Seals `event` into its chain (optionally on another topic) and returns the record to produce.
    mutating func seal(_ event: AccordEvent, topic: String? = nil) throws -> ProducerRecord {
        let chain = try chain(of: event, topic: topic)
        var writer = writers[chain] ?? ChainWriter(chain: chain)
        let sealed = try writer.seal(event, codec: codec)
        writers[chain] = writer
        return Self.record(sealed.message, chain: chain)
    }

    /// A signed checkpoint record of every chain's head.
    func checkpoints(issuedAt: Timestamp = EventSamples.defaultStart) throws -> [ProducerRecord] {
        try writers.values.sorted { $0.chain.description < $1.chain.description }.map { writer in
            let key = try #require(keys[writer.chain.source])
            return Self.record(try writer.checkpoint(issuedAt: issuedAt, key: key).record, chain: writer.chain)
        }
    }

    /// The Kafka record of a message on a chain's topic and partition.
    static func record(_ message: BinaryMessage, chain: ChainID) -> ProducerRecord {
        ProducerRecord(topic: chain.topic, key: message.key, value: message.value,
                       headers: message.headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                       partition: chain.partition)
    }
}

@Suite("Projector with a key registry: chains, checkpoints, dead letters, restart", .serialized, .timeLimit(.minutes(3)), .tags(.broker))
struct ProjectorIntegrityTests {
    static func produce(_ records: [ProducerRecord], to cluster: EmbeddedKafkaCluster) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        for result in await producer.send(contentsOf: records) { _ = try result.get() }
        _ = await producer.shutdown()
    }

    /// Runs `projector` until `condition` holds (or the deadline passes), then stops it.
    static func run(_ projector: Projector, until condition: @escaping @Sendable () -> Bool) async throws {
        let task = Task { try await projector.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
    }

    static func configuration(_ cluster: EmbeddedKafkaCluster, store: String, registry: KeyRegistry) -> ProjectorConfiguration {
        ProjectorConfiguration(bootstrapServers: cluster.bootstrapServers, storePath: store, port: 0, batchSize: 50,
                               consumerProperties: EmbeddedKafkaCluster.consumerGroupProperties, keyRegistry: registry)
    }

    static let accord = repoRoot.appendingPathComponent(".build/debug/accord").path

    /// Runs `accord audit verify` on `store` with the agencies' `registry` and the projector's
    /// public key beside the store (nil when the command is not built).
    static func auditVerify(store: String, registry: KeyRegistry) throws -> (status: Int32, output: String)? {
        guard FileManager.default.isExecutableFile(atPath: accord) else { return nil }
        let registryPath = store + ".registry.json"
        defer { try? FileManager.default.removeItem(atPath: registryPath) }
        try Data(registry.jsonBytes()).write(to: URL(fileURLWithPath: registryPath))
        // The library projector here upcasts nothing, so the audit is told the same.
        return try runCommand(accord, ["audit", "verify", "--store", store, "--key-registry", registryPath,
                                       "--projector-key-pub", store + ".projector-key.pub.json", "--area-offices", "none"])
    }

    /// Expects the view in `store` to be exactly that of a store that only ever saw `genuine`:
    /// built at `reference` from the journal entries of `store` that are in its view, it must have
    /// the same digest, the same rows in every serving table and the same source sequences.
    static func expectSameViewAsGenuineOnly(store: String, reference: String, genuine events: [AccordEvent],
                                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let live = try ProjectorStore(path: store)
        let referenceStore = try ProjectorStore(path: reference)
        var referenceWriter = try ViewStoreWriter(store: referenceStore)
        var genuine: [IncomingEvent] = []
        try live.forEachJournalEntry { entry in
            if entry.isInView() { genuine.append(IncomingEvent(try entry.decodeEvent(), recordedAt: entry.recordedAt)) }
        }
        #expect(Set(genuine.map(\.event.id)) == Set(events.map(\.id)), "the view holds the genuine events and nothing else",
                sourceLocation: sourceLocation)
        try referenceWriter.applyWithoutJournal(genuine)
        var liveWriter = try ViewStoreWriter(store: live)
        #expect(try liveWriter.viewDigest() == referenceWriter.viewDigest(), "same view digest as a store that never saw the forgeries",
                sourceLocation: sourceLocation)
        let liveReader = try StoreAuditReader(path: store)
        let referenceReader = try StoreAuditReader(path: reference)
        for (table, _) in ServingTables.all {
            #expect(try liveReader.rowDigests(of: table) == referenceReader.rowDigests(of: table), "table \(table)",
                    sourceLocation: sourceLocation)
        }
        for urn in Set(events.map(\.source.urn)) {
            #expect(try live.read { db in try StoreFacts(db: db).sourceSequence(urn) }
                    == referenceStore.read { db in try StoreFacts(db: db).sourceSequence(urn) },
                    "the sequence numbers of \(urn) are those of its genuine events", sourceLocation: sourceLocation)
        }
        let sources = try live.read { db in try StoreFacts(db: db).allSources() }
        #expect(Set(sources) == Set(events.map(\.source.urn)), "no sequence state for a forged source", sourceLocation: sourceLocation)
    }

    static func removeStore(_ path: String) {
        for suffix in ["", "-wal", "-shm", ".projector-key.json", ".projector-key.pub.json"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    @Test("valid chained events become verified; unchained, broken-chain, badly signed and wrongly attributed records are dead-lettered; a restart continues the chains")
    func verifiesDeadLettersAndRestarts() async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-integrity-\(UUID().uuidString).sqlite").path
        defer { Self.removeStore(store) }
        var feed = try SignedFeed()
        let events = EventSamples.mixed(count: 150, caseCount: 12)
        var records: [ProducerRecord] = []
        for event in events[..<60] { records.append(try feed.seal(event)) }

        // Unsigned: no ce_prevhash at all.
        let extra = EventSamples.oneOfEach(start: EventSamples.defaultStart.adding(seconds: 86_400 * 40) ?? EventSamples.defaultStart)
        let probationExtra = extra.filter { $0.source.kind == .probation }
        var unchained = try #require(probationExtra.first)
        unchained.sequence = 10_000
        let unchainedChain = try feed.chain(of: unchained)
        records.append(SignedFeed.record(try EventCodec().encodeBinary(unchained), chain: unchainedChain))
        // Broken chain: a prevhash that is not the head of its chain.
        var broken = try #require(probationExtra.dropFirst().first)
        broken.sequence = 10_001
        broken.prevHash = Hash256.sha256(Array("not the head".utf8)).hex
        records.append(SignedFeed.record(try EventCodec().encodeBinary(broken), chain: try feed.chain(of: broken)))
        // Wrongly attributed: probation's event, properly chained, on the interventions topic.
        var misplaced = try #require(probationExtra.dropFirst(2).first)
        misplaced.sequence = 10_002
        records.append(try feed.seal(misplaced, topic: AccordTopic.interventionsDeliveryEvents.name))
        // Its source would never sign a checkpoint for a topic it does not own.
        feed.writers[try feed.chain(of: misplaced, topic: AccordTopic.interventionsDeliveryEvents.name)] = nil
        for event in events[60..<120] { records.append(try feed.seal(event)) }
        // A checkpoint with a bad signature (signed by another key under the source's key id), then the good ones.
        let someChain = try #require(feed.writers.keys.min { $0.description < $1.description })
        let writer = try #require(feed.writers[someChain])
        let impostor = try #require(AgencySigningKey.generate(signer: someChain.source))
        let genuineKeyId = try #require(feed.keys[someChain.source]).keyId
        let forgedSignature = try impostor.sign(Array("anything".utf8))
        let forged = try ChainCheckpoint(chain: someChain, count: writer.count, head: writer.head, lastSequence: writer.lastSequence,
                                         issuedAt: EventSamples.defaultStart, keyId: genuineKeyId, signature: forgedSignature)
        records.append(SignedFeed.record(forged.record, chain: someChain))
        records.append(contentsOf: try feed.checkpoints())
        try await Self.produce(records, to: cluster)

        let configuration = Self.configuration(cluster, store: store, registry: feed.registry)
        let first = try Projector(configuration: configuration)
        try await Self.run(first) { first.integrity.snapshot().verified == 120 }
        #expect(try await first.reader.totalEvents() == 120, "only the valid events are applied")
        #expect(first.integrity.snapshot().verified == 120)
        #expect(first.integrity.snapshot().provisional == 0)
        #expect(try ProjectorStore(path: store).provisional(eventIds: events[..<120].map(\.idString)).isEmpty)

        let opened = try ProjectorStore(path: store)
        let reasons = try opened.deadLetters().map(\.reason)
        #expect(reasons.count == 4, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("unchained:") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("broken-chain:") }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("bad-signature:") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("ce_source") }, "\(reasons)")
        let letters = try await ProjectorTests.deadLetters(in: cluster)
        #expect(letters.count == 4)
        #expect(letters.contains { ChainCheckpoint.isCheckpointRecord($0.binaryMessage) }, "the forged checkpoint is on the dead-letter topic")
        let counts = try opened.integrityCounts()
        #expect(counts.verified == 120 && counts.provisional == 0)
        #expect(counts.chainCheckpoints == feed.writers.count, "every chain's checkpoint verified and stored")
        #expect(counts.journalCheckpoints >= 1, "a journal checkpoint is signed at shutdown")
        let journalCheckpoint = try #require(try opened.latestJournalCheckpoint())
        #expect(journalCheckpoint.position == 120)
        #expect(journalCheckpoint.entryHash == (try opened.journalHead()).head)
        let projectorKey = try KeyRegistry(jsonBytes: Array(try Data(contentsOf: URL(fileURLWithPath: store + ".projector-key.pub.json"))))
        #expect(journalCheckpoint.verifySignature(with: projectorKey) == nil, "signed with the key whose public entry is written next to the store")
        #expect(try opened.chainStates().count == feed.writers.count,
                "every genuine chain, and none for the misplaced event: the event check refused it before it could take a place in a chain")

        // Restart: more events continue the chains; they are provisional until the next checkpoints.
        var more: [ProducerRecord] = []
        for event in events[120...] { more.append(try feed.seal(event)) }
        try await Self.produce(more, to: cluster)
        let second = try Projector(configuration: configuration)
        #expect(try await second.reader.totalEvents() == 120, "the view is in the store")
        try await ProjectorTests.run(second, untilEvents: 150)
        #expect(try await second.reader.totalEvents() == 150, "the restored verifier links the new events to the stored heads")
        #expect(second.integrity.snapshot().provisional == 30)
        #expect(try ProjectorStore(path: store).provisional(eventIds: events[120...].map(\.idString)) == Set(events[120...].map(\.idString)))
        // The projector's own query API reads provisional marks from its store while it holds a reader
        // (a nested read used to crash the process on the first timeline request).
        let lateCase = try #require(events[120...].first).subject
        let timeline = try await withQueryAPI(QueryAPI(projector: second, logger: Logger(label: "test"))) {
            try await $0.get("/v1/cases/\(lateCase)/timeline?limit=500")
        }
        #expect(timeline.status == 200, "\(timeline.text.prefix(300))")
        let marked = items(timeline.json()).filter { $0["provisional"] as? Bool == true }.compactMap { $0["eventId"] as? String }
        #expect(!marked.isEmpty && Set(marked).isSubset(of: Set(events[120...].map(\.idString))), "\(marked)")
        #expect(try ProjectorStore(path: store).deadLetters().count == 4, "nothing new refused")

        try await Self.produce(try feed.checkpoints(issuedAt: EventSamples.defaultStart.adding(seconds: 60) ?? EventSamples.defaultStart),
                               to: cluster)
        let third = try Projector(configuration: configuration)
        #expect(third.integrity.snapshot().provisional == 30, "provisional status restored from the store")
        try await Self.run(third) { third.integrity.snapshot().verified == 150 }
        #expect(third.integrity.snapshot().verified == 150)
        #expect(third.integrity.snapshot().provisional == 0)
        let final = try ProjectorStore(path: store)
        #expect(try final.integrityCounts().verified == 150)
        #expect(try final.deadLetters().count == 4)

        // The store the projector wrote passes `accord audit verify`, view digests included.
        if let audit = try Self.auditVerify(store: store, registry: feed.registry) {
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("journal intact: 150 entries"), "\(audit.output)")
            #expect(audit.output.contains("events: 150 verified, 0 provisional"), "\(audit.output)")
            #expect(!audit.output.contains("view digests matching the replay: 0"), "\(audit.output)")
        }
    }

    @Test("a forged event on a fork of a genuine chain is retracted when the signed checkpoint orphans it: the view is what it would be had the event never come, and the audit names it; a forgery that takes the id of the genuine event it displaces does not keep that event out of the view",
          arguments: ForgedId.allCases)
    func orphanIsRetracted(forgedId: ForgedId) async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-orphan-\(UUID().uuidString).sqlite").path
        let reference = store + ".reference.sqlite"
        defer {
            Self.removeStore(store)
            Self.removeStore(reference)
            Self.removeStore(store + ".rebuild.sqlite")
        }
        var feed = try SignedFeed()
        let events = EventSamples.mixed(count: 80, caseCount: 8)
        var records: [ProducerRecord] = []
        for event in events[..<40] { records.append(try feed.seal(event)) }
        // A forger extends the head of a genuine probation chain: a copy of the event the source
        // is about to send, with another id, a very-high risk and the same sequence number.
        let target = try #require(events[40...].first { $0.source.kind == .probation })
        let chain = try feed.chain(of: target)
        var forger = try #require(feed.writers[chain])
        var forged = target
        // Taking the genuine id, a forgery read first is journaled and the genuine event is kept
        // aside until the forgery is retracted; one read after the genuine event is kept aside itself.
        forged.id = forgedId == .own ? UUID() : target.id
        forged.payload = EventSamples.payload(.riskReassessed, subject: target.subject, variant: 3)
        let sealedForgery = try forger.seal(forged, codec: feed.codec)
        let forgery = SignedFeed.record(sealedForgery.message, chain: chain)
        if forgedId != .genuineIdAfter { records.append(forgery) }
        for event in events[40...] {
            records.append(try feed.seal(event))
            if forgedId == .genuineIdAfter, event.id == target.id { records.append(forgery) }
        }
        records.append(contentsOf: try feed.checkpoints())
        try await Self.produce(records, to: cluster)

        // A forgery kept aside was never journaled: it is dropped and dead-lettered, not retracted.
        let retracted = forgedId == .genuineIdAfter ? 0 : 1
        let projector = try Projector(configuration: Self.configuration(cluster, store: store, registry: feed.registry))
        try await Self.run(projector) {
            projector.integrity.snapshot().verified == events.count && projector.integrity.snapshot().retracted == retracted
                && (try? ProjectorStore(readOnlyPath: store).deadLetters().count) == 1
        }
        let snapshot = projector.integrity.snapshot()
        #expect(snapshot.verified == events.count && snapshot.retracted == retracted && snapshot.provisional == 0, "\(snapshot)")
        #expect(try await projector.reader.totalEvents() == events.count, "the forged event is no longer in the view")
        let live = try ProjectorStore(path: store)
        let reasons = try live.deadLetters().map(\.reason)
        #expect(reasons.count == 1 && reasons[0].hasPrefix("orphaned:"), "\(reasons)")
        #expect(try live.integrityCounts().retracted == retracted)
        let retractions = try live.retractions()
        #expect(retractions.map(\.eventId) == (retracted == 1 ? [forged.idString] : []))
        #expect(try live.journalCount() == events.count + retracted, "a journaled forgery stays in the journal, marked")

        try Self.expectSameViewAsGenuineOnly(store: store, reference: reference, genuine: events)

        // `accord audit verify` replays the retraction where it was made and names the event.
        if let audit = try Self.auditVerify(store: store, registry: feed.registry) {
            #expect(audit.status == 0, "\(audit.output)")
            #expect(audit.output.contains("events: \(events.count) verified, 0 provisional, \(retracted) retracted"), "\(audit.output)")
            if retracted == 1 {
                #expect(audit.output.contains("retracted: position") && audit.output.contains(forged.idString), "\(audit.output)")
            }
            #expect(!audit.output.contains("view digests matching the replay: 0"), "\(audit.output)")
            let rebuild = try runCommand(Self.accord, ["audit", "rebuild", "--store", store, "--compare", "--area-offices", "none"])
            #expect(rebuild.status == 0, "\(rebuild.output)")
            #expect(rebuild.output.contains("no differences"), "\(rebuild.output)")
        }
        #expect(try live.shadowedCount() == 0, "nothing is left kept aside")
        switch forgedId {
        case .own:
            // Had the projector not retracted the orphan (and no journal checkpoint caught the
            // replay), the audit still names it from the signed chain itself.
            let queue = try DatabaseQueue(path: store)
            try await queue.write { db in
                try db.execute(sql: "DELETE FROM journal_retracted; UPDATE journal SET retracted = NULL; DELETE FROM journal_checkpoints")
            }
            if let audit = try Self.auditVerify(store: store, registry: feed.registry) {
                #expect(audit.status == 1, "\(audit.output)")
                #expect(audit.output.contains("orphaned: journal position") && audit.output.contains(forged.idString), "\(audit.output)")
            }
        case .genuineIdBefore:
            ReliabilityLog.record("forged record taking the id of the genuine event it displaces, read first", times: 1,
                                  outcome: "retracted: \(snapshot.retracted); the genuine event kept aside, then applied; "
                                    + "view equal to a store that never saw the forgery", test: "ProjectorIntegrityTests")
        case .genuineIdAfter:
            ReliabilityLog.record("forged record repeating a genuine event's id with other content, read after it", times: 1,
                                  outcome: "kept aside, then \(reasons.first.map { "dead-lettered: \($0.prefix(60))" } ?? "NOT dead-lettered"); "
                                    + "view equal to a store that never saw it", test: "ProjectorIntegrityTests")
        }
    }

    /// Which id the forgery in ``orphanIsRetracted(forgedId:)`` carries, and where it is read.
    enum ForgedId: CaseIterable, Sendable {
        /// An id of its own, read before the genuine event it displaces.
        case own
        /// The genuine event's id, read before the genuine event.
        case genuineIdBefore
        /// The genuine event's id, read right after the genuine event.
        case genuineIdAfter
    }

    @Test("an idle projector signs a journal checkpoint of its head within the idle delay, without being stopped")
    func idleCheckpoint() async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-idle-\(UUID().uuidString).sqlite").path
        defer { Self.removeStore(store) }
        var feed = try SignedFeed()
        let events = EventSamples.mixed(count: 40, caseCount: 5)
        var records = try events.map { try feed.seal($0) }
        records += try feed.checkpoints()
        try await Self.produce(records, to: cluster)
        var configuration = Self.configuration(cluster, store: store, registry: feed.registry)
        configuration.journalCheckpointIdle = .seconds(1)
        configuration.journalCheckpointInterval = .seconds(3_600)
        configuration.journalCheckpointBatches = 1_000
        let projector = try Projector(configuration: configuration)
        try await Self.run(projector) { projector.integrity.snapshot().lastJournalCheckpoint?.position == Int64(events.count) }
        let checkpoint = try #require(try ProjectorStore(path: store).journalCheckpoints().first,
                                      "a checkpoint was signed while the projector ran")
        #expect(checkpoint.position == Int64(events.count), "it covers every applied event")
        #expect(try ProjectorStore(path: store).journalCheckpoints().count == 1, "and only one: nothing was applied after it")
    }

    @Test("without a registry, checkpoint records are skipped (not dead-lettered) and events are journaled unverified")
    func withoutRegistry() async throws {
        let cluster = try ProjectorTests.cluster()
        defer { cluster.shutdown() }
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("accord-integrity-\(UUID().uuidString).sqlite").path
        defer { Self.removeStore(store) }
        var feed = try SignedFeed()
        let events = EventSamples.mixed(count: 40, caseCount: 5)
        var records = try events.map { try feed.seal($0) }
        records.append(contentsOf: try feed.checkpoints())
        try await Self.produce(records, to: cluster)
        var configuration = Self.configuration(cluster, store: store, registry: feed.registry)
        configuration.keyRegistry = nil
        let projector = try Projector(configuration: configuration)
        try await ProjectorTests.run(projector, untilEvents: 40)
        #expect(try await projector.reader.totalEvents() == 40)
        #expect(projector.integrity.snapshot().checking == false)
        #expect(try ProjectorStore(path: store).provisional(eventIds: [events[0].idString]) == [events[0].idString],
                "nothing is verified without a registry")
        let opened = try ProjectorStore(path: store)
        #expect(try opened.deadLetters().isEmpty, "checkpoint records are not dead-lettered as events")
        #expect(try opened.integrityCounts().provisional == 40)
        var hashed = 0
        try opened.forEachJournalEntry { entry in
            if entry.entryHash != nil, entry.eventHash != .zero, entry.chainPosition == nil { hashed += 1 }
        }
        #expect(hashed == 40, "the journal is hash-chained even when integrity checking is off")
    }
}
