@testable import AccordAudit
import AccordBus
import AccordEvents
import AccordKafka
import AccordProjection
import AccordStore
import Foundation
import Logging
import Testing

@Suite("audit rebuild")
struct RebuildTests {
    @Test("rebuild from the journal compares clean with an intact store written like the projector writes it")
    func intactStoreCompares() async throws {
        let (_, store) = try scenarioStore("intact")
        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        let comparison = try #require(result.comparison)
        #expect(comparison.differences == [], "\(comparison.differences)")
        #expect(comparison.passed)
        #expect(comparison.rowsCompared == 7 + 2)
        #expect(comparison.staleRows > 0)  // quiet subjects' rows describe earlier instants
        #expect(comparison.liveRowsDigest == comparison.expectedRowsDigest)
        #expect(result.eventsApplied == AuditScenario.events.count)
        #expect(result.latestEventTime == aDay(25))
        #expect(result.viewDigest == AuditScenario.fullState().digest(asOf: aDay(25)))
        #expect(result.swapBlockers.isEmpty)
        // The rebuilt store: same journal, every row as of the latest event time.
        let rebuilt = try StoreAuditReader(path: result.outputPath)
        #expect(try rebuilt.journalSummary().count == AuditScenario.events.count)
        #expect(try rebuilt.caseDocuments().allSatisfy { RebuildComparison.asOf(of: $0.json) == aDay(25) })
        #expect(try rebuilt.offsets() == StoreAuditReader(path: store).offsets())
    }

    @Test("an altered case_view row makes the comparison fail, naming the row and what differs")
    func alteredRowFails() async throws {
        let (_, store) = try scenarioStore("altered")
        let reader = try StoreAuditReader(path: store)
        let original = try #require(try reader.caseDocuments().first { $0.id == "X000002" })
        let text = String(decoding: original.json, as: UTF8.self)
        #expect(text.contains("\"status\":\"open\""))
        let altered = ViewDocument(id: original.id, area: original.area,
                                   json: Array(text.replacingOccurrences(of: "\"status\":\"open\"", with: "\"status\":\"closed\"").utf8))
        var batch = StoreBatch()
        batch.cases = [altered]
        try ProjectorStore(path: store).commit(batch)

        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        let comparison = try #require(result.comparison)
        #expect(!comparison.passed)
        let rowDifferences = comparison.differences.filter { $0.kind == .differentRow || $0.kind == .staleRow }
        #expect(rowDifferences.count == 1)
        #expect(rowDifferences.first?.id == "X000002")
        #expect(rowDifferences.first?.table == "case_view")
        #expect(rowDifferences.first?.detail.contains("status: live \"closed\", rebuilt \"open\"") == true,
                "\(rowDifferences.first?.detail ?? "")")
        #expect(comparison.differences.contains { $0.kind == .rowsDigest })

