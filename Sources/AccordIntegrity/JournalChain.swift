import AccordEvents

/// One entry of the projector's journal as the integrity chain sees it: an applied event, where
/// it came from in Kafka, and the hash chaining it to the entry before (`schemas/integrity.md` §7).
public struct JournalEntry: Sendable, Hashable, Codable {
    /// 1-based position in the journal.
    public let position: Int64
    /// The event id (`ce_id`).
    public let eventId: String
    /// The Kafka topic it was read from.
    public let topic: String
    /// The Kafka partition.
    public let partition: Int32
    /// The Kafka offset.
    public let offset: Int64
    /// The event hash (§2) of the record as received.
    public let eventHash: Hash256
    /// `JournalChain.entryHash(…)` over the previous entry hash and the fields above.
    public let entryHash: Hash256

    /// Creates an entry from stored fields (no check; see `JournalChain.verify`).
    public init(position: Int64, eventId: String, topic: String, partition: Int32, offset: Int64,
                eventHash: Hash256, entryHash: Hash256) {
        self.position = position
        self.eventId = eventId
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.eventHash = eventHash
        self.entryHash = entryHash
    }
}

/// A journal entry as read back for an audit, optionally with the stored record bytes so the
/// event hash can be recomputed (catching a modified payload or attribute).
public struct JournalRecord: Sendable, Hashable {
    /// The stored entry.
    public let entry: JournalEntry
    /// The stored record headers and value, if the journal keeps them.
    public let headers: [MessageHeader]?
    /// The stored record value (the event `data`), if the journal keeps it.
    public let value: [UInt8]?

    /// Creates a record; pass `headers` and `value` together or neither.
    public init(entry: JournalEntry, headers: [MessageHeader]? = nil, value: [UInt8]? = nil) {
        self.entry = entry
        self.headers = headers
        self.value = value
    }
}

/// The journal hash chain: building entries and verifying a journal read back.
public enum JournalChain {
    /// The domain-separation first line of an entry hash preimage.
    public static let domain = "accord-journal-v1\n"

    /// The canonical preimage of an entry hash: `accord-journal-v1\n` then, one per line,
    /// prevEntryHash, position, eventId, topic, partition, offset, eventHash.
    public static func preimage(prevEntryHash: Hash256, position: Int64, eventId: String, topic: String,
                                partition: Int32, offset: Int64, eventHash: Hash256) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(240 + eventId.utf8.count + topic.utf8.count)
        out.append(contentsOf: domain.utf8)
        prevEntryHash.appendHex(to: &out)
        out.append(10)
        out.append(contentsOf: String(position).utf8)
        out.append(10)
        out.append(contentsOf: eventId.utf8)
        out.append(10)
        out.append(contentsOf: topic.utf8)
        out.append(10)
        out.append(contentsOf: String(partition).utf8)
        out.append(10)
        out.append(contentsOf: String(offset).utf8)
        out.append(10)
        eventHash.appendHex(to: &out)
        out.append(10)
        return out
    }

    /// SHA-256 of `preimage(…)`.
    public static func entryHash(prevEntryHash: Hash256, position: Int64, eventId: String, topic: String,
                                 partition: Int32, offset: Int64, eventHash: Hash256) -> Hash256 {
        Hash256.sha256(preimage(prevEntryHash: prevEntryHash, position: position, eventId: eventId, topic: topic,
                                partition: partition, offset: offset, eventHash: eventHash))
    }

    /// Verifies a whole journal in position order, and the signed checkpoints against it.
    /// Stops at the first fault.
    public static func verify(entries: some Sequence<JournalRecord>, checkpoints: [JournalCheckpoint] = [],
                              registry: KeyRegistry? = nil) -> JournalReport {
        var verifier = JournalVerifier(checkpoints: checkpoints, registry: registry)
        for record in entries {
            if let fault = verifier.check(record) { return verifier.report(fault: fault) }
        }
        return verifier.finish()
    }

    /// Verifies a journal given as bare entries (event hashes taken as stored).
    public static func verify(entries: some Sequence<JournalEntry>, checkpoints: [JournalCheckpoint] = [],
                              registry: KeyRegistry? = nil) -> JournalReport {
        verify(entries: entries.lazy.map { JournalRecord(entry: $0) }, checkpoints: checkpoints, registry: registry)
    }
}

