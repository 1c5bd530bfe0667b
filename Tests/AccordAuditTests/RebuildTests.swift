@testable import AccordAudit
import AccordBus
import AccordEvents
import AccordKafka
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Logging
import Testing

@Suite("audit rebuild", .tags(.broker))
struct RebuildTests {
    @Test("rebuild from the journal compares clean with an intact store written like the projector writes it")
    func intactStoreCompares() async throws {
        let (_, store) = try scenarioStore("intact")
        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        let comparison = try #require(result.comparison)
        #expect(comparison.differences == [], "\(comparison.differences)")
        #expect(comparison.passed)
        let leaves = try StoreAuditReader(path: store).store.viewLeaves()
        #expect(leaves.keys.filter { $0.hasPrefix("case:") }.count == 7)
        #expect(leaves.keys.filter { $0.hasPrefix("contract:") }.count == 2)
        #expect(comparison.subjectsCompared == leaves.count)
        #expect(comparison.rowsCompared > comparison.subjectsCompared, "flag index, counters and facts too")
        #expect(comparison.eventsCompared == AuditScenario.events.count)
        #expect(result.eventsApplied == AuditScenario.events.count)
        #expect(result.latestEventTime == aDay(25))
        #expect(result.viewDigest == AuditScenario.fullState().digest(asOf: aDay(25)))
        #expect(result.viewDigest == comparison.liveViewDigest)
        #expect(result.caseRows == 7 && result.contractRows == 2)
        #expect(result.swapBlockers.isEmpty)
        let rebuilt = try StoreAuditReader(path: result.outputPath)
        #expect(try rebuilt.journalSummary().count == AuditScenario.events.count)
        #expect(try rebuilt.offsets() == StoreAuditReader(path: store).offsets())
    }

    @Test("an altered serving row makes the comparison fail, naming the table, the row and the column")
    func alteredRowFails() async throws {
        let (_, store) = try scenarioStore("altered")
        try tamper(store, "UPDATE view_case SET risk = 'low' WHERE case_id = 'X000005'")

        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        let comparison = try #require(result.comparison)
        #expect(!comparison.passed)
        #expect(comparison.differences.count == 1, "\(comparison.differences)")
        let difference = try #require(comparison.differences.first)
        #expect(difference.kind == .differentRow)
        #expect(difference.id == "view_case 'X000005'")
        #expect(difference.detail == "risk: live 'low', rebuilt 'very-high'", "\(difference.detail)")

        // A deleted flag, a row for nothing and an altered leaf are listed too.
        try tamper(store, "DELETE FROM view_flag WHERE subject = 'X000005'")
        try tamper(store, "INSERT INTO view_case SELECT 'X999999', area, open, risk, order_type, allocated, reoffences, office FROM view_case WHERE case_id = 'X000001'")
        try tamper(store, "UPDATE view_leaf SET leaf = zeroblob(32) WHERE key = 'case:X000002'")
        let again = try #require(try await Rebuild.run(livePath: store, from: .journal, compare: true).comparison)
        #expect(again.differences.contains { $0.kind == .missingRow && $0.id.hasPrefix("view_flag ") })
        #expect(again.differences.contains { $0.kind == .extraRow && $0.id == "view_case 'X999999'" })
        #expect(again.differences.contains { $0.kind == .differentSubject && $0.id == "case:X000002" })
    }

