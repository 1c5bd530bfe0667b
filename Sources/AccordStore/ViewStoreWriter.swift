import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// The single writer of a projector store: journals events, applies them through the projection
/// engine and writes journal, view, offsets and integrity records in one transaction per batch.
/// Every event reaches the engine through the writer's `EventUpcaster` (superseded event versions
/// read in the current meaning); the journal keeps each record exactly as received.
/// Holds the engine's bounded cache, the digest tree and the journal chain head; after a failed
/// transaction it drops what the transaction would have changed, so it never runs ahead of the store.
public struct ViewStoreWriter: Sendable {
    /// The store written.
    public let store: ProjectorStore
    /// The rules of the view.
    public let rules: ProjectionRules
    /// Reads superseded event versions in the current meaning before the projection sees them.
    public let upcaster: EventUpcaster
    private var engine: ProjectionEngine
    private var tree: ViewTree
    private var journal: JournalWriter
    private var ids: StoreIds
    /// What this writer stored of each chain's links (a chain not here is rewritten whole once).
    private var writtenLinks: [ChainID: StoredLinks] = [:]
    /// The latest event time in the view.
    public private(set) var latestEventTime: Timestamp?
    /// Events journaled.
    public private(set) var eventCount: Int

    /// Opens the writer of `store`: loads the digest tree, the journal head and the view's
    /// metadata. `cacheCases` bounds how many cases the engine keeps in memory; `upcaster` is
    /// applied to every event before the projection (the view records its fingerprint, and a view
    /// derived with another one is rebuilt — see `rebuildReason()`).
    public init(store: ProjectorStore, rules: ProjectionRules = .defaults, cacheCases: Int = 50_000,
                upcaster: EventUpcaster = .none) throws {
        self.store = store
        self.rules = rules
        self.upcaster = upcaster
        engine = ProjectionEngine(rules: rules, caseCapacity: cacheCases)
        let loaded = try store.pool.read { db -> (ViewTree, JournalWriter, StoreIds, Timestamp?, Int) in
            var buckets: [Int: Hash256] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT bucket, hash FROM view_bucket") {
                let data: Data = row["hash"]
                if let hash = Hash256(bytes: data) { buckets[row["bucket"]] = hash }
            }
            let latest = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'latest_event_ns'")
                .flatMap(Int64.init).flatMap(Timestamp.init(nanosecondsSinceEpoch:))
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            return (ViewTree(bucketHashes: buckets), try ProjectorStore.journalHead(db), try StoreIds(db), latest, count)
        }
        (tree, journal, ids, latestEventTime, eventCount) = loaded
    }

    /// The view's digest: the root of the Merkle tree over every subject's record, after
    /// computing the leaves of subjects changed since the last time.
    public mutating func viewDigest() throws -> Hash256 {
        let savedTree = tree
        do {
            try store.pool.write { db in try refreshDigest(db) }
        } catch {
            tree = savedTree
            throw error
        }
        return tree.root()
    }

    /// Computes the stale leaves in this transaction and records the root with the journal position it covers.
    private mutating func refreshDigest(_ db: Database) throws {
        let dirty = try ViewTables.dirtySubjects(db)
        if !dirty.isEmpty {
            let leaves = try engine.leaves(for: dirty, from: StoreFacts(db: db))
            try ViewTables.writeLeaves(leaves, db, tree: &tree)
        }
        try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('view_digest', ?), ('view_digest_position', ?)",
                       arguments: [tree.root().hex, String(journal.position)])
    }

    /// The journal chain's head.
    public var journalHead: JournalWriter { journal }

    /// Number of cases in the engine's cache.
    public var cachedCases: Int { engine.cachedCases }

    /// Why the view must be rebuilt from the journal before use, if it must: the store says so
    /// (after a migration), the view was written by another state format, under other rules, or
    /// with another upcaster (a view without a record of one was derived without upcasting).
    public func rebuildReason() throws -> String? {
        try store.pool.read { db in
            if let flag = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'rebuild'") {
                return "the store asks for a rebuild from the \(flag) (schema upgrade)"
            }
            let events = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            guard events > 0 else { return nil }
            let format = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'state_format'")
            if format != String(FactCoding.version) { return "the view was written in state format \(format ?? "none"), this projector writes \(FactCoding.version)" }
            let fingerprint = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'rules'")
            if fingerprint != rules.fingerprint { return "the view was derived under other rules (\(fingerprint ?? "none")); these are \(rules.fingerprint)" }
            let upcasting = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'upcaster'") ?? EventUpcaster.none.fingerprint
            if upcasting != upcaster.fingerprint {
                return "the view was derived with another upcaster (\(upcasting)); this one is \(upcaster.fingerprint) (\(upcaster))"
            }
            return nil
        }
    }

    // MARK: batches

    /// Writes `batch` in one transaction: journal entries (chained after the head; ids already
    /// journaled are skipped), the view changes the new events make, verified marks, agency
    /// checkpoints, chain states, dead letters, unread ranges, offsets and, when requested, a signed
    /// journal checkpoint of the head and view digest the batch leaves.
    public mutating func commit(_ batch: StoreBatch) throws -> StoreCommit {
        let savedTree = tree
        let savedJournal = journal
        let savedIds = ids
        let savedLatest = latestEventTime
        let savedLinks = writtenLinks
        do {
            let result = try store.pool.write { db in try write(batch, db) }
            engine.commit()
            eventCount += result.appended.count
            return result
        } catch {
            engine.discard()
            tree = savedTree
            journal = savedJournal
            ids = savedIds
            latestEventTime = savedLatest
            writtenLinks = savedLinks
            throw error
        }
    }

    private mutating func write(_ batch: StoreBatch, _ db: Database) throws -> StoreCommit {
        var result = StoreCommit()
        let fresh = try journal(batch.entries, db, &result)
        try apply(fresh, db, &result)
        try writeIntegrity(batch, db, &result)
        try retract(batch.retractions, db, &result)
        for letter in batch.deadLetters {
            try db.execute(sql: "INSERT INTO dead_letters (topic, partition, \"offset\", reason) VALUES (?, ?, ?, ?)",
                           arguments: [letter.topic, Int64(letter.partition), letter.offset, letter.reason])
        }
        if !batch.heldRecords.isEmpty || !batch.releasedHeld.isEmpty {
            try HeldRecordRows.write(held: batch.heldRecords, released: batch.releasedHeld, db)
        }
        for range in batch.unreadRanges {
            try db.execute(sql: """
                INSERT INTO unread_ranges (topic, partition, from_offset, until_offset, detected_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [range.topic, Int64(range.partition), range.from, range.until, range.detectedAt.rfc3339])
        }
        for recovery in batch.recoveredUnread {
            try db.execute(sql: """
                UPDATE unread_ranges SET recovered_at = ? WHERE topic = ? AND partition = ? AND recovered_at IS NULL
                """, arguments: [recovery.at.rfc3339, recovery.topic, Int64(recovery.partition)])
        }
        let putOffset = try db.cachedStatement(sql: """
            INSERT INTO consumer_offsets (topic, partition, next_offset) VALUES (?, ?, ?)
            ON CONFLICT(topic, partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)
            """)
        for offset in batch.offsets {
            try putOffset.execute(arguments: [offset.topic, Int64(offset.partition), offset.nextOffset])
        }
        if let request = batch.journalCheckpoint {
            try refreshDigest(db)
            result.viewDigest = tree.root()
            let checkpoint: JournalCheckpoint
            do {
                checkpoint = try journal.checkpoint(viewDigest: result.viewDigest, issuedAt: request.issuedAt, key: request.key)
            } catch {
                throw StoreError("journal checkpoint cannot be signed: \(error)")
            }
            try db.execute(sql: """
                INSERT INTO journal_checkpoints (position, entry_hash, view_digest, issued_at, signer, key_id, signature)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [checkpoint.position, checkpoint.entryHash.hex, checkpoint.viewDigest.hex,
                                 checkpoint.issuedAt.rfc3339, checkpoint.signer, checkpoint.keyId, checkpoint.signature])
            result.journalCheckpoint = checkpoint
        }
        return result
    }

    /// Journals `entries` after the head and returns the events to apply. An id already
    /// journaled (or earlier in `entries`) with the same event hash is a redelivery and skipped;
    /// with another hash one of the two records is forged, and the later one is kept in
    /// `journal_shadowed` until one of them is retracted.
    private mutating func journal(_ entries: [PendingEntry], _ db: Database,
                                  _ result: inout StoreCommit) throws -> [IncomingEvent] {
        var fresh: [IncomingEvent] = []
        var inBatch: [UUID: Hash256] = [:]
        // An id already journaled is found by the insert itself (one index descent instead of two).
        let insert = try db.cachedStatement(sql: """
            INSERT INTO journal (position, event_id, id_text, topic_id, partition, "offset", source_id, sequence, subject,
              time_ns, recorded_ns, key, headers, value, event_hash, entry_hash, chain_position)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(event_id) WHERE retracted IS NULL DO NOTHING
            """)
        let unverified = try db.cachedStatement(sql: """
            INSERT INTO journal_unverified (topic_id, partition, "offset", position) VALUES (?, ?, ?, ?)
            """)
        for pending in entries {
            var entry = pending.entry
            let idBytes = Data(uuidBytes(pending.event.id))
            if let earlier = inBatch[pending.event.id] {
                if earlier == entry.eventHash { result.duplicates += 1 } else { try shadow(pending, db, &result) }
                continue
            }
            inBatch[pending.event.id] = entry.eventHash
            let head = journal
            let chained: AccordIntegrity.JournalEntry
            do {
                chained = try journal.append(eventId: entry.eventId, topic: entry.topic, partition: entry.partition,
                                             offset: entry.offset, eventHash: entry.eventHash)
            } catch {
                throw StoreError("event \(entry.eventId) cannot be journaled: \(error)")
            }
            entry.position = chained.position
            entry.entryHash = chained.entryHash
            let canonical = pending.event.idString
            let topicId = try ids.topic(entry.topic, db)
            try insert.execute(arguments: [
                entry.position, idBytes, entry.eventId == canonical ? nil : entry.eventId,
                topicId, Int64(entry.partition), entry.offset, try ids.source(entry.source, db),
                entry.sequence, entry.subject, entry.time.nanosecondsSinceEpoch, entry.recordedAt.nanosecondsSinceEpoch,
                entry.message.key.map { Data($0) }, Data(pending.storedHeaders), Data(entry.message.value),
                Data(entry.eventHash.bytes), Data(chained.entryHash.bytes), entry.chainPosition,
            ])
            guard db.changesCount > 0 else {
                journal = head
                let live = try Data.fetchOne(db, sql: "SELECT event_hash FROM journal WHERE event_id = ? AND retracted IS NULL",
                                             arguments: [idBytes])
                if live.flatMap(Hash256.init(bytes:)) == entry.eventHash { result.duplicates += 1 } else { try shadow(pending, db, &result) }
                continue
            }
            if entry.verified {
                result.newlyVerified.append(entry.eventId)
            } else {
                try unverified.execute(arguments: [topicId, Int64(entry.partition), entry.offset, entry.position])
            }
            result.appended.append(entry)
            fresh.append(IncomingEvent(upcaster.upcast(pending.event), recordedAt: entry.recordedAt))
        }
        return fresh
    }

    /// Keeps a record whose event id is journaled with other content until one of them is retracted.
    private mutating func shadow(_ pending: PendingEntry, _ db: Database, _ result: inout StoreCommit) throws {
        let entry = pending.entry
        try db.execute(sql: """
            INSERT OR IGNORE INTO journal_shadowed (topic_id, partition, "offset", event_id, id_text, source_id, sequence,
              subject, time_ns, recorded_ns, key, headers, value, event_hash, chain_position, verified)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                try ids.topic(entry.topic, db), Int64(entry.partition), entry.offset, Data(uuidBytes(pending.event.id)),
                entry.eventId == pending.event.idString ? nil : entry.eventId, try ids.source(entry.source, db),
                entry.sequence, entry.subject, entry.time.nanosecondsSinceEpoch, entry.recordedAt.nanosecondsSinceEpoch,
                entry.message.key.map { Data($0) }, Data(pending.storedHeaders), Data(entry.message.value),
                Data(entry.eventHash.bytes), entry.chainPosition, entry.verified ? 1 : 0,
            ])
        result.shadowed.append(entry.eventId)
    }

    /// Applies journaled events to the view and records the view's format once there is one.
    private mutating func apply(_ fresh: [IncomingEvent], _ db: Database, _ result: inout StoreCommit) throws {
        guard !fresh.isEmpty else { return }
        let changes = try engine.apply(fresh, from: StoreFacts(db: db))
        try ViewTables.write(changes, db, tree: &tree)
        result.flagsChanged += changes.flags.count
        if let latest = changes.latestEventTime, latestEventTime.map({ latest > $0 }) ?? true {
            latestEventTime = latest
            try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('latest_event_ns', ?)",
                           arguments: [String(latest.nanosecondsSinceEpoch)])
        }
        try db.execute(sql: "INSERT OR IGNORE INTO view_meta (key, value) VALUES ('state_format', ?), ('rules', ?), ('upcaster', ?)",
                       arguments: [String(FactCoding.version), rules.fingerprint, upcaster.fingerprint])
    }

    private mutating func writeIntegrity(_ batch: StoreBatch, _ db: Database, _ result: inout StoreCommit) throws {
        if !batch.verifiedRecords.isEmpty {
            let mark = try db.cachedStatement(sql: """
                DELETE FROM journal_unverified WHERE topic_id = ? AND partition = ? AND "offset" = ? RETURNING position
                """)
            let find = try db.cachedStatement(sql: "SELECT event_id, id_text FROM journal WHERE position = ?")
            let markShadow = try db.cachedStatement(sql: """
                UPDATE journal_shadowed SET verified = 1 WHERE topic_id = ? AND partition = ? AND "offset" = ?
                """)
            for record in batch.verifiedRecords {
                guard let topicId = ids.topicId(record.topic) else { continue }
                try markShadow.execute(arguments: [topicId, Int64(record.partition), record.offset])
                for position in try Int64.fetchAll(mark, arguments: [topicId, Int64(record.partition), record.offset]) {
                    guard let row = try Row.fetchOne(find, arguments: [position]) else { continue }
                    let data: Data = row["event_id"]
                    let text: String? = row["id_text"]
                    result.newlyVerified.append(text ?? uuidText(data))
                }
            }
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
        if !batch.chainStates.isEmpty {
            let encoder = JSONEncoder()
            for state in batch.chainStates {
                writtenLinks[state.chain] = try ChainLinkRows.write(state, written: writtenLinks[state.chain],
                                                                    encoder: encoder, db)
            }
        }
    }

    // MARK: retraction

    /// Takes journaled records back out of the view: marks their entries retracted (no longer
    /// awaiting verification), takes their facts out of their subjects, which are derived again,
    /// and counts the sequence numbers of their sources again from the entries that remain. The
    /// view is then what it would be had the records never been applied.
    private mutating func retract(_ retractions: [Retraction], _ db: Database, _ result: inout StoreCommit) throws {
        guard !retractions.isEmpty else { return }
        let find = try db.cachedStatement(sql: """
            SELECT \(ProjectorStore.journalColumns) FROM journal WHERE topic_id = ? AND partition = ? AND "offset" = ?
            """)
        let mark = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO journal_retracted (position, after_position, retracted_ns, reason) VALUES (?, ?, ?, ?)
            """)
        let unmark = try db.cachedStatement(sql: "DELETE FROM journal_unverified WHERE position = ?")
        let leave = try db.cachedStatement(sql: "UPDATE journal SET retracted = 1 WHERE position = ?")
        let forget = try db.cachedStatement(sql: """
            DELETE FROM journal_shadowed WHERE topic_id = ? AND partition = ? AND "offset" = ?
            """)
        let codec = EventCodec()
        var events: [IncomingEvent] = []
        var sources: Set<String> = []
        var retractedIds: [Data] = []
        for retraction in retractions {
            let c = retraction.coordinates
            guard let topicId = ids.topicId(c.topic) else { continue }
            // A kept-aside record that is the orphan was never in the view: it is only dropped.
            try forget.execute(arguments: [topicId, Int64(c.partition), c.offset])
            for row in try Row.fetchAll(find, arguments: [topicId, Int64(c.partition), c.offset]) {
                let entry = try ProjectorStore.journaledEvent(row, ids)
                guard entry.retractedAt == nil else { continue }
                let event: AccordEvent
                do {
                    event = try entry.decodeEvent(codec: codec)
                } catch {
                    throw StoreError("journal position \(entry.position) does not decode: \(error)")
                }
                try mark.execute(arguments: [entry.position, journal.position, retraction.at.nanosecondsSinceEpoch, retraction.reason])
                try unmark.execute(arguments: [entry.position])
                try leave.execute(arguments: [entry.position])
                retractedIds.append(row[1])
                events.append(IncomingEvent(upcaster.upcast(event), recordedAt: entry.recordedAt))
                sources.insert(entry.source)
                result.retracted.append(entry.eventId)
            }
        }
        guard !events.isEmpty else { return }
        let facts = StoreFacts(db: db)
        var sequences: [SourceSequence] = []
        for urn in sources.sorted() {
            guard let source = EventSource(urn: urn) else { continue }
            var sequence = SourceSequence(source: source)
            for e in try facts.sourceEvents(urn, knownAt: nil) {
                sequence.insert(sequence: e.sequence, at: e.time, eventId: e.eventId)
            }
            sequences.append(sequence)
        }
        let changes = try engine.retract(events, sequences: sequences, from: facts)
        try ViewTables.write(changes, db, tree: &tree)
        result.flagsChanged += changes.flags.count
        let latest = try Int64.fetchOne(db, sql: """
            SELECT max(time_ns) FROM journal WHERE position NOT IN (SELECT position FROM journal_retracted)
            """).flatMap(Timestamp.init(nanosecondsSinceEpoch:))
        latestEventTime = latest
        if let latest {
            try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('latest_event_ns', ?)",
                           arguments: [String(latest.nanosecondsSinceEpoch)])
        } else {
            try db.execute(sql: "DELETE FROM view_meta WHERE key = 'latest_event_ns'")
        }
        try promoteShadowed(retractedIds, db, &result)
    }

    /// Journals and applies, for each retracted event id, the first record kept aside with that
    /// id (the genuine record a forgery had taken the id of).
    private mutating func promoteShadowed(_ eventIds: [Data], _ db: Database, _ result: inout StoreCommit) throws {
        guard !eventIds.isEmpty else { return }
        let find = try db.cachedStatement(sql: """
            SELECT \(ProjectorStore.shadowedColumns) FROM journal_shadowed WHERE event_id = ? ORDER BY topic_id, partition, "offset" LIMIT 1
            """)
        let codec = EventCodec()
        var promoted: [PendingEntry] = []
        for id in eventIds {
            guard let row = try Row.fetchOne(find, arguments: [id]) else { continue }
            let entry = try ProjectorStore.journaledEvent(row, ids)
            let event: AccordEvent
            do {
                event = try entry.decodeEvent(codec: codec)
            } catch {
                throw StoreError("the record kept aside at \(entry.coordinates) does not decode: \(error)")
            }
            try db.execute(sql: "DELETE FROM journal_shadowed WHERE topic_id = ? AND partition = ? AND \"offset\" = ?",
                           arguments: [row[3], row[4], row[5]])
            promoted.append(PendingEntry(entry: entry, event: event))
        }
        let before = result.appended.count
        let fresh = try journal(promoted, db, &result)
        result.promoted += result.appended[before...].map(\.eventId)
        try apply(fresh, db, &result)
    }

    // MARK: rebuilding the view

    /// Empties the view and folds it again from the whole journal, in position order, `batchSize`
    /// events per transaction. Reports progress as (entries done, total).
    public mutating func rebuildView(batchSize: Int = 5_000, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let total = try store.journalCount()
        try store.pool.write { db in
            try db.execute(sql: """
                DELETE FROM view_state; DELETE FROM view_leaf; DELETE FROM view_bucket; DELETE FROM view_referral;
                DELETE FROM view_case; DELETE FROM view_area_count; DELETE FROM view_contract; DELETE FROM view_flag;
                DELETE FROM view_flag_count; DELETE FROM view_meta; DELETE FROM view_fact; DELETE FROM view_dirty;
                """)
        }
        engine.clearCache()
        tree = ViewTree()
        latestEventTime = nil
        let codec = EventCodec()
        var pending: [IncomingEvent] = []
        var done = 0
        func flush(_ writer: inout ViewStoreWriter) throws {
            guard !pending.isEmpty else { return }
            let events = pending
            pending.removeAll(keepingCapacity: true)
            try writer.applyWithoutJournal(events)
        }
        try store.forEachJournalEntry { entry in
            done += 1
            guard entry.isInView() else { return }
            let event: AccordEvent
            do {
                event = try entry.decodeEvent(codec: codec)
            } catch {
                throw StoreError("journal position \(entry.position) does not decode: \(error)")
            }
            pending.append(IncomingEvent(event, recordedAt: entry.recordedAt))
            if pending.count >= batchSize {
                try flush(&self)
                progress(done, total)
            }
        }
        try flush(&self)
        try store.pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('state_format', ?), ('rules', ?), ('upcaster', ?)",
                           arguments: [String(FactCoding.version), rules.fingerprint, upcaster.fingerprint])
        }
        progress(done, total)
    }

    /// Records the view's format and rules on a store whose view is being written from scratch.
    public func stampViewFormat() throws {
        try store.pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('state_format', ?), ('rules', ?), ('upcaster', ?)",
                           arguments: [String(FactCoding.version), rules.fingerprint, upcaster.fingerprint])
        }
    }

    /// Replaces sources' sequence states (for a replay as of an instant: the sequences known then).
    public mutating func replaceSequences(_ sequences: [SourceSequence]) throws {
        let savedTree = tree
        do {
            try store.pool.write { db in
                let changes = try engine.replaceSequences(sequences, from: StoreFacts(db: db))
                try ViewTables.write(changes, db, tree: &tree)
            }
            engine.commit()
        } catch {
            engine.discard()
            tree = savedTree
            throw error
        }
    }

    /// Every source's sequence state in the store.
    public func sourceSequences() throws -> [SourceSequence] {
        try store.pool.read { db in
            let source = StoreFacts(db: db)
            return try source.allSources().compactMap { try source.sourceSequence($0) }
        }
    }

    /// Applies events that are already journaled (a rebuild, a replay) to the view only, each
    /// through the upcaster.
    public mutating func applyWithoutJournal(_ events: [IncomingEvent]) throws {
        let savedTree = tree
        let upcast = upcaster.areaOffices.isEmpty ? events
            : events.map { IncomingEvent(upcaster.upcast($0.event), recordedAt: $0.recordedAt) }
        do {
            try store.pool.write { db in
                let changes = try engine.apply(upcast, from: StoreFacts(db: db))
                try ViewTables.write(changes, db, tree: &tree)
                if let latest = changes.latestEventTime, latestEventTime.map({ latest > $0 }) ?? true {
                    latestEventTime = latest
                    try db.execute(sql: "INSERT OR REPLACE INTO view_meta (key, value) VALUES ('latest_event_ns', ?)",
                                   arguments: [String(latest.nanosecondsSinceEpoch)])
                }
            }
            engine.commit()
        } catch {
            engine.discard()
            tree = savedTree
            throw error
        }
    }
}

/// The lower-case text of a 16-byte UUID blob.
func uuidText(_ data: Data) -> String { uuid(fromStored: data)?.lowercasedString ?? "" }
