import AccordStore
import Foundation
import GRDB
import Testing

@Suite("Projector store (SQLite file, WAL)")
struct ProjectorStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("accord-store-\(UUID().uuidString).sqlite").path
    }

    static func entry(_ id: String, offset: Int64, partition: Int32 = 0) -> JournalEntry {
        JournalEntry(eventId: id, topic: "probation.case-events.v1", partition: partition, offset: offset,
                     source: "urn:accord:probation:nps-london", sequence: offset + 1,
                     type: "org.accord.probation.case-opened.v1", subject: "X000001",
                     time: "2025-03-03T09:00:00Z", recordedAt: "2025-03-03T09:00:01Z", key: Array("X000001".utf8),
                     headers: [StoredHeader(name: "ce_id", value: Array(id.utf8))], value: Array("{\"n\":\(offset)}".utf8))
    }

    @Test("a batch writes journal, view rows, dead letters and offsets together, and they read back after reopening")
    func batchRoundTrip() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try ProjectorStore(path: path)
            var batch = StoreBatch()
            batch.entries = [Self.entry("a", offset: 0), Self.entry("b", offset: 1)]
            batch.cases = [ViewDocument(id: "X000001", area: "wales", json: Array("{\"caseId\":\"X000001\"}".utf8))]
            batch.deadLetters = [DeadLetterEntry(topic: "probation.case-events.v1", partition: 0, offset: 2, reason: "bad")]
            batch.offsets = [StoredOffset(topic: "probation.case-events.v1", partition: 0, nextOffset: 3)]
            let appended = try store.commit(batch)
            #expect(appended.map(\.position) == [1, 2])
        }
        let reopened = try ProjectorStore(path: path)
        var entries: [JournalEntry] = []
        try reopened.forEachJournalEntry(pageSize: 1) { entries.append($0) }
        #expect(entries.map(\.eventId) == ["a", "b"])
        let first = try #require(entries.first)
        #expect({ var e = first; e.eventHash = nil; e.entryHash = nil; return e }()
                == { var e = Self.entry("a", offset: 0); e.position = 1; return e }())
        #expect(first.eventHash != nil && first.entryHash != nil, "the store hashes and chains what it journals")
        #expect(try reopened.offsets() == [StoredOffset(topic: "probation.case-events.v1", partition: 0, nextOffset: 3)])
        #expect(try reopened.deadLetters().map(\.reason) == ["bad"])
        #expect(try reopened.caseDocument("X000001") == Array("{\"caseId\":\"X000001\"}".utf8))
        #expect(try reopened.caseCount() == 1)
    }

    @Test("an event already journaled is skipped, and offsets never move backwards")
    func duplicatesAndOffsets() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ProjectorStore(path: path)
        var first = StoreBatch()
        first.entries = [Self.entry("a", offset: 0)]
        first.offsets = [StoredOffset(topic: "t", partition: 0, nextOffset: 10)]
        try store.commit(first)
        var second = StoreBatch()
        second.entries = [Self.entry("a", offset: 5), Self.entry("c", offset: 6)]
        second.offsets = [StoredOffset(topic: "t", partition: 0, nextOffset: 7), StoredOffset(topic: "t", partition: 1, nextOffset: 2)]
        let appended = try store.commit(second)
        #expect(appended.map(\.eventId) == ["c"])
        #expect(try store.journalCount() == 2)
        #expect(try store.offsets() == [StoredOffset(topic: "t", partition: 0, nextOffset: 10),
                                        StoredOffset(topic: "t", partition: 1, nextOffset: 2)])
    }

    @Test("the database runs in WAL mode so queries never wait for the writer")
    func walMode() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try ProjectorStore(path: path)
        let queue = try DatabaseQueue(path: path)
        let mode = try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }
}
