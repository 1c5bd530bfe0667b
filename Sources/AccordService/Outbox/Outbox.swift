import AccordEvents
import AccordHTTP
import AccordIntegrity
import Crypto
import DequeModule
import Foundation
import GRDB
import Logging
import Synchronization

/// Why the outbox could not be opened or written.
struct OutboxError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    var message: String

    /// Creates the error.
    init(_ message: String) {
        self.message = message
    }

    /// The message.
    var description: String { message }
}

/// The agency service's durable outbox: a local SQLite file (GRDB, WAL, `synchronous=NORMAL`)
/// holding every accepted event as the sealed record that is produced, with its chain state.
///
/// One transaction per intake request assigns the per-source sequence numbers and chain
/// positions, seals the events into their chains (`schemas/integrity.md` §3), writes them
/// together with any checkpoint that falls due and the chain heads, and commits before the
/// service answers `202`. A crash therefore never leaves a sequence gap or a fork: what was not
/// committed was never answered, what was committed is sent on the next start. The relay reads
/// entries in outbox order and writes their delivery reports back.
///
/// The file is the service's own log of what it published: published records stay for the
/// retention period (then their bytes are dropped, the identities kept for idempotent retries)
/// and any range of a chain can be read back (``range(topic:partition:from:limit:)``).
final class Outbox: Sendable {
    /// How the outbox answered an intake request.
    enum Appended: Sendable {
        /// Every event is in the outbox (fresh ones just written, retried ones from before).
        case accepted([Acknowledgement], fresh: [AccordEvent])
        /// An event id was already used for a different event; nothing was written.
        case conflict([FieldError])
        /// The idempotency key was already used for a different request; nothing was written.
        case keyConflict(String)
        /// Writing would exceed the bound of unsent entries; nothing was written.
        case full(pending: Int, limit: Int)
    }

    /// The chain state the service restarts from.
    private struct State: Sendable {
        var lastSequence: Int64 = 0
        var lastSeq: Int64 = 0
        var chains: [ChainID: OutboxChain] = [:]
        var partitions: [String: Int32] = [:]
    }

    /// The file.
    let path: String
    let source: EventSource
    private let key: AgencySigningKey
    private let codec: EventCodec
    private let checkpointEvery: Int64
    private let maxPending: Int
    /// Sequence numbers never issued (fault injection).
    private let skippedSequences: Set<Int64>
    private let pool: DatabasePool
    private let state: Mutex<State>
    private let unsent = Atomic<Int>(0)
    /// Entries just committed, handed to the relay without reading them back (up to
    /// ``handoffCapacity``; the relay reads the rest from the file).
    private let handoff = Mutex(Deque<OutboxEntry>())
    /// The most entries kept for the relay in memory.
    static let handoffCapacity = 20_000

    /// Opens (creating if needed) the outbox at `path` for `source`.
    init(path: String, source: EventSource, key: AgencySigningKey, codec: EventCodec,
         checkpointEvery: Int, maxPending: Int, skippedSequences: Set<Int64> = []) throws {
        self.path = path
        self.skippedSequences = skippedSequences
        self.source = source
        self.key = key
        self.codec = codec
        self.checkpointEvery = Int64(max(1, checkpointEvery))
        self.maxPending = max(1, maxPending)
        var configuration = Configuration()
        configuration.label = "accord.outbox"
        // A restarted service may open the file while the process before it is still closing it.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw OutboxError("cannot open the outbox \(path): \(error)")
        }
        let loaded = try Self.load(pool, source: source)
        state = Mutex(loaded.state)
        unsent.store(loaded.unsent, ordering: .relaxed)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("outbox-v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE chains (
                    topic TEXT NOT NULL, partition INTEGER NOT NULL,
                    count INTEGER NOT NULL, head BLOB NOT NULL, last_sequence INTEGER NOT NULL,
                    checkpointed INTEGER NOT NULL, last_seq INTEGER NOT NULL,
                    sent_through INTEGER NOT NULL DEFAULT 0, last_offset INTEGER NOT NULL DEFAULT -1,
                    PRIMARY KEY (topic, partition)) WITHOUT ROWID;
                CREATE TABLE records (
                    seq INTEGER PRIMARY KEY,
                    kind INTEGER NOT NULL,
                    topic TEXT NOT NULL, partition INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    event_id BLOB,
                    sequence INTEGER NOT NULL,
                    type TEXT, subject TEXT, time TEXT,
                    identity BLOB NOT NULL,
                    digest BLOB,
                    accepted_at INTEGER NOT NULL,
                    key BLOB, headers BLOB, value BLOB);
                CREATE UNIQUE INDEX records_event_id ON records(event_id);
                CREATE INDEX records_chain ON records(topic, partition, kind, position);
                CREATE TABLE deliveries (seq INTEGER PRIMARY KEY, offset INTEGER NOT NULL, delivered_at INTEGER NOT NULL);
                CREATE TABLE idempotency_keys (
                    key TEXT PRIMARY KEY, digest BLOB NOT NULL, event_ids BLOB NOT NULL, created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("outbox-v2") { db in
            // The Kafka timestamp an imported event asked for (`recordedtime`); NULL: when produced.
            try db.execute(sql: "ALTER TABLE records ADD COLUMN recorded_at INTEGER")
        }
        return migrator
    }

