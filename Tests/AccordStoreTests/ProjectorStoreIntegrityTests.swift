import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import Foundation
import GRDB
import Testing

@Suite("Projector store: journal chain, verified marks, checkpoints, chain states")
struct ProjectorStoreIntegrityTests {
    static func entry(_ id: String, offset: Int64, chainPosition: Int64? = nil) -> AccordStore.JournalEntry {
        var entry = ProjectorStoreTests.entry(id, offset: offset)
        entry.chainPosition = chainPosition
        return entry
    }

    @Test("entries are chained across batches exactly as JournalWriter chains them, and the journal verifies")
    func journalChain() throws {
        let path = ProjectorStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ProjectorStore(path: path)
        var first = StoreBatch()
        first.entries = [Self.entry("a", offset: 0), Self.entry("b", offset: 1)]
        try store.commit(first)
        var second = StoreBatch()
        second.entries = [Self.entry("b", offset: 1), Self.entry("c", offset: 2)]
        let appended = try store.commitBatch(second).appended
        #expect(appended.map(\.position) == [3], "a journaled event id is skipped without breaking the chain")

        var writer = JournalWriter()
        var stored: [AccordStore.JournalEntry] = []
        try store.forEachJournalEntry { stored.append($0) }
        for entry in stored {
            let hash = try EventHashing.hash(headers: entry.messageHeaders, value: entry.value).hash
            let expected = try writer.append(eventId: entry.eventId, topic: entry.topic, partition: entry.partition,
                                             offset: entry.offset, eventHash: hash)
            #expect(entry.eventHash == hash)
            #expect(entry.entryHash == expected.entryHash)
        }
        #expect(try store.journalHead() == writer)
        let records = stored.compactMap { entry in
            entry.chainEntry.map { JournalRecord(entry: $0, headers: entry.messageHeaders, value: entry.value) }
        }
        #expect(JournalChain.verify(entries: records).isIntact)
    }

    @Test("verified marks, agency checkpoints, chain states and a signed journal checkpoint are written with the batch")
    func integrityRecords() throws {
        let path = ProjectorStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try ProjectorStore(path: path)
        let source = "urn:accord:probation:nps-london"
        let agencyKey = try #require(AgencySigningKey.generate(signer: source))
        let projectorKey = try #require(AgencySigningKey.generate(signer: "urn:accord:projector:main"))
        let chain = ChainID(source: source, topic: "probation.case-events.v1", partition: 0)
        var batch = StoreBatch()
        batch.entries = [Self.entry("a", offset: 0, chainPosition: 1), Self.entry("b", offset: 1, chainPosition: 2)]
        batch.chainStates = [ChainState(chain: chain)]
        let committed = try store.commitBatch(batch)
        #expect(committed.newlyVerified.isEmpty)
        #expect(try store.integrityCounts() == IntegrityCounts(verified: 0, provisional: 2, chainCheckpoints: 0, journalCheckpoints: 0))
        #expect(try store.provisionalEventIds() == ["a", "b"])

        let checkpoint = try ChainCheckpoint.signed(chain: chain, count: 1, head: Hash256.sha256([1]), lastSequence: 1,
                                                    issuedAt: EventSamples.defaultStart, key: agencyKey)
        var next = StoreBatch()
        next.verifiedRecords = [RecordCoordinates(topic: "probation.case-events.v1", partition: 0, offset: 0)]
        next.chainCheckpoints = [StoredChainCheckpoint(checkpoint: checkpoint, offset: 7, body: checkpoint.record.value)]
        next.journalCheckpoint = JournalCheckpointRequest(viewDigest: Hash256.sha256([2]), issuedAt: EventSamples.defaultStart,
                                                          key: projectorKey)
        let result = try store.commitBatch(next)
        #expect(result.newlyVerified == ["a"])
        let signed = try #require(result.journalCheckpoint)
        #expect(signed.position == 2)
        #expect(signed.entryHash == (try store.journalHead()).head)
        #expect(signed.verifySignature(with: try KeyRegistry(keys: [projectorKey.registryEntry(validFrom: EventSamples.defaultStart)])) == nil)
        #expect(try store.journalCheckpoints() == [signed])
        #expect(try store.latestJournalCheckpoint() == signed)
        #expect(try store.chainCheckpoints() == [StoredChainCheckpoint(checkpoint: checkpoint, offset: 7, body: checkpoint.record.value)])
        #expect(try store.chainStates() == [ChainState(chain: chain)])
        #expect(try store.integrityCounts() == IntegrityCounts(verified: 1, provisional: 1, chainCheckpoints: 1, journalCheckpoints: 1))
        #expect(try store.provisionalEventIds() == ["b"])
        let read = try #require(try store.journalEntry(at: RecordCoordinates(topic: "probation.case-events.v1", partition: 0, offset: 0)))
        #expect(read.verified && read.chainPosition == 1)

        let readOnly = try ProjectorStore(readOnlyPath: path)
        #expect(try readOnly.journalCount() == 2)
        var write = StoreBatch()
        write.entries = [Self.entry("z", offset: 9)]
        #expect(throws: (any Error).self) { try readOnly.commit(write) }
    }

    @Test("a journal written before the integrity migration is chained when the store is opened")
    func backfill() throws {
        let path = ProjectorStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1');
                    CREATE TABLE journal (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
                      partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, source TEXT NOT NULL, sequence INTEGER NOT NULL,
                      type TEXT NOT NULL, subject TEXT NOT NULL, time TEXT NOT NULL, recorded_at TEXT NOT NULL, key BLOB,
                      headers TEXT NOT NULL, value BLOB NOT NULL);
                    CREATE TABLE case_view (case_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                    CREATE TABLE contract_view (contract_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                    CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                      "offset" INTEGER NOT NULL, reason TEXT NOT NULL);
                    CREATE TABLE consumer_offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
                      PRIMARY KEY (topic, partition));
                    INSERT INTO journal VALUES (1, 'a', 'probation.case-events.v1', 0, 0, 'urn:accord:probation:nps-london', 1,
                      't', 'X000001', '2025-03-03T09:00:00Z', '2025-03-03T09:00:00Z', NULL, '[{"name":"ce_id","value":[97]}]', x'7B7D');
                    """)
            }
        }
        let store = try ProjectorStore(path: path)
        var writer = JournalWriter()
        let hash = try EventHashing.hash(headers: [MessageHeader(name: "ce_id", text: "a")], value: Array("{}".utf8)).hash
        _ = try writer.append(eventId: "a", topic: "probation.case-events.v1", partition: 0, offset: 0, eventHash: hash)
        #expect(try store.journalHead() == writer)
        var batch = StoreBatch()
        batch.entries = [Self.entry("b", offset: 1)]
        #expect(try store.commit(batch).map(\.position) == [2])
    }
}
