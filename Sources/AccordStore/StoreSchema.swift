import AccordEvents
import AccordProjection
import Foundation
import GRDB

/// The projector store's schema and its versioned migrations.
///
/// - `journal`: the append-only, hash-chained journal of applied events, each record kept byte
///   for byte (headers in `HeaderCoding`'s compact form), with its coordinates and hashes.
/// - `view_*`: the view, a cache of the journal that can always be rebuilt from it: per-subject
///   states (`view_state`), the flag index of cases and contracts (`view_flag`, `view_flag_count`;
///   sequence-gap flags are derived from the sources' states when read), case summaries and
///   area counters (`view_case`, `view_area_count`), referral rows (`view_referral`), contracts
///   by area (`view_contract`), and the digest tree's leaves and buckets (`view_leaf`, `view_bucket`).
/// - `journal_unverified`: the coordinates and positions of journal entries not yet covered by a
///   verified checkpoint of their chain (every other entry is verified, unless retracted).
/// - `journal_retracted`: journal entries taken back out of the view (orphans: forged or wrongly
///   attributed), with when and why; the view, rebuilds and replays leave them out. An event id is
///   unique among the entries not retracted.
/// - `journal_shadowed`: records whose event id is journaled with other content (one of the two
///   is forged); the record waits here and is journaled and applied if the entry is retracted.
/// - `held_records`: records of chains with a gap, kept as read until the missing events are
///   fetched from their source and they can be checked and applied.
/// - integrity and consumption: chain states and checkpoints, journal checkpoints, consumer
///   offsets, dead letters and unread ranges.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE journal (position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
                  partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, source TEXT NOT NULL, sequence INTEGER NOT NULL,
                  type TEXT NOT NULL, subject TEXT NOT NULL, time TEXT NOT NULL, recorded_at TEXT NOT NULL, key BLOB,
                  headers TEXT NOT NULL, value BLOB NOT NULL);
                CREATE TABLE case_view (case_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                CREATE TABLE contract_view (contract_id TEXT PRIMARY KEY, area TEXT, document BLOB NOT NULL);
                CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
                  partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, reason TEXT NOT NULL);
                CREATE TABLE consumer_offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL,
                  next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition));
                """)
        }
        migrator.registerMigration("v2-integrity") { db in
            try db.execute(sql: """
                ALTER TABLE journal ADD COLUMN event_hash TEXT;
                ALTER TABLE journal ADD COLUMN entry_hash TEXT;
                ALTER TABLE journal ADD COLUMN chain_position INTEGER;
                ALTER TABLE journal ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE chain_checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,
                  topic TEXT NOT NULL, partition INTEGER NOT NULL, count INTEGER NOT NULL, head TEXT NOT NULL,
                  last_sequence INTEGER NOT NULL, issued_at TEXT NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL,
                  "offset" INTEGER NOT NULL, body BLOB NOT NULL);
                CREATE TABLE journal_checkpoints (id INTEGER PRIMARY KEY AUTOINCREMENT, position INTEGER NOT NULL,
                  entry_hash TEXT NOT NULL, view_digest TEXT NOT NULL, issued_at TEXT NOT NULL, signer TEXT NOT NULL,
                  key_id TEXT NOT NULL, signature TEXT NOT NULL);
                CREATE TABLE chain_states (source TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                  state TEXT NOT NULL, PRIMARY KEY (source, topic, partition));
                """)
        }
        migrator.registerMigration("v3-view-at-scale") { db in
            try db.execute(sql: """
                CREATE TABLE journal_topics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                CREATE TABLE journal_sources (id INTEGER PRIMARY KEY, urn TEXT NOT NULL UNIQUE);
                ALTER TABLE journal RENAME TO journal_v2;
                CREATE TABLE journal (position INTEGER PRIMARY KEY, event_id BLOB NOT NULL, id_text TEXT,
                  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
                  source_id INTEGER NOT NULL, sequence INTEGER NOT NULL, subject TEXT NOT NULL, time_ns INTEGER NOT NULL,
                  recorded_ns INTEGER NOT NULL, key BLOB, headers BLOB NOT NULL, value BLOB NOT NULL,
                  event_hash BLOB NOT NULL, entry_hash BLOB NOT NULL, chain_position INTEGER,
                  verified INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE view_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE view_state (kind INTEGER NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL,
                  PRIMARY KEY (kind, id)) WITHOUT ROWID;
                CREATE TABLE view_fact (case_id TEXT NOT NULL, event_id BLOB NOT NULL, fact BLOB NOT NULL,
                  PRIMARY KEY (case_id, event_id)) WITHOUT ROWID;
                CREATE TABLE view_dirty (key TEXT PRIMARY KEY) WITHOUT ROWID;
                CREATE TABLE view_leaf (key TEXT PRIMARY KEY, bucket INTEGER NOT NULL, leaf BLOB NOT NULL) WITHOUT ROWID;
                CREATE INDEX view_leaf_bucket ON view_leaf (bucket);
                CREATE TABLE view_bucket (bucket INTEGER PRIMARY KEY, hash BLOB NOT NULL);
                CREATE TABLE view_referral (contract_id TEXT NOT NULL, case_id TEXT NOT NULL, referral_id TEXT NOT NULL,
                  row BLOB NOT NULL, PRIMARY KEY (contract_id, case_id, referral_id)) WITHOUT ROWID;
                CREATE TABLE view_case (case_id TEXT PRIMARY KEY, area TEXT, open INTEGER NOT NULL, risk TEXT,
                  order_type TEXT, allocated INTEGER NOT NULL, reoffences INTEGER NOT NULL, office TEXT) WITHOUT ROWID;
                CREATE INDEX view_case_area ON view_case (area, case_id);
                CREATE INDEX view_case_unallocated ON view_case (area, case_id) WHERE open = 1 AND allocated = 0;
                CREATE TABLE view_area_count (area TEXT NOT NULL, metric TEXT NOT NULL, key TEXT NOT NULL,
                  n INTEGER NOT NULL, PRIMARY KEY (area, metric, key)) WITHOUT ROWID;
                CREATE TABLE view_contract (contract_id TEXT PRIMARY KEY, area TEXT, provider_id TEXT,
                  intervention_type TEXT, ended_ns INTEGER) WITHOUT ROWID;
                CREATE INDEX view_contract_area ON view_contract (area, contract_id);
                CREATE TABLE view_flag (id TEXT PRIMARY KEY, rule TEXT NOT NULL, subject TEXT NOT NULL,
                  since_ns INTEGER NOT NULL, opens_ns INTEGER NOT NULL, resolved_ns INTEGER, accountable TEXT NOT NULL,
                  kind TEXT NOT NULL, area TEXT NOT NULL, record BLOB NOT NULL) WITHOUT ROWID;
                CREATE INDEX view_flag_order ON view_flag (since_ns, subject, rule, id);
                CREATE INDEX view_flag_subject ON view_flag (subject);
                CREATE INDEX view_flag_open ON view_flag (since_ns, subject, rule, id) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_open_area ON view_flag (area, since_ns, subject, rule, id) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_open_accountable ON view_flag (accountable, since_ns, subject, rule, id) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_open_kind ON view_flag (kind, since_ns, subject, rule, id) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_open_rule ON view_flag (rule, since_ns, subject, rule, id) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_pending ON view_flag (opens_ns, area, rule, accountable, kind) WHERE resolved_ns IS NULL;
                CREATE INDEX view_flag_resolved ON view_flag (resolved_ns, area, rule, accountable, kind) WHERE resolved_ns IS NOT NULL;
                CREATE TABLE view_flag_count (area TEXT NOT NULL, rule TEXT NOT NULL, accountable TEXT NOT NULL,
                  kind TEXT NOT NULL, n_open INTEGER NOT NULL, n_all INTEGER NOT NULL,
                  PRIMARY KEY (area, rule, accountable)) WITHOUT ROWID;
                CREATE TABLE unread_ranges (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
                  partition INTEGER NOT NULL, from_offset INTEGER NOT NULL, until_offset INTEGER NOT NULL,
                  detected_at TEXT NOT NULL);
                DROP TABLE case_view;
                DROP TABLE contract_view;
                """)
            try migrateJournal(db)
            try db.execute(sql: """
                DROP TABLE journal_v2;
                CREATE UNIQUE INDEX journal_event ON journal (event_id);
                CREATE INDEX journal_coordinates ON journal (topic_id, partition, "offset");
                CREATE INDEX journal_source ON journal (source_id, sequence);
                CREATE INDEX journal_time ON journal (time_ns);
                """)
            try db.execute(sql: "INSERT INTO view_meta (key, value) VALUES ('rebuild', 'journal')")
        }
        migrator.registerMigration("v4-chain-links") { db in
            // A chain's unverified links, one row each, so a batch writes only the links it added
            // instead of re-encoding every link since the chain's last checkpoint.
            try db.execute(sql: """
                CREATE TABLE chain_links (source TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
                  ord INTEGER NOT NULL, position INTEGER NOT NULL, hash BLOB NOT NULL, prev_hash BLOB NOT NULL,
                  sequence INTEGER NOT NULL, "offset" INTEGER NOT NULL, forked INTEGER NOT NULL,
                  PRIMARY KEY (source, topic, partition, ord)) WITHOUT ROWID;
                """)
            try ChainLinkRows.moveLinksOutOfStates(db)
        }
        migrator.registerMigration("v5-derived-gap-flags") { db in
            // Sequence-gap flags are derived from the sources' stored runs when read; rows of
            // them written by earlier projectors would be read twice.
            try db.execute(sql: """
                DELETE FROM view_flag WHERE rule = 'sequence-gap';
                DELETE FROM view_flag_count WHERE rule = 'sequence-gap';
                """)
        }
        migrator.registerMigration("v6-unverified-entries") { db in
            // Entries awaiting their chain's checkpoint, one small row each, deleted when verified:
            // marking a journal row verified in place rewrote the whole row (record included).
            try db.execute(sql: """
                CREATE TABLE journal_unverified (topic_id INTEGER NOT NULL, partition INTEGER NOT NULL,
                  "offset" INTEGER NOT NULL, position INTEGER NOT NULL,
                  PRIMARY KEY (topic_id, partition, "offset", position)) WITHOUT ROWID;
                INSERT INTO journal_unverified (topic_id, partition, "offset", position)
                  SELECT topic_id, partition, "offset", position FROM journal WHERE verified = 0;
                ALTER TABLE journal DROP COLUMN verified;
                """)
        }
        migrator.registerMigration("v7-fact-log") { db in
            // Facts in the order they are written, found by a small (case, event) index: clustered
            // by case, every batch rewrote nearly every page of the table, a cost that grew with history.
            try db.execute(sql: """
                CREATE TABLE view_fact_log (seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, event_id BLOB NOT NULL,
                  fact BLOB NOT NULL);
                INSERT INTO view_fact_log (case_id, event_id, fact) SELECT case_id, event_id, fact FROM view_fact;
                DROP TABLE view_fact;
                ALTER TABLE view_fact_log RENAME TO view_fact;
                CREATE UNIQUE INDEX view_fact_case ON view_fact (case_id, event_id);
                """)
        }
        migrator.registerMigration("v8-retracted-entries") { db in
            // Journal entries taken back out of the view (orphans of a verified checkpoint): the
            // entry stays in the hash-chained journal, this row says when and why it left the view,
            // and after which journal position (where a replay of the journal takes it out again).
            try db.execute(sql: """
                CREATE TABLE journal_retracted (position INTEGER PRIMARY KEY, after_position INTEGER NOT NULL,
                  retracted_ns INTEGER NOT NULL, reason TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v9-held-records") { db in
            // Records of a chain with a gap, kept as read until the missing events are fetched from
            // the chain's source (the consumer offsets move past them; these rows keep them).
            try db.execute(sql: """
                CREATE TABLE held_records (topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
                  source TEXT NOT NULL, key BLOB, headers BLOB NOT NULL, value BLOB NOT NULL, timestamp_ms INTEGER,
                  held_ns INTEGER NOT NULL, PRIMARY KEY (topic, partition, "offset")) WITHOUT ROWID;
                CREATE INDEX held_records_chain ON held_records (source, topic, partition, "offset");
                ALTER TABLE unread_ranges ADD COLUMN recovered_at TEXT;
                """)
        }
        migrator.registerMigration("v10-shadowed-records") { db in
            // An event id is unique among the entries still in the view only: once a forgery that
            // took a genuine event's id is retracted, the genuine record can be journaled in its
            // turn. `journal.retracted` mirrors `journal_retracted` so the unique index can say so.
            // A record whose id is already journaled with other content waits in
            // `journal_shadowed` (the journal's columns, without a position) until one of the two
            // is retracted.
            try db.execute(sql: """
                ALTER TABLE journal ADD COLUMN retracted INTEGER;
                UPDATE journal SET retracted = 1 WHERE position IN (SELECT position FROM journal_retracted);
                DROP INDEX journal_event;
                CREATE UNIQUE INDEX journal_event ON journal (event_id) WHERE retracted IS NULL;
                CREATE TABLE journal_shadowed (topic_id INTEGER NOT NULL, partition INTEGER NOT NULL,
                  "offset" INTEGER NOT NULL, event_id BLOB NOT NULL, id_text TEXT, source_id INTEGER NOT NULL,
                  sequence INTEGER NOT NULL, subject TEXT NOT NULL, time_ns INTEGER NOT NULL, recorded_ns INTEGER NOT NULL,
                  key BLOB, headers BLOB NOT NULL, value BLOB NOT NULL, event_hash BLOB NOT NULL, chain_position INTEGER,
                  verified INTEGER NOT NULL,
                  PRIMARY KEY (topic_id, partition, "offset")) WITHOUT ROWID;
                CREATE INDEX journal_shadowed_event ON journal_shadowed (event_id);
                """)
        }
        return migrator
    }

    /// Moves the entries of a version-2 journal (headers as JSON, hashes as hex) into the compact
    /// journal, keeping every byte of every record and every hash. The view is rebuilt from it.
    private static func migrateJournal(_ db: Database) throws {
        let decoder = JSONDecoder()
        struct OldHeader: Decodable {
            var name: String
            var value: [UInt8]
        }
        var ids = StoreIds()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT position, event_id, topic, partition, "offset", source, sequence, subject, time, recorded_at, key,
                   headers, value, event_hash, entry_hash, chain_position, verified
            FROM journal_v2 ORDER BY position
            """)
        while let row = try rows.next() {
            let position: Int64 = row["position"]
            let text: String = row["event_id"]
            guard let uuid = UUID(uuidString: text) else {
                throw StoreError("journal position \(position): event id '\(text.prefix(40))' is not a UUID; cannot migrate")
            }
            let headersText: String = row["headers"]
            let headers: [OldHeader]
            do {
                headers = try decoder.decode([OldHeader].self, from: Data(headersText.utf8))
            } catch {
                throw StoreError("journal position \(position): stored headers are not readable; cannot migrate")
            }
            let eventHashText: String? = row["event_hash"]
            let entryHashText: String? = row["entry_hash"]
            guard let eventHash = eventHashText.flatMap(Hash256Text.parse), let entryHash = entryHashText.flatMap(Hash256Text.parse) else {
                throw StoreError("journal position \(position) has no valid hashes; cannot migrate")
            }
            let timeText: String = row["time"]
            let recordedText: String = row["recorded_at"]
            guard let time = Timestamp(rfc3339: timeText), let recorded = Timestamp(rfc3339: recordedText) else {
                throw StoreError("journal position \(position): unreadable time; cannot migrate")
            }
            let canonical = uuid.lowercasedString
            try db.execute(sql: """
                INSERT INTO journal (position, event_id, id_text, topic_id, partition, "offset", source_id, sequence, subject,
                  time_ns, recorded_ns, key, headers, value, event_hash, entry_hash, chain_position, verified)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    position, Data(uuidBytes(uuid)), text == canonical ? nil : text,
                    try ids.topic(row["topic"], db), row["partition"] as Int64, row["offset"] as Int64,
                    try ids.source(row["source"], db), row["sequence"] as Int64, row["subject"] as String,
                    time.nanosecondsSinceEpoch, recorded.nanosecondsSinceEpoch, row["key"] as Data?,
                    Data(HeaderCoding.encode(headers.map { MessageHeader(name: $0.name, value: $0.value) })),
                    row["value"] as Data, Data(eventHash), Data(entryHash), row["chain_position"] as Int64?,
                    row["verified"] as Int64,
                ])
        }
    }
}