    @Test("swap replaces the live store with the rebuild and keeps the old file")
    func swapReplacesStore() async throws {
        let (_, store) = try scenarioStore("swap")
        try tamper(store, "UPDATE view_case SET area = 'tampered' WHERE case_id = 'X000002'")

        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        #expect(result.comparison?.differences.contains { $0.kind == .differentRow && $0.id == "view_case 'X000002'" } == true)
        let backup = try Rebuild.swap(result)
        #expect(FileManager.default.fileExists(atPath: backup))
        #expect(!FileManager.default.fileExists(atPath: result.outputPath))
        let after = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        #expect(after.comparison?.differences == [])
        #expect(try StoreAuditReader(path: store).journalSummary().count == AuditScenario.events.count)
        #expect(try StoreAuditReader(path: backup).row(of: "view_case", key: "'X000002'").first { $0.column == "area" }?.value
                == "'tampered'")
    }

    @Test("a swap is refused when the live journal moved since the rebuild read it")
    func swapRefusedWhenJournalMoved() async throws {
        let (_, store) = try scenarioStore("moved")
        let result = try await Rebuild.run(livePath: store, from: .journal, compare: false)
        try appendEvent(to: store)
        #expect(throws: StoreAuditError.self) { _ = try Rebuild.swap(result) }
    }

    /// Changes the store behind the projector's back.
    private func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
    }

    /// Journals one more event (case X000042 opened on day 26) into the store, as the projector would.
    @discardableResult
    private func appendEvent(to path: String) throws -> AccordEvent {
        let event = EventSamples.event(.caseOpened, subject: "X000042", sequence: 99, time: aDay(26))
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path))
        var batch = StoreBatch()
        batch.entries = [try StoreFixtures.pending(event, recordedAt: aDay(26), offset: 999)]
        _ = try writer.commit(batch)
        _ = try writer.viewDigest()
        return event
    }

    /// The audit scenario published to a new embedded cluster (2 partitions per agency topic),
    /// and a live store written from consuming it as the projector would.
    private struct KafkaFixture {
        let logger: Logger
        let cluster: EmbeddedKafkaCluster
        let producer: KafkaProducer
        let records: [ConsumerRecord]
        let directory: String
        let store: String

        init(_ name: String) async throws {
            var logger = Logger(label: "audit-rebuild-tests")
            logger.logLevel = .error
            self.logger = logger
            cluster = try EmbeddedKafkaCluster(logger: logger)
            for topic in AccordTopic.all where topic.owner != nil {
                try cluster.createTopic(TopicSpec(name: topic.name, partitions: 2))
            }
            producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: logger)
            let publisher = EventPublisher(producer: producer)
            for item in AuditScenario.events {
                _ = try await publisher.publish(item.event)
            }
            var assignment: [TopicPartition: StartOffset] = [:]
            for topic in AccordTopic.all where topic.owner != nil {
                for partition in Int32(0)..<2 { assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning }
            }
            let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: logger)
            try await consumer.assign(assignment, stopAtEnd: true)
            var records: [ConsumerRecord] = []
            for try await record in consumer.records { records.append(record) }
            await consumer.close()
            self.records = records
            directory = try temporaryDirectory(name)
            store = directory + "/live.sqlite"
            try projectorLikeStore(path: store, records: records)
        }
    }

    @Test("rebuild from Kafka (embedded broker) equals rebuild from the journal", .timeLimit(.minutes(2)))
    func kafkaEqualsJournal() async throws {
        let fixture = try await KafkaFixture("kafka")
        let (cluster, logger, directory, store) = (fixture.cluster, fixture.logger, fixture.directory, fixture.store)
        defer { cluster.shutdown() }
        _ = await fixture.producer.shutdown(timeout: .seconds(5))
        // The live store: what a projector consuming those topics journals.
        #expect(fixture.records.count == AuditScenario.events.count)

        let fromKafka = try await Rebuild.run(livePath: store, from: .kafka(bootstrapServers: cluster.bootstrapServers),
                                              compare: true, outputPath: directory + "/kafka.sqlite", logger: logger)
        let fromJournal = try await Rebuild.run(livePath: store, from: .journal, compare: true,
                                                outputPath: directory + "/journal.sqlite")
        // Both rebuilds agree with the live store, whatever order the records were consumed in.
        #expect(fromKafka.comparison?.differences == [], "\(fromKafka.comparison?.differences ?? [])")
        #expect(fromJournal.comparison?.differences == [], "\(fromJournal.comparison?.differences ?? [])")
        #expect(fromKafka.comparison?.liveViewDigest == fromKafka.comparison?.rebuiltViewDigest)
        #expect(fromKafka.viewDigest == fromJournal.viewDigest)
        #expect(fromKafka.eventsApplied == AuditScenario.events.count)
        #expect(fromKafka.swapBlockers.isEmpty)
        let kafkaRows = try StoreAuditReader(path: fromKafka.outputPath)
        let journalRows = try StoreAuditReader(path: fromJournal.outputPath)
        for (table, _) in ServingTables.all {
            #expect(try kafkaRows.rowDigests(of: table) == journalRows.rowDigests(of: table), "\(table)")
        }
        #expect(try kafkaRows.journalSummary().count == journalRows.journalSummary().count)

        // An event the live journal has but Kafka does not: listed, and the swap is refused.
        let event = try appendEvent(to: store)
        let missing = try await Rebuild.run(livePath: store, from: .kafka(bootstrapServers: cluster.bootstrapServers),
                                            compare: true, outputPath: directory + "/kafka2.sqlite", logger: logger)
        #expect(missing.comparison?.differences.contains { $0.kind == .journalMissing && $0.id == event.idString } == true)
        #expect(missing.comparison?.differences.contains { $0.kind == .viewDigest } == true)
        #expect(!missing.swapBlockers.isEmpty)
        #expect(throws: AuditError.self) { _ = try Rebuild.swap(missing) }
    }

    @Test("rebuild from Kafka says first which records the broker no longer holds, and names their events past-retention instead of lost",
          .timeLimit(.minutes(2)))
    func kafkaPastRetention() async throws {
        let fixture = try await KafkaFixture("retention")
        let (cluster, logger, directory, store, records, producer) =
            (fixture.cluster, fixture.logger, fixture.directory, fixture.store, fixture.records, fixture.producer)
        defer { cluster.shutdown() }

        // The mock broker keeps about 5 MB per partition: 8 MB of other records push the
        // partition's first events out, as retention would.
        let partition = try #require(records.first { $0.topic == AccordTopic.probationCaseEvents.name }?.topicPartition)
        let dropped = records.filter { $0.topicPartition == partition }
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        for _ in 0..<80 {
            _ = try await producer.send(ProducerRecord(topic: partition.topic, key: nil, value: filler, partition: partition.partition))
        }
        _ = await producer.shutdown(timeout: .seconds(5))

        let result = try await Rebuild.run(livePath: store, from: .kafka(bootstrapServers: cluster.bootstrapServers),
                                           compare: true, outputPath: directory + "/kafka.sqlite", logger: logger)
        let unheld = try #require(result.unheld.first, "the broker dropped the start of \(partition)")
        #expect(result.unheld.count == 1 && unheld.topic == partition.topic && unheld.partition == partition.partition)
        #expect(unheld.until > (dropped.map(\.offset).max() ?? 0), "every event of the partition is gone: \(unheld)")
        let differences = try #require(result.comparison?.differences)
        let past = Set(differences.filter { $0.kind == .pastRetention }.map(\.id))
        let droppedIds = try Set(dropped.map { try #require($0.header("ce_id")?.stringValue).lowercased() })
        #expect(past == droppedIds, "\(differences.prefix(10))")
        #expect(!differences.contains { $0.kind == .journalMissing }, "nothing is reported lost that retention dropped")
        #expect(!result.swapBlockers.isEmpty, "a rebuild missing those events must not replace the live store")
    }
}
