import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// The projector's SQLite store (WAL mode): the hash-chained journal of applied events, the view
/// (a cache of the journal, rebuilt from it whenever its format or rules change), the dead-letter
/// log, the consumer offsets and the integrity records. A batch writes all of them in one
/// transaction (`ViewStoreWriter`), so the view never runs ahead of or behind its offsets.
/// Readers (the query API, audits) see consistent snapshots through WAL without blocking the writer.
public final class ProjectorStore: Sendable {
    let pool: DatabasePool
    /// The path of the store file.
    public let path: String
    /// Whether the store was opened read-only.
    public let readOnly: Bool
    /// Copies the log into the file off the writer's thread (stores opened for writing).
    private let checkpointer: WALCheckpointer?

    /// Opens (creating if needed) the store at `path` and brings its schema up to date;
    /// `cacheMebibytes` is each connection's page cache.
    public init(path: String, cacheMebibytes: Int = 32) throws {
        var configuration = Configuration()
        configuration.label = "accord.projector.store"
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -\(max(1, cacheMebibytes) * 1024); PRAGMA temp_store = MEMORY")
            try db.execute(sql: """
                PRAGMA wal_autocheckpoint = \(WALCheckpointer.fallbackPages); PRAGMA journal_size_limit = \(WALCheckpointer.logLimitBytes)
                """)
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try StoreSchema.migrator.migrate(pool)
        self.path = path
        readOnly = false
        checkpointer = WALCheckpointer(path: path)
    }

    deinit {
        // The checkpointer's connection closes first: the store's last connection removes the log.
        checkpointer?.stop()
    }

    /// Closes the store's connections now (the store must not be used afterwards), so that its
    /// files can be removed.
    func close() {
        checkpointer?.stop()
        try? pool.close()
    }

    /// Opens an existing store read-only, without migrating it: for audits, which must never
    /// change what they check. Throws when the file does not exist or predates the current schema.
    public init(readOnlyPath path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no store at \(path)") }
        var configuration = Configuration()
        configuration.label = "accord.projector.store.readonly"
        configuration.readonly = true
        // The writer's checkpointer briefly holds the log while it starts it over.
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        let (isStore, migrated) = try pool.read { db in
            (try db.tableExists("journal"), try StoreSchema.migrator.hasCompletedMigrations(db))
        }
        guard isStore else { throw StoreError("\(path) is not a projector store (it has no journal table)") }
        guard migrated else {
            throw StoreError("""
                \(path) was written by an earlier version of Accord; start the projector on it once to bring \
                its schema up to date (audits open stores read-only and never migrate them)
                """)
        }
        self.path = path
        readOnly = true
        checkpointer = nil
    }

    /// Reads in one consistent snapshot.
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Reads in one consistent snapshot on one of the store's reader connections, without
    /// blocking the caller's executor.
    public func asyncRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    // MARK: meta

    /// A value of the view's metadata.
    public func meta(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = ?", arguments: [key]) }
    }

    // MARK: journal