/// The projector's side of the journal chain: appends entries.
/// A value type; restore it from the last stored entry on start.
public struct JournalWriter: Sendable, Hashable, Codable {
    /// The hash of the last entry, `Hash256.zero` for an empty journal.
    public private(set) var head: Hash256
    /// The position of the last entry, 0 for an empty journal.
    public private(set) var position: Int64

    /// An empty journal.
    public init() {
        self.init(head: .zero, position: 0)
    }

    /// Resumes after the entry at `position` whose hash is `head`.
    public init(head: Hash256, position: Int64) {
        self.head = head
        self.position = position
    }

    /// Makes the next entry and advances. `eventId` must be printable ASCII without spaces and
    /// `topic` a Kafka topic name, so the canonical lines stay unambiguous.
    public mutating func append(eventId: String, topic: String, partition: Int32, offset: Int64,
                                eventHash: Hash256) throws(IntegrityError) -> JournalEntry {
        try JournalVerifier.checkFields(eventId: eventId, topic: topic, partition: partition, offset: offset)
        let next = position + 1
        let hash = JournalChain.entryHash(prevEntryHash: head, position: next, eventId: eventId, topic: topic,
                                          partition: partition, offset: offset, eventHash: eventHash)
        let entry = JournalEntry(position: next, eventId: eventId, topic: topic, partition: partition, offset: offset,
                                 eventHash: eventHash, entryHash: hash)
        head = hash
        position = next
        return entry
    }

    /// A signed checkpoint of the current head with the view's digest, by the projector's key.
    public func checkpoint(viewDigest: Hash256, issuedAt: Timestamp, key: AgencySigningKey) throws(IntegrityError) -> JournalCheckpoint {
        try JournalCheckpoint.signed(position: position, entryHash: head, viewDigest: viewDigest, issuedAt: issuedAt, key: key)
    }
}

/// Why a journal failed verification.
public enum JournalFaultReason: Sendable, Hashable, CustomStringConvertible {
    /// Positions do not run 1, 2, 3 …: an entry was deleted, inserted or moved.
    case positionOutOfOrder(expected: Int64, found: Int64)
    /// A field is not valid (so the entry cannot have been written by a `JournalWriter`).
    case invalidField(String)
    /// The stored entry hash differs from the one recomputed: a field or an earlier entry changed.
    case entryHashMismatch(stored: Hash256, computed: Hash256)
    /// The stored record bytes hash to another event hash: the payload or an attribute changed.
    case eventHashMismatch(stored: Hash256, computed: Hash256)
    /// The stored record's `ce_id` differs from the entry's event id.
    case eventIdMismatch(entry: String, record: String)
    /// The stored record cannot be hashed.
    case unreadableRecord(IntegrityError)
    /// A signed checkpoint names an entry hash the journal does not have at that position.
    case checkpointMismatch(signed: Hash256, stored: Hash256)
    /// A checkpoint's signature was not accepted.
    case checkpointSignature(KeyRejection)
    /// A checkpoint covers more entries than the journal holds: entries were removed from the end.
    case checkpointBeyondEnd(journalLength: Int64)

    /// A specific, human-readable reason.
    public var description: String {
        switch self {
        case .positionOutOfOrder(let e, let f):
            "expected position \(e), found \(f): an entry was \(f > e ? "deleted" : "inserted or moved")"
        case .invalidField(let m): "invalid field: \(m)"
        case .entryHashMismatch(let s, let c): "entry hash \(s) does not match the recomputed \(c): the entry or one before it was altered"
        case .eventHashMismatch(let s, let c): "stored record hashes to \(c), not the journaled event hash \(s): the event was altered"
        case .eventIdMismatch(let e, let r): "stored record has ce_id \(r), the entry \(e)"
        case .unreadableRecord(let e): "stored record cannot be hashed: \(e)"
        case .checkpointMismatch(let s, let st): "signed checkpoint names entry hash \(s) but the journal holds \(st)"
        case .checkpointSignature(let k): "checkpoint signature: \(k)"
        case .checkpointBeyondEnd(let n): "checkpoint covers more entries than the journal holds (\(n)): entries were removed"
        }
    }
}

/// The first fault found in a journal.
public struct JournalFault: Sendable, Hashable, CustomStringConvertible {
    /// The journal position concerned (of the entry, or of the checkpoint).
    public let position: Int64
    /// What is wrong.
    public let reason: JournalFaultReason

    /// `position N: reason`.
    public var description: String { "position \(position): \(reason)" }
}