/// Hash text helpers for migrations (AccordIntegrity's `Hash256` is used everywhere else).
enum Hash256Text {
    static func parse(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            default: nil
            }
        }
        var i = 0
        while i < 64 {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// The 16 bytes of a UUID.
func uuidBytes(_ id: UUID) -> [UInt8] { withUnsafeBytes(of: id.uuid) { Array($0) } }

/// The UUID of 16 stored bytes (nil for any other length).
func uuid(fromStored data: Data) -> UUID? {
    let b = [UInt8](data)
    guard b.count == 16 else { return nil }
    return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
}

/// Small-integer ids of topics and sources in the journal, assigned on first use.
struct StoreIds: Sendable {
    private var topics: [String: Int64] = [:]
    private var sources: [String: Int64] = [:]
    private var topicNames: [Int64: String] = [:]
    private var sourceURNs: [Int64: String] = [:]

    init() {}

    /// Loads every id.
    init(_ db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM journal_topics") {
            topics[row["name"]] = row["id"]
            topicNames[row["id"]] = row["name"]
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, urn FROM journal_sources") {
            sources[row["urn"]] = row["id"]
            sourceURNs[row["id"]] = row["urn"]
        }
    }

    mutating func topic(_ name: String, _ db: Database) throws -> Int64 {
        if let id = topics[name] { return id }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM journal_topics WHERE name = ?", arguments: [name]) {
            topics[name] = id
            topicNames[id] = name
            return id
        }
        try db.execute(sql: "INSERT INTO journal_topics (name) VALUES (?)", arguments: [name])
        let id = db.lastInsertedRowID
        topics[name] = id
        topicNames[id] = name
        return id
    }

    mutating func source(_ urn: String, _ db: Database) throws -> Int64 {
        if let id = sources[urn] { return id }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM journal_sources WHERE urn = ?", arguments: [urn]) {
            sources[urn] = id
            sourceURNs[id] = urn
            return id
        }
        try db.execute(sql: "INSERT INTO journal_sources (urn) VALUES (?)", arguments: [urn])
        let id = db.lastInsertedRowID
        sources[urn] = id
        sourceURNs[id] = urn
        return id
    }

    func topicName(_ id: Int64) -> String? { topicNames[id] }
    func sourceURN(_ id: Int64) -> String? { sourceURNs[id] }
    func topicId(_ name: String) -> Int64? { topics[name] }
    func sourceId(_ urn: String) -> Int64? { sources[urn] }
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