    /// Number of journaled events.
    public func journalCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0 }
    }

    /// The journal's count and highest position.
    public func journalSummary() throws -> (count: Int, lastPosition: Int64) {
        try pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(max(position), 0) AS last FROM journal")
            return (row?["n"] ?? 0, row?["last"] ?? 0)
        }
    }

    /// Number of journal entries whose event time is at or before `timeUpTo`.
    public func journalCount(timeUpTo: Timestamp) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM journal WHERE time_ns <= ?",
                             arguments: [timeUpTo.nanosecondsSinceEpoch]) ?? 0
        }
    }

    /// Calls `body` with every journal entry in position order (optionally only those whose
    /// event time is at or before `timeUpTo`), reading in pages.
    public func forEachJournalEntry(pageSize: Int = 5_000, after: Int64 = 0, timeUpTo: Timestamp? = nil,
                                    _ body: (JournaledEvent) throws -> Void) throws {
        var after = after
        let ids = try pool.read { db in try StoreIds(db) }
        let limit = timeUpTo?.nanosecondsSinceEpoch ?? Int64.max
        while true {
            let page: [JournaledEvent] = try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT \(Self.journalColumns) FROM journal WHERE position > ? AND time_ns <= ? ORDER BY position LIMIT ?
                    """, arguments: [after, limit, max(1, pageSize)])
                    .map { try Self.journaledEvent($0, ids) }
            }
            guard let last = page.last else { return }
            for entry in page { try body(entry) }
            after = last.position
        }
    }

    /// The result column `verified` of a journal row: 1 when no unverified mark is left for it
    /// and it was not retracted.
    static let verifiedColumn = """
        NOT EXISTS (SELECT 1 FROM journal_unverified u WHERE u.topic_id = journal.topic_id AND u.partition = journal.partition
          AND u."offset" = journal."offset" AND u.position = journal.position)
          AND NOT EXISTS (SELECT 1 FROM journal_retracted r WHERE r.position = journal.position) AS verified
        """

    /// The columns ``journaledEvent(_:_:)`` reads, in the order it reads them by index (a lookup
    /// by name costs a case-insensitive search per column per row).
    static let journalColumns = """
        position, event_id, id_text, topic_id, partition, "offset", source_id, sequence, subject, time_ns, recorded_ns,
        key, headers, value, event_hash, entry_hash, chain_position, \(verifiedColumn),
        (SELECT retracted_ns FROM journal_retracted r WHERE r.position = journal.position) AS retracted_ns
        """

    /// A journal row selected with ``journalColumns``.
    static func journaledEvent(_ row: Row, _ ids: StoreIds) throws -> JournaledEvent {
        let position: Int64 = row[0]
        let idBytes: Data = row[1]
        guard let uuid = uuid(fromStored: idBytes) else { throw StoreError("journal position \(position): event id is not 16 bytes") }
        let text: String? = row[2]
        let topicId: Int64 = row[3]
        let sourceId: Int64 = row[6]
        guard let topic = ids.topicName(topicId), let source = ids.sourceURN(sourceId) else {
            throw StoreError("journal position \(position): unknown topic or source id")
        }
        let headerBytes: Data = row[12]
        let headers: [MessageHeader]
        do {
            headers = try HeaderCoding.decode([UInt8](headerBytes))
        } catch {
            throw StoreError("journal position \(position): stored headers are not readable: \(error)")
        }
        let timeNs: Int64 = row[9]
        let recordedNs: Int64 = row[10]
        guard let time = Timestamp(nanosecondsSinceEpoch: timeNs), let recorded = Timestamp(nanosecondsSinceEpoch: recordedNs) else {
            throw StoreError("journal position \(position): stored times out of range")
        }
        let eventHash: Data = row[14]
        let entryHash: Data = row[15]
        guard let eh = Hash256(bytes: eventHash), let nh = Hash256(bytes: entryHash) else {
            throw StoreError("journal position \(position): stored hashes are not 32 bytes")
        }
        let key: Data? = row[11]
        let value: Data = row[13]
        let verified: Int64 = row[17]
        let retractedNs: Int64? = row[18]
        return JournaledEvent(
            position: position, eventId: text ?? uuid.lowercasedString,
            coordinates: RecordCoordinates(topic: topic, partition: Int32(truncatingIfNeeded: row[4] as Int64),
                                           offset: row[5]),
            source: source, sequence: row[7], subject: row[8], time: time, recordedAt: recorded,
            message: BinaryMessage(key: key.map { [UInt8]($0) }, headers: headers, value: [UInt8](value)),
            eventHash: eh, entryHash: nh, chainPosition: row[16], verified: verified != 0,
            retractedAt: retractedNs.flatMap(Timestamp.init(nanosecondsSinceEpoch:)))
    }

    /// The journal entry read from `coordinates`, if one was journaled.
    public func journalEntry(at coordinates: RecordCoordinates) throws -> JournaledEvent? {
        try pool.read { db in
            let ids = try StoreIds(db)
            guard let topicId = ids.topicId(coordinates.topic) else { return nil }
            return try Row.fetchOne(db, sql: "SELECT \(Self.journalColumns) FROM journal WHERE topic_id = ? AND partition = ? AND \"offset\" = ?",
                                    arguments: [topicId, Int64(coordinates.partition), coordinates.offset])
                .map { try Self.journaledEvent($0, ids) }
        }
    }

    /// The record kept aside at `coordinates` because its event id is journaled with other
    /// content (position 0: it has no place in the journal), or nil.
    public func shadowedRecord(at coordinates: RecordCoordinates) throws -> JournaledEvent? {
        try pool.read { db in
            let ids = try StoreIds(db)
            guard let topicId = ids.topicId(coordinates.topic) else { return nil }
            return try Row.fetchOne(db, sql: """
                SELECT \(Self.shadowedColumns) FROM journal_shadowed WHERE topic_id = ? AND partition = ? AND "offset" = ?
                """, arguments: [topicId, Int64(coordinates.partition), coordinates.offset])
                .map { try Self.journaledEvent($0, ids) }
        }
    }

    /// How many records are kept aside because their event id is journaled with other content.
    public func shadowedCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal_shadowed") ?? 0 }
    }

    /// The columns of `journal_shadowed` in the order of ``journalColumns`` (position 0, a zero
    /// entry hash, not retracted), for ``journaledEvent(_:_:)``.
    static let shadowedColumns = """
        0, event_id, id_text, topic_id, partition, "offset", source_id, sequence, subject, time_ns, recorded_ns,
        key, headers, value, event_hash, zeroblob(32), chain_position, verified, NULL
        """

    /// The journal chain's head: the position and entry hash of the last entry.
    public func journalHead() throws -> JournalWriter {
        try pool.read { db in try Self.journalHead(db) }
    }

    static func journalHead(_ db: Database) throws -> JournalWriter {
        guard let row = try Row.fetchOne(db, sql: "SELECT position, entry_hash FROM journal ORDER BY position DESC LIMIT 1") else {
            return JournalWriter()
        }
        let position: Int64 = row["position"]
        let bytes: Data = row["entry_hash"]
        guard let head = Hash256(bytes: bytes) else {
            throw StoreError("journal position \(position) has no valid entry hash: the journal chain cannot continue")
        }
        return JournalWriter(head: head, position: position)
    }

    // MARK: consumption

    /// The stored next offset of every partition the projector has read.
    public func offsets() throws -> [StoredOffset] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM consumer_offsets ORDER BY topic, partition")
                .map { StoredOffset(topic: $0["topic"], partition: Int32($0["partition"] as Int64), nextOffset: $0["next_offset"]) }
        }
    }

    /// Dead-letter log, oldest first.
    public func deadLetters() throws -> [DeadLetterEntry] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, \"offset\", reason FROM dead_letters ORDER BY id")
                .map { DeadLetterEntry(topic: $0["topic"], partition: Int32($0["partition"] as Int64),
                                       offset: $0["offset"], reason: $0["reason"]) }
        }
    }

    /// Every range of records the projector could not read, oldest first, recovered or not.
    public func unreadRanges() throws -> [UnreadRange] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM unread_ranges ORDER BY id").map { row in
                let detected: String = row["detected_at"]
                guard let instant = Timestamp(rfc3339: detected) else {
                    throw StoreError("unread range \(row["id"] as Int64): detection time '\(detected.prefix(40))' is not an instant")
                }
                let recoveredText: String? = row["recovered_at"]
                var recovered: Timestamp?
                if let recoveredText {
                    guard let at = Timestamp(rfc3339: recoveredText) else {
                        throw StoreError("unread range \(row["id"] as Int64): recovery time '\(recoveredText.prefix(40))' is not an instant")
                    }
                    recovered = at
                }
                return UnreadRange(topic: row["topic"], partition: Int32(truncatingIfNeeded: row["partition"] as Int64),
                                   from: row["from_offset"], until: row["until_offset"], detectedAt: instant, recoveredAt: recovered)
            }
        }
    }
}

extension ProjectorStore {
    /// Every subject's leaf hash in the view's digest tree, by subject key.
    public func viewLeaves() throws -> [String: Hash256] {
        try pool.read { db in
            var out: [String: Hash256] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, leaf FROM view_leaf") {
                let data: Data = row["leaf"]
                if let leaf = Hash256(bytes: data) { out[row["key"]] = leaf }
            }
            return out
        }
    }

    /// Every subject's digest leaf and the view digest as the view is now, in one read: what
    /// ``viewLeaves()`` and ``storedViewDigest()`` hold, with the leaves of subjects changed since
    /// the projector last computed its digest computed here (nothing is written).
    public func currentViewDigest(rules: ProjectionRules) throws -> (leaves: [String: Hash256], digest: Hash256) {
        try pool.read { db in
            (try ViewTables.currentLeaves(db, rules: rules), try ViewTables.currentRoot(db, rules: rules))
        }
    }

    /// The view digest stored with the last batch (the empty view's root when nothing was applied).
    public func storedViewDigest() throws -> Hash256 {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'view_digest'").flatMap(Hash256.init(hex:))
                ?? ViewTree.emptyRoot
        }
    }

    /// The hash of every journaled event still in the view, by event id (lower-case text).
    public func journalEventHashes() throws -> [String: Hash256] {
        try pool.read { db in
            var out: [String: Hash256] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT event_id, event_hash FROM journal WHERE retracted IS NULL") {
                let id: Data = row["event_id"]
                let hash: Data = row["event_hash"]
                if let uuid = uuid(fromStored: id), let h = Hash256(bytes: hash) { out[uuid.lowercasedString] = h }
            }
            return out
        }
    }

    /// How many journal entries still in the view each event id has, by lowercase UUID text; an
    /// id the projector applied twice counts 2 (a retracted entry does not count).
    public func journalIdCounts() throws -> [String: Int] {
        try pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT event_id, COUNT(*) FROM journal WHERE retracted IS NULL GROUP BY event_id") {
                let id: Data = row[0]
                guard let uuid = uuid(fromStored: id) else {
                    throw StoreError("a journal entry has an event id of \(id.count) bytes, not a UUID")
                }
                out[uuid.lowercasedString] = row[1]
            }
            return out
        }
    }

    /// Numbers of cases and contracts in the view.
    public func subjectCounts() throws -> (cases: Int, contracts: Int) {
        try pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM view_case") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM view_contract") ?? 0)
        }
    }
}