/// The outcome of a journal verification.
public struct JournalReport: Sendable, Hashable {
    /// Entries verified before stopping (all of them when `fault` is nil).
    public let entriesVerified: Int64
    /// The entry hash of the last verified entry.
    public let head: Hash256
    /// Checkpoints whose signature and entry hash were verified.
    public let checkpointsVerified: [JournalCheckpoint]
    /// The first fault, or nil when the journal is intact.
    public let fault: JournalFault?

    /// True when no fault was found.
    public var isIntact: Bool { fault == nil }
}

/// Streaming journal verification: feed entries in position order with `check`, then `finish`.
public struct JournalVerifier: Sendable {
    private var head: Hash256 = .zero
    private var position: Int64 = 0
    private var pending: [Int64: [JournalCheckpoint]] = [:]
    private var verifiedCheckpoints: [JournalCheckpoint] = []
    private var firstFault: JournalFault?
    private let registry: KeyRegistry?

    /// Creates a verifier; checkpoints are checked as their positions are reached. When
    /// `registry` is given, each checkpoint's signature must verify with a key of its signer.
    public init(checkpoints: [JournalCheckpoint] = [], registry: KeyRegistry? = nil) {
        self.registry = registry
        for checkpoint in checkpoints { pending[checkpoint.position, default: []].append(checkpoint) }
        if let atZero = pending.removeValue(forKey: 0) {
            for c in atZero {
                if let fault = check(c) { firstFault = firstFault ?? fault }
            }
        }
    }

    static func checkFields(eventId: String, topic: String, partition: Int32, offset: Int64) throws(IntegrityError) {
        guard Canonical.isToken(eventId) else {
            throw IntegrityError(.invalidValue, field: "eventId", "\"\(eventId.prefix(80))\" is not 1–128 printable ASCII characters")
        }
        guard Canonical.isTopic(topic) else {
            throw IntegrityError(.invalidValue, field: "topic", "\"\(topic.prefix(80))\" is not a Kafka topic name")
        }
        guard partition >= 0, offset >= 0 else {
            throw IntegrityError(.invalidValue, field: partition < 0 ? "partition" : "offset", "must not be negative")
        }
    }

    private mutating func check(_ checkpoint: JournalCheckpoint) -> JournalFault? {
        if let registry,
           let rejection = registry.verify(signature: checkpoint.signature, over: checkpoint.signedBytes,
                                           keyId: checkpoint.keyId, signer: checkpoint.signer, at: checkpoint.issuedAt) {
            return JournalFault(position: checkpoint.position, reason: .checkpointSignature(rejection))
        }
        guard checkpoint.entryHash == head else {
            return JournalFault(position: checkpoint.position, reason: .checkpointMismatch(signed: checkpoint.entryHash, stored: head))
        }
        verifiedCheckpoints.append(checkpoint)
        return nil
    }

    /// Checks the next entry; returns the first fault (and keeps returning it).
    public mutating func check(_ record: JournalRecord) -> JournalFault? {
        if let firstFault { return firstFault }
        let fault = examine(record)
        firstFault = fault
        return fault
    }

    private mutating func examine(_ record: JournalRecord) -> JournalFault? {
        let e = record.entry
        guard e.position == position + 1 else {
            return JournalFault(position: e.position, reason: .positionOutOfOrder(expected: position + 1, found: e.position))
        }
        do {
            try Self.checkFields(eventId: e.eventId, topic: e.topic, partition: e.partition, offset: e.offset)
        } catch {
            return JournalFault(position: e.position, reason: .invalidField(error.description))
        }
        if let headers = record.headers {
            do {
                let hashed = try EventHashing.hash(headers: headers, value: record.value ?? [])
                guard hashed.hash == e.eventHash else {
                    return JournalFault(position: e.position, reason: .eventHashMismatch(stored: e.eventHash, computed: hashed.hash))
                }
                guard hashed.id == e.eventId else {
                    return JournalFault(position: e.position, reason: .eventIdMismatch(entry: e.eventId, record: hashed.id ?? "(none)"))
                }
            } catch {
                return JournalFault(position: e.position, reason: .unreadableRecord(error))
            }
        }
        let computed = JournalChain.entryHash(prevEntryHash: head, position: e.position, eventId: e.eventId, topic: e.topic,
                                              partition: e.partition, offset: e.offset, eventHash: e.eventHash)
        guard computed == e.entryHash else {
            return JournalFault(position: e.position, reason: .entryHashMismatch(stored: e.entryHash, computed: computed))
        }
        head = computed
        position = e.position
        if let due = pending.removeValue(forKey: position) {
            for checkpoint in due {
                if let fault = check(checkpoint) { return fault }
            }
        }
        return nil
    }

