import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

@Suite("Projector store (SQLite file, WAL): journal, offsets, dead letters, integrity records")
struct ProjectorStoreTests {
    static func events(_ count: Int) -> [AccordEvent] {
        let f = Feed(salt: "store")
        return (0..<count).map { n in f.opened("X\(String(100_000 + n))", at: day(Double(n) / 10)) }
    }

    @Test("a batch writes journal, view, dead letters and offsets together, and they read back byte for byte after reopening")
    func batchRoundTrip() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        let events = Self.events(2)
        let pending = try events.enumerated().map { try StoreFixtures.pending($0.element, recordedAt: $0.element.time, offset: Int64($0.offset)) }
        do {
            var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
            var batch = StoreBatch()
            batch.entries = pending
            batch.deadLetters = [DeadLetterEntry(topic: "probation.case-events.v1", partition: 0, offset: 2, reason: "bad")]
            batch.offsets = [StoredOffset(topic: "probation.case-events.v1", partition: 0, nextOffset: 3)]
            let committed = try writer.commit(batch)
            #expect(committed.appended.map(\.position) == [1, 2])
        }
        let reopened = try ProjectorStore(path: path)
        var entries: [JournaledEvent] = []
        try reopened.forEachJournalEntry(pageSize: 1) { entries.append($0) }
        #expect(entries.map(\.eventId) == events.map(\.idString))
        let first = try #require(entries.first)
        #expect(first.message == pending[0].entry.message, "the record's key, headers and value are kept exactly")
        #expect(first.time == events[0].time && first.recordedAt == events[0].time)
        #expect(first.entryHash != nil, "the store chains what it journals")
        #expect(try first.decodeEvent() == events[0])
        #expect(try reopened.offsets() == [StoredOffset(topic: "probation.case-events.v1", partition: 0, nextOffset: 3)])
        #expect(try reopened.deadLetters().map(\.reason) == ["bad"])
        #expect(try reopened.subjectCounts().cases == 2)
    }

    @Test("an event already journaled is skipped (in the batch and across batches), and offsets never move backwards")
    func duplicatesAndOffsets() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        let events = Self.events(3)
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        var first = StoreBatch()
        first.entries = [try StoreFixtures.pending(events[0], recordedAt: events[0].time, offset: 0)]
        first.offsets = [StoredOffset(topic: "t", partition: 0, nextOffset: 10)]
        _ = try writer.commit(first)
        var second = StoreBatch()
        second.entries = [try StoreFixtures.pending(events[0], recordedAt: events[0].time, offset: 5),
                          try StoreFixtures.pending(events[1], recordedAt: events[1].time, offset: 6),
                          try StoreFixtures.pending(events[1], recordedAt: events[1].time, offset: 7)]
        second.offsets = [StoredOffset(topic: "t", partition: 0, nextOffset: 7), StoredOffset(topic: "t", partition: 1, nextOffset: 2)]
        let committed = try writer.commit(second)
        #expect(committed.appended.map(\.eventId) == [events[1].idString])
        #expect(committed.duplicates == 2)
        #expect(try writer.store.journalCount() == 2)
        #expect(try writer.store.offsets() == [StoredOffset(topic: "t", partition: 0, nextOffset: 10),
                                               StoredOffset(topic: "t", partition: 1, nextOffset: 2)])
    }

    @Test("the database runs in WAL mode so queries never wait for the writer")
    func walMode() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        _ = try ProjectorStore(path: path)
        let queue = try DatabaseQueue(path: path)
        let mode = try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test("an audit refuses a file that is not a store, and a store of an earlier schema, saying which and what to do")
    func auditOpenRefusals() throws {
        let plain = TemporaryPaths.file("accord-not-a-store")
        defer { TemporaryPaths.removeStore(plain) }
        try DatabaseQueue(path: plain).write { try $0.execute(sql: "CREATE TABLE other (x INTEGER)") }
        #expect { try StoreAuditReader(path: plain) } throws: { "\($0)".contains("has no journal table") }

        let older = TemporaryPaths.file("accord-older-store")
        defer { TemporaryPaths.removeStore(older) }
        _ = try ProjectorStore(path: older)
        // As if written before the v5 migration (which can run again: it only deletes rows).
        try DatabaseQueue(path: older).write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-derived-gap-flags'")
        }
        #expect { try StoreAuditReader(path: older) } throws: { "\($0)".contains("start the projector on it once") }
        // The projector migrates it; the audit then opens it.
        _ = try ProjectorStore(path: older)
        _ = try StoreAuditReader(path: older)
    }

    @Test("entries are chained across batches exactly as JournalWriter chains them, and the journal verifies")
    func journalChain() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        let events = Self.events(3)
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        var first = StoreBatch()
        first.entries = try events[..<2].enumerated().map { try StoreFixtures.pending($0.element, recordedAt: $0.element.time, offset: Int64($0.offset)) }
        _ = try writer.commit(first)
        var second = StoreBatch()
        second.entries = [try StoreFixtures.pending(events[1], recordedAt: events[1].time, offset: 1),
                          try StoreFixtures.pending(events[2], recordedAt: events[2].time, offset: 2)]
        #expect(try writer.commit(second).appended.map(\.position) == [3], "a journaled event id is skipped without breaking the chain")

        var chain = JournalWriter()
        var stored: [JournaledEvent] = []
        try writer.store.forEachJournalEntry { stored.append($0) }
        for entry in stored {
            let hash = try EventHashing.hash(headers: entry.headers, value: entry.value).hash
            let expected = try chain.append(eventId: entry.eventId, topic: entry.topic, partition: entry.partition,
                                            offset: entry.offset, eventHash: hash)
            #expect(entry.eventHash == hash)
            #expect(entry.entryHash == expected.entryHash)
        }
        #expect(try writer.store.journalHead() == chain)
        let records = stored.compactMap { entry in
            entry.chainEntry.map { JournalRecord(entry: $0, headers: entry.headers, value: entry.value) }
        }
        #expect(JournalChain.verify(entries: records).isIntact)
    }

    @Test("verified marks, agency checkpoints, chain states and a signed journal checkpoint of the view digest are written with the batch")
    func integrityRecords() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        let events = Self.events(2)
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        let store = writer.store
        let source = "urn:accord:probation:nps-london"
        let agencyKey = try #require(AgencySigningKey.generate(signer: source))
        let projectorKey = try #require(AgencySigningKey.generate(signer: "urn:accord:projector:main"))
        let chain = ChainID(source: source, topic: "probation.case-events.v1", partition: 0)
        var batch = StoreBatch()
        batch.entries = try events.enumerated().map { n, e in
            var p = try StoreFixtures.pending(e, recordedAt: e.time, offset: Int64(n))
            p.entry.chainPosition = Int64(n + 1)
            return p
        }
        batch.chainStates = [ChainState(chain: chain)]
        let committed = try writer.commit(batch)
        #expect(committed.newlyVerified.isEmpty)
        #expect(try store.integrityCounts() == IntegrityCounts(verified: 0, provisional: 2, chainCheckpoints: 0, journalCheckpoints: 0))
        #expect(try store.provisional(eventIds: events.map(\.idString)) == Set(events.map(\.idString)))

        let checkpoint = try ChainCheckpoint.signed(chain: chain, count: 1, head: Hash256.sha256([1]), lastSequence: 1,
                                                    issuedAt: EventSamples.defaultStart, key: agencyKey)
        var next = StoreBatch()
        next.verifiedRecords = [RecordCoordinates(topic: "probation.case-events.v1", partition: 0, offset: 0)]
        next.chainCheckpoints = [StoredChainCheckpoint(checkpoint: checkpoint, offset: 7, body: checkpoint.record.value)]
        next.journalCheckpoint = JournalCheckpointRequest(issuedAt: EventSamples.defaultStart, key: projectorKey)
        let result = try writer.commit(next)
        #expect(result.newlyVerified == [events[0].idString])
        let signed = try #require(result.journalCheckpoint)
        #expect(signed.position == 2)
        #expect(signed.entryHash == (try store.journalHead()).head)
        #expect(try signed.viewDigest == writer.viewDigest(), "the checkpoint commits to the view digest the batch leaves")
        #expect(signed.viewDigest != ViewTree.emptyRoot)
        #expect(signed.verifySignature(with: try KeyRegistry(keys: [projectorKey.registryEntry(validFrom: EventSamples.defaultStart)])) == nil)
        #expect(try store.journalCheckpoints() == [signed])
        #expect(try store.latestJournalCheckpoint() == signed)
        #expect(try store.chainCheckpoints() == [StoredChainCheckpoint(checkpoint: checkpoint, offset: 7, body: checkpoint.record.value)])
        #expect(try store.chainStates() == [ChainState(chain: chain)])
        #expect(try store.integrityCounts() == IntegrityCounts(verified: 1, provisional: 1, chainCheckpoints: 1, journalCheckpoints: 1))
        #expect(try store.provisional(eventIds: events.map(\.idString)) == [events[1].idString])
        let read = try #require(try store.journalEntry(at: RecordCoordinates(topic: "probation.case-events.v1", partition: 0, offset: 0)))
        #expect(read.verified && read.chainPosition == 1)

        let readOnly = try ProjectorStore(readOnlyPath: path)
        #expect(try readOnly.journalCount() == 2)
        var readOnlyWriter = try ViewStoreWriter(store: readOnly, rules: .defaults)
        var write = StoreBatch()
        write.entries = [try StoreFixtures.pending(Self.events(3)[2], recordedAt: day(1), offset: 9)]
        #expect(throws: (any Error).self) { _ = try readOnlyWriter.commit(write) }
    }

    @Test("unread ranges are stored with the batch and read back")
    func unreadRanges() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        var batch = StoreBatch()
        batch.unreadRanges = [UnreadRange(topic: "probation.case-events.v1", partition: 2, from: 10, until: 25, detectedAt: day(3))]
        _ = try writer.commit(batch)
        let ranges = try writer.store.unreadRanges()
        #expect(ranges == batch.unreadRanges)
        #expect(ranges.first?.count == 15)
    }

    @Test("a version-2 journal (JSON headers, hex hashes) is migrated byte for byte, then the view is rebuilt from it")
    func migratesAnOlderJournal() throws {
        let path = TemporaryPaths.file("accord-store")
        defer { TemporaryPaths.removeStore(path) }
        let events = Self.events(3)
        let pending = try events.enumerated().map { try StoreFixtures.pending($0.element, recordedAt: $0.element.time, offset: Int64($0.offset)) }
        var chain = JournalWriter()
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1'), ('v2-integrity');
                    CREATE TABLE journal (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
                      partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, source TEXT NOT NULL, sequence INTEGER NOT NULL,
                      type TEXT NOT NULL, subject TEXT NOT NULL, time TEXT NOT NULL, recorded_at TEXT NOT NULL, key BLOB,
                      headers TEXT NOT NULL, value BLOB NOT NULL, event_hash TEXT, entry_hash TEXT, chain_position INTEGER,
                      verified INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE case_view (case_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                    CREATE TABLE contract_view (contract_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                    CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                      "offset" INTEGER NOT NULL, reason TEXT NOT NULL);
                    CREATE TABLE consumer_offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
                      PRIMARY KEY (topic, partition));
                    CREATE TABLE chain_checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, topic TEXT NOT NULL,
                      partition INTEGER NOT NULL, count INTEGER NOT NULL, head TEXT NOT NULL, last_sequence INTEGER NOT NULL,
                      issued_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL, "offset" INTEGER NOT NULL, body BLOB NOT NULL);
                    CREATE TABLE journal_checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL,
                      entry_hash TEXT NOT NULL, view_digest TEXT NOT NULL, issued_at TEXT NOT NULL, signer TEXT NOT NULL,
                      key_id TEXT NOT NULL, signature TEXT NOT NULL);
                    CREATE TABLE chain_states (source TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                      state TEXT NOT NULL, PRIMARY KEY (source, topic, partition));
                    """)
                for (n, p) in pending.enumerated() {
                    let e = p.entry
                    let headers = "[" + e.headers.map { h in
                        "{\"name\":\"\(h.name)\",\"value\":[\(h.value.map(String.init).joined(separator: ","))]}"
                    }.joined(separator: ",") + "]"
                    let linked = try chain.append(eventId: e.eventId, topic: e.topic, partition: e.partition, offset: e.offset,
                                                  eventHash: e.eventHash)
                    try db.execute(sql: "INSERT INTO journal VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)",
                                   arguments: [n + 1, e.eventId, e.topic, e.offset, e.source, e.sequence, e.type, e.subject,
                                               e.time.rfc3339, e.recordedAt.rfc3339, Data(e.message.key ?? []), headers,
                                               Data(e.value), e.eventHash.hex, linked.entryHash.hex])
                }
            }
        }
        let store = try ProjectorStore(path: path)
        #expect(try store.journalHead() == chain, "hashes survive the migration")
        var migrated: [JournaledEvent] = []
        try store.forEachJournalEntry { migrated.append($0) }
        #expect(migrated.map(\.message) == pending.map(\.entry.message))
        var writer = try ViewStoreWriter(store: store, rules: .defaults)
        #expect(try writer.rebuildReason() != nil, "the migrated store asks for its view to be rebuilt")
        try writer.rebuildView()
        #expect(try writer.rebuildReason() == nil)
        var reference = ProjectionState()
        for e in events { reference.apply(e, recordedAt: e.time) }
        #expect(try writer.viewDigest() == reference.viewDigest())
        #expect(try writer.commit({ var b = StoreBatch(); b.entries = [try StoreFixtures.pending(Self.events(4)[3], recordedAt: day(1), offset: 3)]; return b }()).appended.map(\.position) == [4])
    }
}