    private static func load(_ pool: DatabasePool, source: EventSource) throws -> (state: State, unsent: Int) {
        do {
            return try pool.write { db in
                if let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'source'") {
                    guard stored == source.urn else {
                        throw OutboxError("this outbox belongs to \(stored), not to \(source.urn); give this service its own --outbox")
                    }
                } else {
                    try db.execute(sql: "INSERT INTO meta (name, value) VALUES ('source', ?)", arguments: [source.urn])
                }
                var state = State()
                for row in try Row.fetchAll(db, sql: "SELECT name, value FROM meta") {
                    let name: String = row[0]
                    let value: String = row[1]
                    if name == "last_sequence" {
                        state.lastSequence = Int64(value) ?? 0
                    } else if name.hasPrefix("partitions:"), let count = Int32(value) {
                        state.partitions[String(name.dropFirst("partitions:".count))] = count
                    }
                }
                state.lastSeq = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM records") ?? 0
                var unsent = 0
                for row in try Row.fetchAll(db, sql: """
                    SELECT topic, partition, count, head, last_sequence, checkpointed, last_seq, sent_through, last_offset FROM chains
                    """) {
                    let chain = ChainID(source: source.urn, topic: row[0], partition: row[1])
                    let headBytes: Data = row[3]
                    guard let head = Hash256(bytes: headBytes) else {
                        throw OutboxError("the outbox holds an unreadable head for chain \(chain)")
                    }
                    let entry = OutboxChain(
                        writer: ChainWriter(chain: chain, head: head, count: row[2], lastSequence: row[4]),
                        checkpointed: row[5], lastSeq: row[6], sentThrough: row[7], lastOffset: row[8])
                    state.chains[chain] = entry
                    if entry.hasPending {
                        unsent += try Int.fetchOne(db, sql: """
                            SELECT COUNT(*) FROM records WHERE seq > ? AND topic = ? AND partition = ?
                            """, arguments: [entry.sentThrough, chain.topic, chain.partition]) ?? 0
                    }
                }
                return (state, unsent)
            }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw OutboxError("cannot read the outbox: \(error)")
        }
    }

    // MARK: - State

    /// Entries Kafka has not acknowledged yet.
    var pendingCount: Int { unsent.load(ordering: .relaxed) }

    /// The bound of unsent entries above which intake is refused.
    var pendingLimit: Int { maxPending }

    /// The highest sequence number used so far (0 when none).
    var lastSequence: Int64 { state.withLock { $0.lastSequence } }

    /// Every chain.
    var chains: [ChainID: OutboxChain] { state.withLock { $0.chains } }

    /// The stored partition counts of the own topics.
    var partitions: [String: Int32] { state.withLock { $0.partitions } }

    /// Stores the partition counts of the own topics (they place every later event).
    func setPartitions(_ partitions: [String: Int32]) async throws {
        try await pool.writeWithoutTransaction { [self] db in
            try db.inTransaction {
                for (topic, count) in partitions {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                                   arguments: ["partitions:\(topic)", String(count)])
                }
                return .commit
            }
            state.withLock { $0.partitions = partitions }
        }
    }

    // MARK: - Intake

    private static let submissionDomain: [UInt8] = Array("accord-submission-v1\n".utf8)

    /// The identity of a submission for idempotent retries: SHA-256 of the type and the
    /// canonical JSON of its data (what is produced as the record value).
    static func digest(type: String, value: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: submissionDomain)
        hasher.update(data: Array(type.utf8))
        hasher.update(data: [0x0A])
        hasher.update(data: value)
        return Array(hasher.finalize())
    }

    /// Writes `submissions` (validated as a whole) in one transaction: retried ids are answered
    /// from the outbox, fresh events get their sequence numbers, chain positions and sealed
    /// records, checkpoints fall due after `checkpointEvery` uncovered events of a chain.
    func append(_ submissions: [IntakeSubmission], idempotencyKey: String?, now: Timestamp) async throws -> Appended {
        let nowMilliseconds = Self.milliseconds(now)
        let prepared = try prepare(submissions, now: now)
        return try await pool.writeWithoutTransaction { [self] db in
            var draft = state.withLock { $0 }
            var result: Appended = .accepted([], fresh: [])
            var inserted = 0
            var committed = false
            var handed: [OutboxEntry] = []
            try db.inTransaction(.immediate) {
                handed.removeAll()
                let written = try appendInTransaction(db, prepared, idempotencyKey: idempotencyKey,
                                                      now: now, nowMilliseconds: nowMilliseconds, draft: &draft,
                                                      handed: &handed)
                result = written.outcome
                inserted = written.entries
                committed = written.commit
                return committed ? .commit : .rollback
            }
            if committed {
                state.withLock { $0 = draft }
                unsent.add(inserted, ordering: .relaxed)
                handOff(handed)
            }
            return result
        }
    }

    /// Queues committed entries for the relay (in outbox order: called by the writer).
    private func handOff(_ entries: [OutboxEntry]) {
        guard !entries.isEmpty else { return }
        handoff.withLock { queue in
            for entry in entries where queue.count < Self.handoffCapacity {
                queue.append(entry)
            }
        }
    }

    /// An event made ready outside the serialized writer: encoded as it will be produced, with
    /// placeholders for the sequence and the predecessor hash that the writer fills in.
    private struct PreparedEvent: Sendable {
        var submission: IntakeSubmission
        var event: AccordEvent
        var message: BinaryMessage
        var sequenceHeader: Int
        var prevHashHeader: Int
        var digest: [UInt8]
        var chain: ChainID
        /// `ce_id` and `ce_time` as encoded (so they are not formatted again).
        var idText: String
        var timeText: String
    }

    /// Encodes every submission into its record with placeholder sequence and prevhash, its digest
    /// and its chain: the costly part of sealing, done concurrently across requests.
    private func prepare(_ submissions: [IntakeSubmission], now: Timestamp) throws -> [PreparedEvent] {
        let partitions = state.withLock { $0.partitions }
        return try submissions.map { submission in
            let topic = submission.kind.topic.name
            guard let count = partitions[topic],
                  let partition = KafkaPartitioner.murmur2(key: submission.payload.subjectId, partitions: count) else {
                throw OutboxError("the partition count of topic \(topic) is not known")
            }
            var event = AccordEvent(id: submission.id ?? UUID(), source: source, time: submission.time ?? now,
                                    sequence: 1, payload: submission.payload,
                                    causationId: submission.causationId, correlationId: submission.correlationId)
            event.prevHash = Hash256.zero.hex
            let message: BinaryMessage
            do {
                message = try codec.encodeBinary(event)
            } catch {
                throw OutboxError("event \(event.idString) cannot be encoded: \(error)")
            }
            guard let sequenceHeader = message.headers.firstIndex(where: { $0.name == "ce_sequence" }),
                  let prevHashHeader = message.headers.firstIndex(where: { $0.name == "ce_prevhash" }),
                  let idHeader = message.headers.first(where: { $0.name == "ce_id" }),
                  let timeHeader = message.headers.first(where: { $0.name == "ce_time" }) else {
                throw OutboxError("event \(event.idString) encodes without ce_id, ce_time, ce_sequence or ce_prevhash")
            }
            return PreparedEvent(submission: submission, event: event, message: message,
                                 sequenceHeader: sequenceHeader, prevHashHeader: prevHashHeader,
                                 digest: Self.digest(type: event.type, value: message.value),
                                 chain: ChainID(source: source.urn, topic: topic, partition: partition),
                                 idText: String(decoding: idHeader.value, as: UTF8.self),
                                 timeText: String(decoding: timeHeader.value, as: UTF8.self))
        }
    }

    private func appendInTransaction(_ db: Database, _ prepared: [PreparedEvent], idempotencyKey: String?,
                                     now: Timestamp, nowMilliseconds: Int64,
                                     draft: inout State,
                                     handed: inout [OutboxEntry]) throws -> (outcome: Appended, entries: Int, commit: Bool) {
        if let idempotencyKey,
           let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT digest, event_ids FROM idempotency_keys WHERE key = ?"),
                                      arguments: [idempotencyKey]) {
            let stored: Data = row[0]
            let ids: Data = row[1]
            guard Array(stored) == requestDigest(prepared) else {
                return (.keyConflict("Idempotency-Key \"\(idempotencyKey.prefix(80))\" was already used for a different request; use a new key for new events"), 0, false)
            }
            var acknowledgements: [Acknowledgement] = []
            for index in stride(from: 0, to: ids.count, by: 16) {
                let id = Data(ids[ids.startIndex + index ..< ids.startIndex + index + 16])
                if let ack = try acknowledgement(db, eventId: id) { acknowledgements.append(ack) }
            }
            return (.accepted(acknowledgements, fresh: []), 0, false)
        }
        enum Slot {
            case existing(Acknowledgement)
            case fresh(Int)
        }
        var slots: [Slot] = []
        var conflicts: [FieldError] = []
        var pending: [PreparedEvent] = []
        let lookup = try db.cachedStatement(sql: """
            SELECT r.digest, r.type, r.subject, r.time, r.sequence, r.topic, r.partition, r.position, d.offset, r.event_id
            FROM records r LEFT JOIN deliveries d ON d.seq = r.seq WHERE r.event_id = ?
            """)
        // One query finds which of the given ids are known; only those are looked up one by one.
        let given = prepared.compactMap { $0.submission.id.map(Self.idBytes) }
        var known: Set<Data> = []
        for start in stride(from: 0, to: given.count, by: 500) {
            let chunk = Array(given[start..<min(start + 500, given.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Data.fetchCursor(db.cachedStatement(sql: "SELECT event_id FROM records WHERE event_id IN (\(placeholders))"),
                                            arguments: StatementArguments(chunk))
            while let id = try rows.next() { known.insert(id) }
        }
        for item in prepared {
            guard let id = item.submission.id, known.contains(Self.idBytes(id)),
                  let row = try Row.fetchOne(lookup, arguments: [Self.idBytes(id)]) else {
                slots.append(.fresh(pending.count))
                pending.append(item)
                continue
            }
            let stored: Data? = row[0]
            if let stored, Array(stored) == item.digest {
                slots.append(.existing(Self.acknowledgement(row, source: source)))
            } else {
                let type: String = row[1] ?? "another type"
                let subject: String = row[2] ?? "another subject"
                conflicts.append(FieldError(
                    index: item.submission.index, pointer: "", field: "id",
                    message: "id \(id.lowercasedString) was already published as a different event (\(type) about \(subject)); use a new id",
                    reason: "id-conflict"))
            }
        }
        if !conflicts.isEmpty { return (.conflict(conflicts), 0, false) }
        let current = unsent.load(ordering: .relaxed)
        if !pending.isEmpty, current + pending.count > maxPending {
            return (.full(pending: current, limit: maxPending), 0, false)
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO records (seq, kind, topic, partition, position, event_id, sequence, type, subject, time,
                                 identity, digest, accepted_at, key, headers, value, recorded_at)
            VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var fresh: [AccordEvent] = []
        var freshAcks: [Acknowledgement] = []
        var touched: [ChainID] = []
        var inserted = 0
        fresh.reserveCapacity(pending.count)
        freshAcks.reserveCapacity(pending.count)
        for item in pending {
            let chainID = item.chain
            var chain = draft.chains[chainID]
                ?? OutboxChain(writer: ChainWriter(chain: chainID), checkpointed: 0, lastSeq: 0, sentThrough: 0, lastOffset: -1)
            draft.lastSequence += 1
            while skippedSequences.contains(draft.lastSequence) { draft.lastSequence += 1 }
            var event = item.event
            event.sequence = draft.lastSequence
            event.prevHash = chain.writer.nextPrevHash
            var message = item.message
            message.headers[item.sequenceHeader].value = Array(String(event.sequence).utf8)
            message.headers[item.prevHashHeader].value = Array(chain.writer.nextPrevHash.utf8)
            let hashed: HashedEvent
            do {
                hashed = try EventHashing.hash(message: message)
                try chain.writer.append(hashed)
            } catch {
                throw OutboxError("event \(event.idString) cannot be sealed: \(error)")
            }
            let position = chain.writer.count
            draft.lastSeq += 1
            chain.lastSeq = draft.lastSeq
            let recordedAt = item.submission.recordedAt.map(Self.milliseconds)
            try insert.execute(arguments: [
                draft.lastSeq, chainID.topic, chainID.partition, position, Self.idBytes(event.id), event.sequence, event.type,
                event.subject, item.timeText, Data(hashed.hash.bytes), Data(item.digest), nowMilliseconds,
                message.key.map { Data($0) }, Data(HeaderBlob.encode(message.headers)), Data(message.value), recordedAt,
            ])
            handed.append(OutboxEntry(seq: draft.lastSeq, kind: .event, chain: chainID, position: position,
                                      identity: hashed.hash, acceptedAtMilliseconds: nowMilliseconds,
                                      key: message.key, headers: message.headers, value: message.value,
                                      recordedAtMilliseconds: recordedAt))
            inserted += 1
            if !touched.contains(chainID) { touched.append(chainID) }
            if chain.uncovered >= checkpointEvery {
                handed.append(try insertCheckpoint(db, chain: &chain, issuedAt: now, nowMilliseconds: nowMilliseconds,
                                                   draft: &draft))
                inserted += 1
            }
            draft.chains[chainID] = chain
            fresh.append(event)
            freshAcks.append(Acknowledgement(
                id: item.idText, type: event.type, subject: event.subject, source: source.urn,
                time: item.timeText, sequence: event.sequence, topic: chainID.topic, partition: chainID.partition,
                position: position, offset: nil))
        }
        for chainID in touched {
            if let chain = draft.chains[chainID] { try saveChain(db, chain) }
        }
        if inserted > 0 {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (name, value) VALUES ('last_sequence', ?)",
                           arguments: [String(draft.lastSequence)])
        }
        if let idempotencyKey {
            var ids = Data()
            for slot in slots {
                switch slot {
                case .existing(let ack): ids.append(UUID(uuidString: ack.id).map(Self.idBytes) ?? Data(count: 16))
                case .fresh(let index): ids.append(Self.idBytes(fresh[index].id))
                }
            }
            try db.execute(sql: "INSERT INTO idempotency_keys (key, digest, event_ids, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [idempotencyKey, Data(requestDigest(prepared)), ids, nowMilliseconds])
        }
        let acknowledgements = slots.map { slot -> Acknowledgement in
            switch slot {
            case .existing(let ack): ack
            case .fresh(let index): freshAcks[index]
            }
        }
        return (.accepted(acknowledgements, fresh: fresh), inserted, inserted > 0 || idempotencyKey != nil)
    }

    /// The digest of a whole request: its submissions' ids (when given) and digests, in order.
    private func requestDigest(_ prepared: [PreparedEvent]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("accord-request-v1\n".utf8))
        for item in prepared {
            hasher.update(data: Array((item.submission.id?.lowercasedString ?? "-").utf8))
            hasher.update(data: item.digest)
        }
        return Array(hasher.finalize())
    }

    @discardableResult
    private func insertCheckpoint(_ db: Database, chain: inout OutboxChain, issuedAt: Timestamp, nowMilliseconds: Int64,
                                  draft: inout State) throws -> OutboxEntry {
        let checkpoint: ChainCheckpoint
        do {
            checkpoint = try chain.writer.checkpoint(issuedAt: issuedAt, key: key)
        } catch {
            throw OutboxError("cannot sign a checkpoint of \(chain.writer.chain): \(error)")
        }
        let record = checkpoint.record
        draft.lastSeq += 1
        try db.cachedStatement(sql: """
            INSERT INTO records (seq, kind, topic, partition, position, sequence, identity, accepted_at, key, headers, value)
            VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                draft.lastSeq, checkpoint.chain.topic, checkpoint.chain.partition, checkpoint.count,
                checkpoint.lastSequence, Data(Hash256.sha256(record.value).bytes), nowMilliseconds,
                record.key.map { Data($0) }, Data(HeaderBlob.encode(record.headers)), Data(record.value),
            ])
        chain.checkpointed = checkpoint.count
        chain.lastSeq = draft.lastSeq
        return OutboxEntry(seq: draft.lastSeq, kind: .checkpoint, chain: checkpoint.chain, position: checkpoint.count,
                           identity: Hash256.sha256(record.value), acceptedAtMilliseconds: nowMilliseconds,
                           key: record.key, headers: record.headers, value: record.value)
    }

    private func saveChain(_ db: Database, _ chain: OutboxChain) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO chains (topic, partition, count, head, last_sequence, checkpointed, last_seq, sent_through, last_offset)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                chain.writer.chain.topic, chain.writer.chain.partition, chain.writer.count, Data(chain.writer.head.bytes),
                chain.writer.lastSequence, chain.checkpointed, chain.lastSeq, chain.sentThrough, chain.lastOffset,
            ])
    }

    /// Signs a checkpoint into the outbox for every chain with at least `minimumUncovered` (≥ 1)
    /// events not yet covered, after those events. Returns how many were written.
    @discardableResult
    func checkpoint(minimumUncovered: Int64, issuedAt: Timestamp) async throws -> Int {
        let threshold = max(1, minimumUncovered)
        guard state.withLock({ $0.chains.values.contains { $0.uncovered >= threshold } }) else { return 0 }
        let nowMilliseconds = Self.milliseconds(issuedAt)
        return try await pool.writeWithoutTransaction { [self] db in
            var draft = state.withLock { $0 }
            var written = 0
            var handed: [OutboxEntry] = []
            try db.inTransaction(.immediate) {
                let due = draft.chains.values.filter { $0.uncovered >= threshold }
                    .sorted { ($0.writer.chain.topic, $0.writer.chain.partition) < ($1.writer.chain.topic, $1.writer.chain.partition) }
                for var chain in due {
                    handed.append(try insertCheckpoint(db, chain: &chain, issuedAt: issuedAt, nowMilliseconds: nowMilliseconds,
                                                       draft: &draft))
                    try saveChain(db, chain)
                    draft.chains[chain.writer.chain] = chain
                    written += 1
                }
                return written > 0 ? .commit : .rollback
            }
            if written > 0 {
                state.withLock { $0 = draft }
                unsent.add(written, ordering: .relaxed)
                handOff(handed)
            }
            return written
        }
    }

    // MARK: - Relay

    /// Up to `limit` entries after outbox position `after`, in outbox order, skipping entries
    /// of chains already acknowledged past them; `scannedThrough` is the last position looked at
    /// (the next call continues after it).
    func entries(after: Int64, limit: Int) async throws -> (entries: [OutboxEntry], scannedThrough: Int64) {
        let chains = state.withLock { $0.chains }
        // Committed entries handed over in memory, when they continue right after `after`.
        let (handed, next) = handoff.withLock { queue -> ([OutboxEntry], Int64?) in
            while let first = queue.first, first.seq <= after { queue.removeFirst() }
            guard let first = queue.first else { return ([], nil) }
            guard first.seq == after + 1 else { return ([], first.seq) }
            var taken: [OutboxEntry] = []
            taken.reserveCapacity(min(limit, queue.count))
            while taken.count < limit, let entry = queue.popFirst() { taken.append(entry) }
            return (taken, nil)
        }
        if let last = handed.last {
            return (handed.filter { entry in chains[entry.chain].map { entry.seq > $0.sentThrough } ?? true }, last.seq)
        }
        // Otherwise from the file, up to the next handed-over entry.
        let readLimit = next.map { Int(clamping: min(Int64(limit), $0 - after - 1)) } ?? limit
        let source = source.urn
        return try await pool.read { db in
            var entries: [OutboxEntry] = []
            var scanned = after
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT seq, kind, topic, partition, position, identity, accepted_at, key, headers, value, recorded_at
                FROM records WHERE seq > ? ORDER BY seq LIMIT ?
                """), arguments: [after, max(1, readLimit)])
            while let row = try rows.next() {
                let chain = ChainID(source: source, topic: row[2], partition: row[3])
                let seq: Int64 = row[0]
                scanned = seq
                if let known = chains[chain], seq <= known.sentThrough { continue }
                guard let entry = Self.entry(row, chain: chain) else {
                    throw OutboxError("outbox entry \(seq) is unreadable (its record bytes are missing or damaged)")
                }
                entries.append(entry)
            }
            return (entries, scanned)
        }
    }

    /// Every unsent entry of `chain`, in order (startup reconciliation).
    func pendingEntries(of chain: ChainID) async throws -> [OutboxEntry] {
        guard let known = state.withLock({ $0.chains[chain] }) else { return [] }
        return try await pool.read { db in
            var entries: [OutboxEntry] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, kind, topic, partition, position, identity, accepted_at, key, headers, value, recorded_at
                FROM records WHERE seq > ? AND topic = ? AND partition = ? ORDER BY seq
                """, arguments: [known.sentThrough, chain.topic, chain.partition])
            while let row = try rows.next() {
                if let entry = Self.entry(row, chain: chain) { entries.append(entry) }
            }
            return entries
        }
    }

    private static func entry(_ row: Row, chain: ChainID) -> OutboxEntry? {
        let identity: Data = row[5]
        guard let kind = OutboxEntryKind(rawValue: row[1]), let hash = Hash256(bytes: identity),
              let headerBytes = row[8] as Data?, let headers = HeaderBlob.decode(Array(headerBytes)),
              let value = row[9] as Data? else { return nil }
        let key = row[7] as Data?
        return OutboxEntry(seq: row[0], kind: kind, chain: chain, position: row[4], identity: hash,
                           acceptedAtMilliseconds: row[6], key: key.map { Array($0) }, headers: headers, value: Array(value),
                           recordedAtMilliseconds: row[10])
    }

    /// Records Kafka's acknowledgements: each chain's entries up to the reported ones are sent.
    /// Deliveries of one chain must come in its order.
    func markDelivered(_ deliveries: [OutboxDelivery], at now: Timestamp) async throws {
        guard !deliveries.isEmpty else { return }
        let nowMilliseconds = Self.milliseconds(now)
        try await pool.writeWithoutTransaction { [self] db in
            var chains = state.withLock { $0.chains }
            var changed: Set<ChainID> = []
            var counted = 0
            try db.inTransaction(.immediate) {
                let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO deliveries (seq, offset, delivered_at) VALUES (?, ?, ?)")
                for delivery in deliveries {
                    guard var chain = chains[delivery.chain], delivery.seq > chain.sentThrough else { continue }
                    try insert.execute(arguments: [delivery.seq, delivery.offset, nowMilliseconds])
                    chain.sentThrough = delivery.seq
                    chain.lastOffset = max(chain.lastOffset, delivery.offset)
                    chains[delivery.chain] = chain
                    changed.insert(delivery.chain)
                    counted += 1
                }
                for chainID in changed {
                    guard let chain = chains[chainID] else { continue }
                    try db.cachedStatement(sql: "UPDATE chains SET sent_through = ?, last_offset = ? WHERE topic = ? AND partition = ?")
                        .execute(arguments: [chain.sentThrough, chain.lastOffset, chainID.topic, chainID.partition])
                }
                return .commit
            }
            state.withLock { state in
                for chainID in changed {
                    guard let chain = chains[chainID] else { continue }
                    state.chains[chainID]?.sentThrough = chain.sentThrough
                    state.chains[chainID]?.lastOffset = chain.lastOffset
                }
            }
            unsent.subtract(counted, ordering: .relaxed)
        }
    }

    // MARK: - Reading back

    /// The acknowledgement of event `id`, if this service accepted it.
    func acknowledgement(of id: UUID) async throws -> Acknowledgement? {
        try await pool.read { [self] db in try acknowledgement(db, eventId: Self.idBytes(id)) }
    }

    private func acknowledgement(_ db: Database, eventId: Data) throws -> Acknowledgement? {
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT r.digest, r.type, r.subject, r.time, r.sequence, r.topic, r.partition, r.position, d.offset, r.event_id
            FROM records r LEFT JOIN deliveries d ON d.seq = r.seq WHERE r.event_id = ?
            """), arguments: [eventId])
        return row.map { Self.acknowledgement($0, source: source) }
    }

    private static func acknowledgement(_ row: Row, source: EventSource) -> Acknowledgement {
        let idBytes: Data = row[9]
        let id = idBytes.count == 16 ? UUID(uuid: idBytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }) : UUID()
        return Acknowledgement(id: id.lowercasedString, type: row[1] ?? "", subject: row[2] ?? "",
                               source: source.urn, time: row[3] ?? "", sequence: row[4], topic: row[5],
                               partition: row[6], position: row[7], offset: row[8])
    }

    /// A range of one chain, as stored.
    struct ChainRange: Sendable {
        /// The events from the requested position, in chain order.
        var events: [ChainRecord]
        /// The newest checkpoint of the chain in the outbox, if any.
        var checkpoint: ChainRecord?
        /// The oldest position whose record bytes are still kept (nil when the chain is empty).
        var oldestRetained: Int64?
        /// The chain's length.
        var count: Int64
    }

    /// One stored record of a chain.
    struct ChainRecord: Sendable {
        var position: Int64
        var sequence: Int64
        var key: [UInt8]?
        var headers: [MessageHeader]
        var value: [UInt8]
        var offset: Int64?
        var timestampMilliseconds: Int64
    }

    /// Up to `limit` events of chain `topic`/`partition` from position `from`, with the newest checkpoint.
    func range(topic: String, partition: Int32, from: Int64, limit: Int) async throws -> ChainRange {
        let chain = ChainID(source: source.urn, topic: topic, partition: partition)
        let count = state.withLock { $0.chains[chain]?.writer.count } ?? 0
        return try await pool.read { db in
            func record(_ row: Row) -> ChainRecord? {
                guard let headerBytes = row[3] as Data?, let headers = HeaderBlob.decode(Array(headerBytes)),
                      let value = row[4] as Data? else { return nil }
                return ChainRecord(position: row[0], sequence: row[1], key: (row[2] as Data?).map { Array($0) },
                                   headers: headers, value: Array(value), offset: row[5], timestampMilliseconds: row[6])
            }
            let oldest = try Int64.fetchOne(db, sql: """
                SELECT MIN(position) FROM records WHERE topic = ? AND partition = ? AND kind = 0 AND value IS NOT NULL
                """, arguments: [topic, partition])
            var events: [ChainRecord] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT r.position, r.sequence, r.key, r.headers, r.value, d.offset, COALESCE(r.recorded_at, r.accepted_at)
                FROM records r LEFT JOIN deliveries d ON d.seq = r.seq
                WHERE r.topic = ? AND r.partition = ? AND r.kind = 0 AND r.position >= ? AND r.value IS NOT NULL
                ORDER BY r.position LIMIT ?
                """), arguments: [topic, partition, from, limit])
            while let row = try rows.next() {
                guard let entry = record(row) else { continue }
                events.append(entry)
            }
            let checkpoint = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT r.position, r.sequence, r.key, r.headers, r.value, d.offset, COALESCE(r.recorded_at, r.accepted_at)
                FROM records r LEFT JOIN deliveries d ON d.seq = r.seq
                WHERE r.topic = ? AND r.partition = ? AND r.kind = 1 AND r.value IS NOT NULL
                ORDER BY r.position DESC LIMIT 1
                """), arguments: [topic, partition]).flatMap(record)
            return ChainRange(events: events, checkpoint: checkpoint, oldestRetained: oldest, count: count)
        }
    }

    // MARK: - Retention

    /// Drops the record bytes of published entries accepted before `cutoff` (and, with
    /// `keepNewest`, of all but the newest that many entries), oldest first, at most `limit` per
    /// call, never the newest checkpoint of a chain. Identities stay for idempotent retries.
    /// Returns how many entries were pruned.
    func prune(acceptedBefore cutoff: Timestamp?, keepNewest: Int?, limit: Int = 5000) async throws -> Int {
        let cutoffMilliseconds = cutoff.map(Self.milliseconds)
        let chains = state.withLock { $0.chains }
        let lastSeq = state.withLock { $0.lastSeq }
        let seqLimit = keepNewest.map { lastSeq - Int64($0) }
        return try await pool.writeWithoutTransaction { db in
            var pruned = 0
            try db.inTransaction {
                let through = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE name = 'pruned_through'") ?? 0
                let rows = try Row.fetchAll(db, sql: """
                    SELECT seq, kind, topic, partition, position, accepted_at FROM records WHERE seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [through, limit])
                var last = through
                for row in rows {
                    let seq: Int64 = row[0]
                    let chain = ChainID(source: self.source.urn, topic: row[2], partition: row[3])
                    let acceptedAt: Int64 = row[5]
                    let old = (cutoffMilliseconds.map { acceptedAt < $0 } ?? false) || (seqLimit.map { seq <= $0 } ?? false)
                    guard old, let known = chains[chain], seq <= known.sentThrough else { break }
                    let kind: Int = row[1]
                    let position: Int64 = row[4]
                    if kind == OutboxEntryKind.checkpoint.rawValue, position == known.checkpointed {
                        last = seq
                        continue
                    }
                    try db.execute(sql: "UPDATE records SET key = NULL, headers = NULL, value = NULL WHERE seq = ?", arguments: [seq])
                    last = seq
                    pruned += 1
                }
                if last > through {
                    try db.execute(sql: "INSERT OR REPLACE INTO meta (name, value) VALUES ('pruned_through', ?)",
                                   arguments: [String(last)])
                }
                return .commit
            }
            return pruned
        }
    }

    // MARK: - Helpers

    static func idBytes(_ id: UUID) -> Data {
        withUnsafeBytes(of: id.uuid) { Data($0) }
    }

    static func milliseconds(_ instant: Timestamp) -> Int64 {
        instant.secondsSinceEpoch * 1000 + Int64(instant.nanoseconds / 1_000_000)
    }
}