    /// The report so far with `fault`.
    func report(fault: JournalFault?) -> JournalReport {
        JournalReport(entriesVerified: position, head: head, checkpointsVerified: verifiedCheckpoints, fault: fault)
    }

    /// Ends verification: checkpoints beyond the last entry are a fault (entries removed at the end).
    public func finish() -> JournalReport {
        if let firstFault { return report(fault: firstFault) }
        if let beyond = pending.keys.min() {
            return report(fault: JournalFault(position: beyond, reason: .checkpointBeyondEnd(journalLength: position)))
        }
        return report(fault: nil)
    }
}

/// A signed statement by the projector: "my journal holds `position` entries, the last with hash
/// `entryHash`, and the view they produce has digest `viewDigest`" (`schemas/integrity.md` §7).
public struct JournalCheckpoint: Sendable, Hashable, Codable {
    /// The domain-separation first line of the signed bytes.
    public static let domain = "accord-journal-checkpoint-v1\n"

    /// The projector's URN, e.g. `urn:accord:projector:main`.
    public let signer: String
    /// The number of journal entries covered.
    public let position: Int64
    /// The entry hash at `position` (`Hash256.zero` when 0).
    public let entryHash: Hash256
    /// The digest of the view after applying entries 1…position (defined by the store).
    public let viewDigest: Hash256
    /// When it was signed.
    public let issuedAt: Timestamp
    /// The signing key's id.
    public let keyId: String
    /// Base64 Ed25519 signature over `signedBytes`.
    public let signature: String

    /// Creates a checkpoint from stored fields (no check of the signature).
    public init(signer: String, position: Int64, entryHash: Hash256, viewDigest: Hash256, issuedAt: Timestamp,
                keyId: String, signature: String) {
        self.signer = signer
        self.position = position
        self.entryHash = entryHash
        self.viewDigest = viewDigest
        self.issuedAt = issuedAt
        self.keyId = keyId
        self.signature = signature
    }

    /// Creates and signs a checkpoint with the projector's key.
    public static func signed(position: Int64, entryHash: Hash256, viewDigest: Hash256, issuedAt: Timestamp,
                              key: AgencySigningKey) throws(IntegrityError) -> JournalCheckpoint {
        guard position >= 0 else { throw IntegrityError(.invalidValue, field: "position", "must not be negative") }
        let bytes = canonicalBytes(signer: key.signer, position: position, entryHash: entryHash, viewDigest: viewDigest,
                                   issuedAt: issuedAt, keyId: key.keyId)
        return JournalCheckpoint(signer: key.signer, position: position, entryHash: entryHash, viewDigest: viewDigest,
                                 issuedAt: issuedAt, keyId: key.keyId, signature: try key.sign(bytes))
    }

    /// The exact bytes signed: `accord-journal-checkpoint-v1\n` then `name=value\n` for signer,
    /// position, entryHash, viewDigest, issuedAt, keyId, in that order.
    public var signedBytes: [UInt8] {
        JournalCheckpoint.canonicalBytes(signer: signer, position: position, entryHash: entryHash, viewDigest: viewDigest,
                                         issuedAt: issuedAt, keyId: keyId)
    }

    static func canonicalBytes(signer: String, position: Int64, entryHash: Hash256, viewDigest: Hash256,
                               issuedAt: Timestamp, keyId: String) -> [UInt8] {
        var out: [UInt8] = Array(domain.utf8)
        Canonical.line("signer", signer, to: &out)
        Canonical.line("position", String(position), to: &out)
        Canonical.line("entryHash", entryHash.hex, to: &out)
        Canonical.line("viewDigest", viewDigest.hex, to: &out)
        Canonical.line("issuedAt", issuedAt.rfc3339, to: &out)
        Canonical.line("keyId", keyId, to: &out)
        return out
    }

    /// Verifies the signature with `registry` (a key of `signer` valid at `issuedAt`); nil when it verifies.
    public func verifySignature(with registry: KeyRegistry) -> KeyRejection? {
        registry.verify(signature: signature, over: signedBytes, keyId: keyId, signer: signer, at: issuedAt)
    }
}