        // A deleted row and a row for nothing are listed too.
        var more = StoreBatch()
        more.cases = [ViewDocument(id: "X999999", area: nil, json: original.json)]
        try ProjectorStore(path: store).commit(more)
        let again = try #require(try await Rebuild.run(livePath: store, from: .journal, compare: true).comparison)
        #expect(again.differences.contains { $0.kind == .extraRow && $0.id == "X999999" })
    }

    @Test("swap replaces the live store with the rebuild and keeps the old file")
    func swapReplacesStore() async throws {
        let (_, store) = try scenarioStore("swap")
        let reader = try StoreAuditReader(path: store)
        let original = try #require(try reader.caseDocuments().first { $0.id == "X000002" })
        var batch = StoreBatch()
        batch.cases = [ViewDocument(id: "X000002", area: "tampered", json: original.json)]
        try ProjectorStore(path: store).commit(batch)

        let result = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        #expect(result.comparison?.differences.contains { $0.kind == .differentArea && $0.id == "X000002" } == true)
        let backup = try Rebuild.swap(result)
        #expect(FileManager.default.fileExists(atPath: backup))
        #expect(!FileManager.default.fileExists(atPath: result.outputPath))
        let after = try await Rebuild.run(livePath: store, from: .journal, compare: true)
        #expect(after.comparison?.differences == [])
        #expect(try StoreAuditReader(path: store).journalSummary().count == AuditScenario.events.count)
        #expect(try StoreAuditReader(path: backup).caseDocuments().first { $0.id == "X000002" }?.area == "tampered")
    }

    @Test("a swap is refused when the live journal moved since the rebuild read it")
    func swapRefusedWhenJournalMoved() async throws {
        let (_, store) = try scenarioStore("moved")
        let result = try await Rebuild.run(livePath: store, from: .journal, compare: false)
        var batch = StoreBatch()
        let event = EventSamples.event(.caseOpened, subject: "X000042", sequence: 99, time: aDay(26))
        batch.entries = [JournalEntry(event: event, record: try consumerRecord(event, recordedAt: aDay(26), offset: 999))]
        try ProjectorStore(path: store).commit(batch)
        #expect(throws: StoreAuditError.self) { _ = try Rebuild.swap(result) }
    }

    @Test("rebuild from Kafka (embedded broker) equals rebuild from the journal", .timeLimit(.minutes(2)))
    func kafkaEqualsJournal() async throws {
        var logger = Logger(label: "audit-rebuild-tests")
        logger.logLevel = .error
        let cluster = try EmbeddedKafkaCluster(logger: logger)
        defer { cluster.shutdown() }
        for topic in AccordTopic.all where topic.owner != nil {
            try cluster.createTopic(TopicSpec(name: topic.name, partitions: 2))
        }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: logger)
        let publisher = EventPublisher(producer: producer)
        for item in AuditScenario.events {
            _ = try await publisher.publish(item.event)
        }
        _ = await producer.shutdown(timeout: .seconds(5))

        // The live store: what a projector consuming those topics journals.
        var assignment: [TopicPartition: StartOffset] = [:]
        for topic in AccordTopic.all where topic.owner != nil {
            for partition in Int32(0)..<2 { assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning }
        }
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers), logger: logger)
        try await consumer.assign(assignment, stopAtEnd: true)
        var records: [ConsumerRecord] = []
        for try await record in consumer.records { records.append(record) }
        await consumer.close()
        #expect(records.count == AuditScenario.events.count)
        let directory = try temporaryDirectory("kafka")
        let store = directory + "/live.sqlite"
        try projectorLikeStore(path: store, records: records)

        let fromKafka = try await Rebuild.run(livePath: store, from: .kafka(bootstrapServers: cluster.bootstrapServers),
                                              compare: true, outputPath: directory + "/kafka.sqlite", logger: logger)
        let fromJournal = try await Rebuild.run(livePath: store, from: .journal, compare: true,
                                                outputPath: directory + "/journal.sqlite")
        // Both rebuilds judge the live store alike. Records were consumed topic by topic, so the
        // live contract row was written before the referral answers under it were consumed (the
        // projector re-renders a contract row only on contract events): both list it as stale.
        #expect(fromKafka.comparison?.differences == fromJournal.comparison?.differences)
        #expect(fromKafka.comparison?.differences.allSatisfy { $0.kind == .staleRow || $0.kind == .rowsDigest } == true,
                "\(fromKafka.comparison?.differences ?? [])")
        #expect(fromKafka.comparison?.liveViewDigest == fromKafka.comparison?.rebuiltViewDigest)
        #expect(fromKafka.viewDigest == fromJournal.viewDigest)
        #expect(fromKafka.eventsApplied == AuditScenario.events.count)
        #expect(fromKafka.swapBlockers.isEmpty)
        let kafkaRows = try StoreAuditReader(path: fromKafka.outputPath)
        let journalRows = try StoreAuditReader(path: fromJournal.outputPath)
        #expect(try kafkaRows.caseDocuments() == journalRows.caseDocuments())
        #expect(try kafkaRows.contractDocuments() == journalRows.contractDocuments())
        #expect(try kafkaRows.journalSummary().count == journalRows.journalSummary().count)

        // An event the live journal has but Kafka does not: listed, and the swap is refused.
        var batch = StoreBatch()
        let event = EventSamples.event(.caseOpened, subject: "X000042", sequence: 99, time: aDay(26))
        batch.entries = [JournalEntry(event: event, record: try consumerRecord(event, recordedAt: aDay(26), offset: 999))]
        try ProjectorStore(path: store).commit(batch)
        let missing = try await Rebuild.run(livePath: store, from: .kafka(bootstrapServers: cluster.bootstrapServers),
                                            compare: true, outputPath: directory + "/kafka2.sqlite", logger: logger)
        #expect(missing.comparison?.differences.contains { $0.kind == .journalMissing && $0.id == event.idString } == true)
        #expect(missing.comparison?.differences.contains { $0.kind == .viewDigest } == true)
        #expect(!missing.swapBlockers.isEmpty)
        #expect(throws: AuditError.self) { _ = try Rebuild.swap(missing) }
    }
}
