import AccordEvents
import AccordIntegrity
import Foundation
import GRDB

/// The projector's SQLite store (WAL mode): the append-only, hash-chained journal of applied
/// events, the view tables, the dead-letter log, the consumer offsets and the integrity
/// records (verified agency checkpoints, signed journal checkpoints, chain verifier state).
/// A batch writes all of them in one transaction, so the view never runs ahead of or behind
/// its offsets, and the verifier's state never drifts from the journal.
public final class ProjectorStore: Sendable {
    private let pool: DatabasePool

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "accord.projector.store"
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// Opens an existing store read-only, without migrating it: for audits, which must never
    /// change what they check. Throws when the file does not exist or predates the integrity columns.
    public init(readOnlyPath path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no store at \(path)") }
        var configuration = Configuration()
        configuration.label = "accord.projector.store.readonly"
        configuration.readonly = true
        pool = try DatabasePool(path: path, configuration: configuration)
        let migrated = try pool.read { db in try Self.migrator.hasCompletedMigrations(db) }
        guard migrated else {
            throw StoreError("\(path) is not an up-to-date projector store (no journal chain); open it with the projector first")
        }
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
        migrator.registerMigration("v2-integrity") { db in
            try db.alter(table: "journal") { t in
                t.add(column: "event_hash", .text)
                t.add(column: "entry_hash", .text)
                t.add(column: "chain_position", .integer)
                t.add(column: "verified", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "journal_coordinates", on: "journal", columns: ["topic", "partition", "offset"])
            try db.create(index: "journal_verified", on: "journal", columns: ["verified"])
            try db.create(table: "chain_checkpoints") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("source", .text).notNull()
                t.column("topic", .text).notNull()
                t.column("partition", .integer).notNull()
                t.column("count", .integer).notNull()
                t.column("head", .text).notNull()
                t.column("last_sequence", .integer).notNull()
                t.column("issued_at", .text).notNull()
                t.column("key_id", .text).notNull()
                t.column("signature", .text).notNull()
                t.column("offset", .integer).notNull()
                t.column("body", .blob).notNull()
            }
            try db.create(table: "journal_checkpoints") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("position", .integer).notNull()
                t.column("entry_hash", .text).notNull()
                t.column("view_digest", .text).notNull()
                t.column("issued_at", .text).notNull()
                t.column("signer", .text).notNull()
                t.column("key_id", .text).notNull()
                t.column("signature", .text).notNull()
            }
            try db.create(table: "chain_states") { t in
                t.column("source", .text).notNull()
                t.column("topic", .text).notNull()
                t.column("partition", .integer).notNull()
                t.column("state", .text).notNull()
                t.primaryKey(["source", "topic", "partition"])
            }
            try backfillJournalChain(db)
        }
        return migrator
    }

    /// Chains the entries of a journal written before the integrity columns existed, in position order.
    private static func backfillJournalChain(_ db: Database) throws {
        var writer = JournalWriter()
        let decoder = JSONDecoder()
        let rows = try Row.fetchCursor(db, sql: "SELECT position, event_id, topic, partition, \"offset\", headers, value FROM journal ORDER BY position")
        var updates: [(Int64, String, String)] = []
        while let row = try rows.next() {
            let position: Int64 = row["position"]
            let headersText: String = row["headers"]
            let value: Data = row["value"]
            let headers = ((try? decoder.decode([StoredHeader].self, from: Data(headersText.utf8))) ?? [])
                .map { MessageHeader(name: $0.name, value: $0.value) }
            let eventHash = (try? EventHashing.hash(headers: headers, value: [UInt8](value)))?.hash ?? .zero
            let entry: AccordIntegrity.JournalEntry
            do {
                entry = try writer.append(eventId: row["event_id"], topic: row["topic"],
                                          partition: Int32(row["partition"] as Int64), offset: row["offset"],
                                          eventHash: eventHash)
            } catch {
                throw StoreError("journal position \(position) cannot be chained: \(error)")
            }
            guard entry.position == position else {
                throw StoreError("journal positions are not contiguous at \(position): cannot chain the existing journal")
            }
            updates.append((position, eventHash.hex, entry.entryHash.hex))
        }
        for (position, eventHash, entryHash) in updates {
            try db.execute(sql: "UPDATE journal SET event_hash = ?, entry_hash = ? WHERE position = ?",
                           arguments: [eventHash, entryHash, position])
        }
    }

    /// Writes `batch` in one transaction and returns its entries with their journal positions.
    /// Entries whose event id is already journaled are skipped (and not returned).
    @discardableResult
    public func commit(_ batch: StoreBatch) throws -> [JournalEntry] {
        try commitBatch(batch).appended
    }

    /// Writes `batch` in one transaction: journal entries (chained after the stored head, each
    /// with its event hash and entry hash; already journaled event ids are skipped), verified
    /// marks, agency checkpoints, chain verifier states, view rows, dead letters, offsets and,
    /// when requested, a signed journal checkpoint of the head the batch leaves.
    public func commitBatch(_ batch: StoreBatch) throws -> StoreCommit {
        try pool.write { db in try Self.write(batch, to: db) }
    }

    private static func write(_ batch: StoreBatch, to db: Database) throws -> StoreCommit {
        var result = StoreCommit()
        var writer = try journalWriter(db)
        let encoder = JSONEncoder()
        for var entry in batch.entries {
            if try Int64.fetchOne(db, sql: "SELECT position FROM journal WHERE event_id = ?", arguments: [entry.eventId]) != nil {
                continue
            }
            let eventHash: Hash256
            if let known = entry.eventHash {
                eventHash = known
            } else {
                do {
                    eventHash = try EventHashing.hash(headers: entry.messageHeaders, value: entry.value).hash
                } catch {
                    throw StoreError("event \(entry.eventId) at \(entry.topic)/\(entry.partition)@\(entry.offset) cannot be hashed: \(error)")
                }
            }
            let chained: AccordIntegrity.JournalEntry
            do {
                chained = try writer.append(eventId: entry.eventId, topic: entry.topic, partition: entry.partition,
                                            offset: entry.offset, eventHash: eventHash)
            } catch {
                throw StoreError("event \(entry.eventId) cannot be journaled: \(error)")
            }
            entry.position = chained.position
            entry.eventHash = eventHash
            entry.entryHash = chained.entryHash
            let headers = String(decoding: try encoder.encode(entry.headers), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO journal
                  (position, event_id, topic, partition, "offset", source, sequence, type, subject, time, recorded_at,
                   key, headers, value, event_hash, entry_hash, chain_position, verified)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.position, entry.eventId, entry.topic, Int64(entry.partition), entry.offset,
                                 entry.source, entry.sequence, entry.type, entry.subject, entry.time, entry.recordedAt,
                                 entry.key.map { Data($0) }, headers, Data(entry.value), eventHash.hex,
                                 chained.entryHash.hex, entry.chainPosition, entry.verified ? 1 : 0])
            if entry.verified { result.newlyVerified.append(entry.eventId) }
            result.appended.append(entry)
        }
        for record in batch.verifiedRecords {
            let ids = try String.fetchAll(db, sql: """
                SELECT event_id FROM journal WHERE topic = ? AND partition = ? AND "offset" = ? AND verified = 0
                """, arguments: [record.topic, Int64(record.partition), record.offset])
            guard !ids.isEmpty else { continue }
            try db.execute(sql: """
                UPDATE journal SET verified = 1 WHERE topic = ? AND partition = ? AND "offset" = ? AND verified = 0
                """, arguments: [record.topic, Int64(record.partition), record.offset])
            result.newlyVerified.append(contentsOf: ids)
        }
        for stored in batch.chainCheckpoints {
            let c = stored.checkpoint
            try db.execute(sql: """
                INSERT INTO chain_checkpoints
                  (source, topic, partition, count, head, last_sequence, issued_at, key_id, signature, "offset", body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [c.chain.source, c.chain.topic, Int64(c.chain.partition), c.count, c.head.hex,
                                 c.lastSequence, c.issuedAt.rfc3339, c.keyId, c.signature, stored.offset, Data(stored.body)])
        }
        for state in batch.chainStates {
            let json = String(decoding: try encoder.encode(state), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO chain_states (source, topic, partition, state) VALUES (?, ?, ?, ?)
                ON CONFLICT(source, topic, partition) DO UPDATE SET state = excluded.state
                """, arguments: [state.chain.source, state.chain.topic, Int64(state.chain.partition), json])
        }
        if let request = batch.journalCheckpoint {
            let checkpoint: JournalCheckpoint
            do {
                checkpoint = try writer.checkpoint(viewDigest: request.viewDigest, issuedAt: request.issuedAt, key: request.key)
            } catch {
                throw StoreError("journal checkpoint cannot be signed: \(error)")
            }
            try insert(checkpoint, into: db)
            result.journalCheckpoint = checkpoint
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
        return result
    }

    private static func insert(_ checkpoint: JournalCheckpoint, into db: Database) throws {
        try db.execute(sql: """
            INSERT INTO journal_checkpoints (position, entry_hash, view_digest, issued_at, signer, key_id, signature)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [checkpoint.position, checkpoint.entryHash.hex, checkpoint.viewDigest.hex,
                             checkpoint.issuedAt.rfc3339, checkpoint.signer, checkpoint.keyId, checkpoint.signature])
    }

    private static func journalWriter(_ db: Database) throws -> JournalWriter {
        guard let row = try Row.fetchOne(db, sql: "SELECT position, entry_hash FROM journal ORDER BY position DESC LIMIT 1") else {
            return JournalWriter()
        }
        let position: Int64 = row["position"]
        let text: String? = row["entry_hash"]
        guard let text, let head = Hash256(hex: text) else {
            throw StoreError("journal position \(position) has no valid entry hash: the journal chain cannot continue")
        }
        return JournalWriter(head: head, position: position)
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
                    .map { row in try Self.journalEntry(row, decoder: decoder) }
            }
            guard let last = page.last else { return }
            for entry in page { try body(entry) }
            after = last.position
        }
    }

    static func journalEntry(_ row: Row, decoder: JSONDecoder) throws -> JournalEntry {
        let position: Int64 = row["position"]
        let headersText: String = row["headers"]
        let keyData: Data? = row["key"]
        let valueData: Data = row["value"]
        let headers: [StoredHeader]
        do {
            headers = try decoder.decode([StoredHeader].self, from: Data(headersText.utf8))
        } catch {
            throw StoreError("journal position \(position): stored headers are not readable JSON")
        }
        let eventHash: String? = row["event_hash"]
        let entryHash: String? = row["entry_hash"]
        let verified: Int64 = row["verified"]
        return JournalEntry(
            position: position, eventId: row["event_id"], topic: row["topic"],
            partition: Int32(truncatingIfNeeded: row["partition"] as Int64), offset: row["offset"], source: row["source"],
            sequence: row["sequence"], type: row["type"], subject: row["subject"], time: row["time"],
            recordedAt: row["recorded_at"], key: keyData.map { [UInt8]($0) }, headers: headers,
            value: [UInt8](valueData), eventHash: eventHash.flatMap(Hash256.init(hex:)),
            entryHash: entryHash.flatMap(Hash256.init(hex:)), chainPosition: row["chain_position"],
            verified: verified != 0)
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

/// A store failure that is not an SQLite error: a journal that cannot be chained or read back.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Counts of the store's integrity records.
public struct IntegrityCounts: Sendable, Hashable, Codable {
    /// Journaled events covered by a verified agency checkpoint.
    public var verified: Int
    /// Journaled events not (yet) covered by one.
    public var provisional: Int
    /// Verified agency checkpoints stored.
    public var chainCheckpoints: Int
    /// Signed journal checkpoints stored.
    public var journalCheckpoints: Int

    /// Creates counts.
    public init(verified: Int, provisional: Int, chainCheckpoints: Int, journalCheckpoints: Int) {
        self.verified = verified
        self.provisional = provisional
        self.chainCheckpoints = chainCheckpoints
        self.journalCheckpoints = journalCheckpoints
    }
}

extension ProjectorStore {
    /// The journal chain's head: the position and entry hash of the last entry.
    public func journalHead() throws -> JournalWriter {
        try pool.read { db in try Self.journalWriter(db) }
    }

    /// The stored chain verifier states, to `ChainVerifier.restore` on start.
    public func chainStates() throws -> [ChainState] {
        try pool.read { db in
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: "SELECT source, topic, partition, state FROM chain_states ORDER BY source, topic, partition")
                .map { row in
                    let text: String = row["state"]
                    do {
                        return try decoder.decode(ChainState.self, from: Data(text.utf8))
                    } catch {
                        let source: String = row["source"]
                        let topic: String = row["topic"]
                        let partition: Int64 = row["partition"]
                        throw StoreError("stored chain state of \(source)@\(topic)/\(partition) is not readable: \(error)")
                    }
                }
        }
    }

    /// Every stored (verified) agency checkpoint, in the order they were verified.
    public func chainCheckpoints() throws -> [StoredChainCheckpoint] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM chain_checkpoints ORDER BY id").map { row in
                let id: Int64 = row["id"]
                let headText: String = row["head"]
                let issuedText: String = row["issued_at"]
                guard let head = Hash256(hex: headText) else {
                    throw StoreError("chain checkpoint \(id): head \"\(headText.prefix(80))\" is not a hash")
                }
                guard let issuedAt = Timestamp(rfc3339: issuedText) else {
                    throw StoreError("chain checkpoint \(id): issuedAt \"\(issuedText.prefix(40))\" is not an instant")
                }
                let body: Data = row["body"]
                do {
                    let checkpoint = try ChainCheckpoint(
                        chain: ChainID(source: row["source"], topic: row["topic"],
                                       partition: Int32(truncatingIfNeeded: row["partition"] as Int64)),
                        count: row["count"], head: head, lastSequence: row["last_sequence"], issuedAt: issuedAt,
                        keyId: row["key_id"], signature: row["signature"])
                    return StoredChainCheckpoint(checkpoint: checkpoint, offset: row["offset"], body: [UInt8](body))
                } catch {
                    throw StoreError("chain checkpoint \(id) is not valid: \(error)")
                }
            }
        }
    }

    /// Every signed journal checkpoint, in the order they were written.
    public func journalCheckpoints() throws -> [JournalCheckpoint] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM journal_checkpoints ORDER BY id").map(Self.journalCheckpoint)
        }
    }

    /// The most recent signed journal checkpoint, if any.
    public func latestJournalCheckpoint() throws -> JournalCheckpoint? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM journal_checkpoints ORDER BY id DESC LIMIT 1").map(Self.journalCheckpoint)
        }
    }

    private static func journalCheckpoint(_ row: Row) throws -> JournalCheckpoint {
        let id: Int64 = row["id"]
        let entryText: String = row["entry_hash"]
        let digestText: String = row["view_digest"]
        let issuedText: String = row["issued_at"]
        guard let entryHash = Hash256(hex: entryText), let viewDigest = Hash256(hex: digestText) else {
            throw StoreError("journal checkpoint \(id): entry_hash or view_digest is not a hash")
        }
        guard let issuedAt = Timestamp(rfc3339: issuedText) else {
            throw StoreError("journal checkpoint \(id): issuedAt \"\(issuedText.prefix(40))\" is not an instant")
        }
        return JournalCheckpoint(signer: row["signer"], position: row["position"], entryHash: entryHash,
                                 viewDigest: viewDigest, issuedAt: issuedAt, keyId: row["key_id"],
                                 signature: row["signature"])
    }

    /// Counts of verified and provisional events and of stored checkpoints.
    public func integrityCounts() throws -> IntegrityCounts {
        try pool.read { db in
            IntegrityCounts(
                verified: try Int.fetchOne(db, sql: "SELECT count(*) FROM journal WHERE verified = 1") ?? 0,
                provisional: try Int.fetchOne(db, sql: "SELECT count(*) FROM journal WHERE verified = 0") ?? 0,
                chainCheckpoints: try Int.fetchOne(db, sql: "SELECT count(*) FROM chain_checkpoints") ?? 0,
                journalCheckpoints: try Int.fetchOne(db, sql: "SELECT count(*) FROM journal_checkpoints") ?? 0)
        }
    }

    /// Event ids of journaled events not covered by a verified checkpoint.
    public func provisionalEventIds() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT event_id FROM journal WHERE verified = 0 ORDER BY position") }
    }

    /// The journal entry read from `coordinates`, if one was journaled.
    public func journalEntry(at coordinates: RecordCoordinates) throws -> JournalEntry? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM journal WHERE topic = ? AND partition = ? AND \"offset\" = ?",
                             arguments: [coordinates.topic, Int64(coordinates.partition), coordinates.offset])
                .map { try Self.journalEntry($0, decoder: JSONDecoder()) }
        }
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

    /// `commitBatch(_:)` on a writer thread, without blocking the caller's executor.
    public func commitBatchAsync(_ batch: StoreBatch) async throws -> StoreCommit {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.commitBatch(batch) })
            }
        }
    }
}
