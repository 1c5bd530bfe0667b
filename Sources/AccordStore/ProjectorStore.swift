import Foundation
import GRDB

/// The projector's SQLite store (WAL mode): the append-only journal of applied events,
/// the view tables, the dead-letter log and the consumer offsets. A batch writes all of
/// them in one transaction, so the view never runs ahead of or behind its offsets.
public final class ProjectorStore: Sendable {
    private let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "accord.projector.store"
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "journal") { t in
                t.primaryKey("position", .integer)
                t.column("event_id", .text).notNull().unique()
                t.column("topic", .text).notNull()
                t.column("partition", .integer).notNull()
                t.column("offset", .integer).notNull()
                t.column("source", .text).notNull()
                t.column("sequence", .integer).notNull()
                t.column("type", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("time", .text).notNull()
                t.column("recorded_at", .text).notNull()
                t.column("key", .blob)
                t.column("headers", .text).notNull()
                t.column("value", .blob).notNull()
            }
            try db.create(index: "journal_subject", on: "journal", columns: ["subject", "time"])
            try db.create(index: "journal_source_sequence", on: "journal", columns: ["source", "sequence"])
            try db.create(table: "case_view") { t in
                t.primaryKey("case_id", .text)
                t.column("area", .text)
                t.column("document", .blob).notNull()
            }
            try db.create(index: "case_view_area", on: "case_view", columns: ["area"])
            try db.create(table: "contract_view") { t in
                t.primaryKey("contract_id", .text)
                t.column("area", .text)
                t.column("document", .blob).notNull()
            }
            try db.create(table: "dead_letters") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("topic", .text).notNull()
                t.column("partition", .integer).notNull()
                t.column("offset", .integer).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(table: "consumer_offsets") { t in
                t.column("topic", .text).notNull()
                t.column("partition", .integer).notNull()
                t.column("next_offset", .integer).notNull()
                t.primaryKey(["topic", "partition"])
            }
        }
        return migrator
    }

    /// Writes `batch` in one transaction and returns its entries with their journal positions.
    /// Entries whose event id is already journaled are skipped (and not returned).
    @discardableResult
    public func commit(_ batch: StoreBatch) throws -> [JournalEntry] {
        try pool.write { db in
            var appended: [JournalEntry] = []
            let encoder = JSONEncoder()
            for var entry in batch.entries {
                let headers = String(decoding: try encoder.encode(entry.headers), as: UTF8.self)
                try db.execute(sql: """
                    INSERT OR IGNORE INTO journal
                      (event_id, topic, partition, "offset", source, sequence, type, subject, time, recorded_at, key, headers, value)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [entry.eventId, entry.topic, Int64(entry.partition), entry.offset, entry.source,
                                     entry.sequence, entry.type, entry.subject, entry.time, entry.recordedAt,
                                     entry.key.map { Data($0) }, headers, Data(entry.value)])
                if db.changesCount > 0 {
                    entry.position = db.lastInsertedRowID
                    appended.append(entry)
                }
            }
            for document in batch.cases {
                try db.execute(sql: "INSERT OR REPLACE INTO case_view (case_id, area, document) VALUES (?, ?, ?)",
                               arguments: [document.id, document.area, Data(document.json)])
            }
            for document in batch.contracts {
                try db.execute(sql: "INSERT OR REPLACE INTO contract_view (contract_id, area, document) VALUES (?, ?, ?)",
                               arguments: [document.id, document.area, Data(document.json)])
            }
            for letter in batch.deadLetters {
                try db.execute(sql: "INSERT INTO dead_letters (topic, partition, \"offset\", reason) VALUES (?, ?, ?, ?)",
                               arguments: [letter.topic, Int64(letter.partition), letter.offset, letter.reason])
            }
            for offset in batch.offsets {
                try db.execute(sql: """
                    INSERT INTO consumer_offsets (topic, partition, next_offset) VALUES (?, ?, ?)
                    ON CONFLICT(topic, partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)
                    """, arguments: [offset.topic, Int64(offset.partition), offset.nextOffset])
            }
            return appended
        }
    }

    /// The stored next offset of every partition the projector has read.
    public func offsets() throws -> [StoredOffset] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM consumer_offsets ORDER BY topic, partition")
                .map { StoredOffset(topic: $0["topic"], partition: Int32($0["partition"] as Int64), nextOffset: $0["next_offset"]) }
        }
    }

    /// Calls `body` with every journal entry in position order, reading in pages.
    public func forEachJournalEntry(pageSize: Int = 5_000, _ body: (JournalEntry) throws -> Void) throws {
        var after: Int64 = 0
        let decoder = JSONDecoder()
        while true {
            let page: [JournalEntry] = try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM journal WHERE position > ? ORDER BY position LIMIT ?",
                                 arguments: [after, pageSize])
                    .map { row in
                        let headersText: String = row["headers"]
                        let keyData: Data? = row["key"]
                        let valueData: Data = row["value"]
                        return JournalEntry(
                            position: row["position"], eventId: row["event_id"], topic: row["topic"],
                            partition: Int32(row["partition"] as Int64), offset: row["offset"], source: row["source"],
                            sequence: row["sequence"], type: row["type"], subject: row["subject"], time: row["time"],
                            recordedAt: row["recorded_at"], key: keyData.map { [UInt8]($0) },
                            headers: try decoder.decode([StoredHeader].self, from: Data(headersText.utf8)),
                            value: [UInt8](valueData))
                    }
            }
            guard let last = page.last else { return }
            for entry in page { try body(entry) }
            after = last.position
        }
    }

    /// Number of journaled events.
    public func journalCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0 }
    }

    /// Dead-letter log, oldest first.
    public func deadLetters() throws -> [DeadLetterEntry] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, \"offset\", reason FROM dead_letters ORDER BY id")
                .map { DeadLetterEntry(topic: $0["topic"], partition: Int32($0["partition"] as Int64),
                                       offset: $0["offset"], reason: $0["reason"]) }
        }
    }

    /// The stored document of one case, if any.
    public func caseDocument(_ caseId: String) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT document FROM case_view WHERE case_id = ?", arguments: [caseId]).map { [UInt8]($0) }
        }
    }

    /// Number of rows in the case view table.
    public func caseCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM case_view") ?? 0 }
    }
}

extension ProjectorStore {
    /// `commit(_:)` on a writer thread, without blocking the caller's executor.
    @discardableResult
    public func commitAsync(_ batch: StoreBatch) async throws -> [JournalEntry] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.commit(batch) })
            }
        }
    }
}
