import AccordEvents
import AccordIntegrity
import Foundation
import GRDB

/// Counts of the store's integrity records.
public struct IntegrityCounts: Sendable, Hashable, Codable {
    /// Journaled events covered by a verified agency checkpoint.
    public var verified: Int
    /// Journaled events not (yet) covered by one.
    public var provisional: Int
    /// Journaled events taken back out of the view: their chain's signed checkpoint does not
    /// take them (forged or wrongly attributed).
    public var retracted: Int
    /// Verified agency checkpoints stored.
    public var chainCheckpoints: Int
    /// Signed journal checkpoints stored.
    public var journalCheckpoints: Int

    /// Creates counts.
    public init(verified: Int, provisional: Int, retracted: Int = 0, chainCheckpoints: Int, journalCheckpoints: Int) {
        self.verified = verified
        self.provisional = provisional
        self.retracted = retracted
        self.chainCheckpoints = chainCheckpoints
        self.journalCheckpoints = journalCheckpoints
    }
}

/// A retraction as the store keeps it.
public struct StoredRetraction: Sendable, Hashable {
    /// The journal position of the retracted entry.
    public var position: Int64
    /// The journal position after which it was retracted (the head when it was made).
    public var afterPosition: Int64
    /// The retracted event's id.
    public var eventId: String
    /// Where the record was read, why and when it was retracted.
    public var retraction: Retraction
}

extension ProjectorStore {
    /// The stored chain verifier states, to `ChainVerifier.restore` on start.
    public func chainStates() throws -> [ChainState] {
        try pool.read { db in try ChainLinkRows.readAll(db) }
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

    static func journalCheckpoint(_ row: Row) throws -> JournalCheckpoint {
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
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            let provisional = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal_unverified") ?? 0
            let retracted = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal_retracted") ?? 0
            return IntegrityCounts(
                verified: total - provisional - retracted, provisional: provisional, retracted: retracted,
                chainCheckpoints: try Int.fetchOne(db, sql: "SELECT count(*) FROM chain_checkpoints") ?? 0,
                journalCheckpoints: try Int.fetchOne(db, sql: "SELECT count(*) FROM journal_checkpoints") ?? 0)
        }
    }

    /// Every retraction, in the order they were made: the retracted entry's coordinates, why, when,
    /// and the journal position after which it was made.
    public func retractions() throws -> [StoredRetraction] {
        try pool.read { db in
            let ids = try StoreIds(db)
            return try Row.fetchAll(db, sql: """
                SELECT r.position, r.after_position, r.retracted_ns, r.reason, j.topic_id, j.partition, j."offset", j.event_id, j.id_text
                FROM journal_retracted r JOIN journal j ON j.position = r.position ORDER BY r.after_position, r.position
                """).map { row in
                let position: Int64 = row[0]
                guard let topic = ids.topicName(row[4]), let at = Timestamp(nanosecondsSinceEpoch: row[2]) else {
                    throw StoreError("retraction of journal position \(position) is not readable")
                }
                let idText: String? = row[8]
                let idBytes: Data = row[7]
                return StoredRetraction(
                    position: position, afterPosition: row[1], eventId: idText ?? uuidText(idBytes),
                    retraction: Retraction(coordinates: RecordCoordinates(topic: topic, partition: Int32(truncatingIfNeeded: row[5] as Int64),
                                                                          offset: row[6]),
                                           reason: row[3], at: at))
            }
        }
    }

    /// Which of the given events are journaled but not yet covered by a verified checkpoint.
    public func provisional(eventIds: [String]) throws -> Set<String> {
        guard !eventIds.isEmpty else { return [] }
        return try pool.read { db in try Self.provisional(eventIds: eventIds, in: db) }
    }

    /// Which of the given events are journaled but not yet covered by a verified checkpoint, read
    /// on `db` (a connection the caller already holds, e.g. inside `asyncRead`).
    public static func provisional(eventIds: [String], in db: Database) throws -> Set<String> {
        var out: Set<String> = []
        let statement = try db.cachedStatement(sql: """
            SELECT 1 FROM journal j JOIN journal_unverified u ON u.topic_id = j.topic_id AND u.partition = j.partition
              AND u."offset" = j."offset" AND u.position = j.position
            WHERE j.event_id = ?
            """)
        for id in eventIds {
            guard let uuid = UUID(uuidString: id) else { continue }
            if try Int64.fetchOne(statement, arguments: [Data(uuidBytes(uuid))]) != nil { out.insert(id) }
        }
        return out
    }
}
