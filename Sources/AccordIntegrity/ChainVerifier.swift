import AccordEvents

/// Where an accepted event sits in its chain.
public struct ChainLink: Sendable, Hashable, Codable {
    /// The chain.
    public let chain: ChainID
    /// 1-based position in the chain (its distance from genesis).
    public let position: Int64
    /// The event's hash.
    public let hash: Hash256
    /// The event's `ce_prevhash`.
    public let prevHash: Hash256
    /// The event's `sequence`.
    public let sequence: Int64
    /// The record's Kafka offset.
    public let offset: Int64
    /// True when another received event already extends the same predecessor: two events claim
    /// the same place in the chain, and at most one of them can be covered by the source's
    /// signed checkpoints. Worth an alert.
    public let forked: Bool

    /// A link as read back from a store.
    public init(chain: ChainID, position: Int64, hash: Hash256, prevHash: Hash256, sequence: Int64, offset: Int64,
                forked: Bool) {
        self.chain = chain
        self.position = position
        self.hash = hash
        self.prevHash = prevHash
        self.sequence = sequence
        self.offset = offset
        self.forked = forked
    }
}

/// Why an event was refused by `ChainVerifier`; `description` is the dead-letter reason.
public enum EventRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The record could not be hashed (bad attribute header).
    case unhashable(IntegrityError)
    /// No `ce_source`.
    case missingSource
    /// The source has no key in the registry: it is not a member of the partnership.
    case unknownSource(String)
    /// No `ce_prevhash`: the event is not part of any chain.
    case unchained
    /// `ce_prevhash` is not 64 lower-case hex digits.
    case malformedPrevHash(String)
    /// `ce_sequence` is missing or not a decimal integer ≥ 1.
    case malformedSequence(String?)
    /// `ce_prevhash` names no event received in this chain (nor the verified head).
    case brokenChain(chain: ChainID, expected: Hash256, found: Hash256)
    /// An event with exactly the same hash was already received in this chain.
    case replayed(chain: ChainID, hash: Hash256)
    /// The sequence does not increase along the chain.
    case sequenceNotIncreasing(chain: ChainID, previous: Int64, found: Int64)
    /// Too many events are waiting for a checkpoint; the source is not issuing them.
    case checkpointOverdue(chain: ChainID, unverified: Int)

    /// A stable short code for metrics and dead-letter headers.
    public var code: String {
        switch self {
        case .unhashable: "unhashable"
        case .missingSource: "missing-source"
        case .unknownSource: "unknown-source"
        case .unchained: "unchained"
        case .malformedPrevHash: "malformed-prevhash"
        case .malformedSequence: "malformed-sequence"
        case .brokenChain: "broken-chain"
        case .replayed: "replayed"
        case .sequenceNotIncreasing: "sequence-not-increasing"
        case .checkpointOverdue: "checkpoint-overdue"
        }
    }

    /// A specific, human-readable reason.
    public var description: String {
        switch self {
        case .unhashable(let e): "unhashable: \(e)"
        case .missingSource: "missing ce_source"
        case .unknownSource(let s): "unknown source \(s.prefix(120)): it has no key in the key registry"
        case .unchained: "unsigned/unchained: no ce_prevhash"
        case .malformedPrevHash(let t): "ce_prevhash \"\(t.prefix(80))\" is not 64 lower-case hex digits"
        case .malformedSequence(let t): "ce_sequence \"\((t ?? "").prefix(30))\" is not an integer ≥ 1"
        case .brokenChain(let c, let expected, let found): "broken chain \(c): expected \(expected) got \(found)"
        case .replayed(let c, let h): "replayed: event \(h) was already received in chain \(c)"
        case .sequenceNotIncreasing(let c, let p, let f): "sequence \(f) does not follow \(p) in chain \(c)"
        case .checkpointOverdue(let c, let n): "checkpoint overdue: \(n) events of chain \(c) await a signed checkpoint"
        }
    }
}

/// The verifier's answer for one event record.
public enum EventVerdict: Sendable, Hashable {
    /// Linked into its chain; show as provisional until a checkpoint covers it.
    case provisional(ChainLink)
    /// This chain already had a record at or after this offset: a redelivery; skip it.
    case duplicate(offset: Int64)
    /// Refused: dead-letter it with `description` as the reason.
    case rejected(EventRejection)
    /// Cannot be linked until events missing from the chain are fetched from its source: keep the
    /// record and apply it once the chain's gap is filled.
    case held(ChainID)
}

/// Why a checkpoint was refused; `description` is the dead-letter reason.
public enum CheckpointRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The record could not be decoded.
    case unreadable(IntegrityError)
    /// The checkpoint names another topic or partition than the one it was read from.
    case wrongChain(checkpoint: ChainID, topic: String, partition: Int32)
    /// The source's agency kind does not own the topic.
    case sourceNotTopicOwner(source: String, topic: String)
    /// The signature was not accepted (unknown key, other signer's key, key not valid then, bad signature).
    case key(KeyRejection)
    /// The checkpoint covers more events than were received: events are missing.
    case countAhead(chain: ChainID, claimed: Int64, received: Int64)
    /// The signed head is not the hash received at that position: an event was altered, forged or lost.
    case headMismatch(chain: ChainID, position: Int64, claimed: Hash256, received: [Hash256])
    /// The signed last sequence differs from the sequence of the event at the head.
    case sequenceMismatch(chain: ChainID, position: Int64, claimed: Int64, received: Int64)
    /// The checkpoint is older than one already verified.
    case stale(chain: ChainID, count: Int64, verified: Int64)

    /// A stable short code for metrics and dead-letter headers.
    public var code: String {
        switch self {
        case .unreadable: "unreadable"
        case .wrongChain: "wrong-chain"
        case .sourceNotTopicOwner: "source-not-topic-owner"
        case .key(let k):
            switch k {
            case .unknownKey: "unknown-key"
            case .keyOfOtherSigner: "wrong-source"
            case .keyNotValid: "key-not-valid"
            case .malformedSignature, .badSignature: "bad-signature"
            }
        case .countAhead: "count-ahead"
        case .headMismatch: "head-mismatch"
        case .sequenceMismatch: "sequence-mismatch"
        case .stale: "stale"
        }
    }

    /// A specific, human-readable reason.
    public var description: String {
        switch self {
        case .unreadable(let e): "unreadable checkpoint: \(e)"
        case .wrongChain(let c, let t, let p): "checkpoint of \(c) read from \(t)/\(p)"
        case .sourceNotTopicOwner(let s, let t): "\(s) does not own topic \(t)"
        case .key(let k): k.description
        case .countAhead(let c, let claimed, let received):
            "checkpoint of \(c) covers \(claimed) events but only \(received) were received: events missing"
        case .headMismatch(let c, let p, let claimed, let received):
            "checkpoint of \(c) signs head \(claimed) at position \(p) but received \(received.isEmpty ? "nothing there" : received.map(\.hex).joined(separator: ", "))"
        case .sequenceMismatch(let c, let p, let claimed, let received):
            "checkpoint of \(c) signs sequence \(claimed) at position \(p) but the event there has \(received)"
        case .stale(let c, let count, let verified):
            "checkpoint of \(c) at \(count) precedes the verified position \(verified)"
        }
    }
}

/// What a verified checkpoint settled.
public struct CheckpointCoverage: Sendable, Hashable {
    /// The checkpoint.
    public let checkpoint: ChainCheckpoint
    /// Events that became verified, in chain order (empty when nothing new was covered).
    public let verified: [ChainLink]
    /// Events that can now never be verified: they sat on a branch the signed chain does not take
    /// (forged or wrongly attributed). Retract them from the view and dead-letter them.
    public let orphaned: [ChainLink]
}

/// The verifier's answer for one checkpoint record.
public enum CheckpointVerdict: Sendable, Hashable {
    /// Signed by the source and consistent with what was received.
    case verified(CheckpointCoverage)
    /// This chain already had a record at or after this offset: a redelivery; skip it.
    case duplicate(offset: Int64)
    /// Refused: dead-letter it with `description` as the reason.
    case rejected(CheckpointRejection)
    /// Covers events missing from the chain, or arrived while the chain waits for them: keep the
    /// record and settle it once the chain's gap is filled.
    case held(ChainID)
}

/// The verifier's answer for any record of an event topic.
public enum RecordVerdict: Sendable, Hashable {
    /// The record is an event.
    case event(EventVerdict)
    /// The record is a chain checkpoint.
    case checkpoint(CheckpointVerdict)
}

/// Events missing from a chain: the records that came after them wait, held, until the missing
/// range is fetched from the chain's source and verified (`schemas/integrity.md` §6.6).
public struct ChainGap: Sendable, Hashable, Codable {
    /// How the gap showed.
    public enum Cause: String, Sendable, Hashable, Codable {
        /// An event's `ce_prevhash` names no event received in the chain.
        case brokenLink = "broken-link"
        /// A checkpoint covers more events than were received.
        case checkpointAhead = "checkpoint-ahead"
        /// Records of the chain's partition were skipped unread (an offset reset).
        case unreadRecords = "unread-records"
    }

    /// How the gap showed first.
    public var cause: Cause
    /// Records of the chain held since, waiting for the gap to be filled.
    public var held: Int
    /// Offset of the first held record, nil while none is held.
    public var firstHeldOffset: Int64?
    /// The hash the first held event extends, which the chain does not have yet.
    public var awaitedHash: Hash256?
    /// The count of the first held checkpoint, more than the chain has received.
    public var awaitedCount: Int64?
    /// The last position fetched from the source so far, while a long gap is filled in steps.
    public var filledThrough: Int64?

    /// A gap that showed by `cause`, nothing held yet.
    public init(cause: Cause) {
        self.cause = cause
        held = 0
    }
}

/// The verifier's state of one chain. `Codable`: store it with the consumer offsets (in the
/// same transaction) and `restore` it when a projector instance takes over the partition.
public struct ChainState: Sendable, Hashable, Codable {
    /// The chain.
    public let chain: ChainID
    /// Events covered by verified checkpoints (positions 1…verifiedCount).
    public private(set) var verifiedCount: Int64
    /// Hash at `verifiedCount` (`Hash256.zero` at genesis).
    public private(set) var verifiedHead: Hash256
    /// Sequence at `verifiedCount` (0 at genesis).
    public private(set) var verifiedSequence: Int64
    /// The highest offset read from this chain, -1 before any.
    public private(set) var lastOffset: Int64
    /// Accepted events not yet covered by a checkpoint, in offset order.
    public private(set) var unverified: [ChainLink]
    /// Events are missing: later records wait, held, until they are fetched; nil when none is known missing.
    public internal(set) var gap: ChainGap?
    private var extendedVerifiedHead: Bool
    private var indexByHash: [Hash256: Int]
    private var extended: Set<Hash256>

    /// The empty chain at genesis.
    public init(chain: ChainID) {
        self.init(chain: chain, verifiedCount: 0, verifiedHead: .zero, verifiedSequence: 0, lastOffset: -1)
    }

    /// A chain whose first `verifiedCount` events are taken as verified (an anchor).
    init(chain: ChainID, verifiedCount: Int64, verifiedHead: Hash256, verifiedSequence: Int64, lastOffset: Int64) {
        self.chain = chain
        self.verifiedCount = verifiedCount
        self.verifiedHead = verifiedHead
        self.verifiedSequence = verifiedSequence
        self.lastOffset = lastOffset
        unverified = []
        gap = nil
        extendedVerifiedHead = false
        indexByHash = [:]
        extended = []
    }

    /// The highest position received (verified or not).
    public var receivedCount: Int64 { unverified.map(\.position).max() ?? verifiedCount }

    /// The hash the next event is expected to extend: the last accepted event, or the verified head.
    public var tip: Hash256 { unverified.last?.hash ?? verifiedHead }

    enum CodingKeys: String, CodingKey {
        case chain, verifiedCount, verifiedHead, verifiedSequence, lastOffset, unverified, gap
    }

    /// A stored state: `head`'s scalar fields (its own links, if any, are replaced) and the
    /// accepted events not yet covered by a checkpoint, in offset order.
    public init(restoring head: ChainState, unverified links: [ChainLink]) {
        self.init(chain: head.chain, verifiedCount: head.verifiedCount, verifiedHead: head.verifiedHead,
                  verifiedSequence: head.verifiedSequence, lastOffset: head.lastOffset)
        gap = head.gap
        rebuild(links)
    }

    /// The same state without its unverified links: the fixed-size part a store writes on every
    /// batch, while the links are stored one row each as they arrive.
    public var head: ChainState {
        var head = ChainState(chain: chain, verifiedCount: verifiedCount, verifiedHead: verifiedHead,
                              verifiedSequence: verifiedSequence, lastOffset: lastOffset)
        head.gap = gap
        return head
    }

    /// Decodes a stored state and rebuilds its indexes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(chain: try c.decode(ChainID.self, forKey: .chain),
                  verifiedCount: try c.decode(Int64.self, forKey: .verifiedCount),
                  verifiedHead: try c.decode(Hash256.self, forKey: .verifiedHead),
                  verifiedSequence: try c.decode(Int64.self, forKey: .verifiedSequence),
                  lastOffset: try c.decode(Int64.self, forKey: .lastOffset))
        gap = try c.decodeIfPresent(ChainGap.self, forKey: .gap)
        rebuild(try c.decode([ChainLink].self, forKey: .unverified))
    }

    /// Encodes the state (indexes are rebuilt on decoding).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(chain, forKey: .chain)
        try c.encode(verifiedCount, forKey: .verifiedCount)
        try c.encode(verifiedHead, forKey: .verifiedHead)
        try c.encode(verifiedSequence, forKey: .verifiedSequence)
        try c.encode(lastOffset, forKey: .lastOffset)
        try c.encode(unverified, forKey: .unverified)
        try c.encodeIfPresent(gap, forKey: .gap)
    }

    /// Equal when the stored fields are equal.
    public static func == (lhs: ChainState, rhs: ChainState) -> Bool {
        lhs.chain == rhs.chain && lhs.verifiedCount == rhs.verifiedCount && lhs.verifiedHead == rhs.verifiedHead
            && lhs.verifiedSequence == rhs.verifiedSequence && lhs.lastOffset == rhs.lastOffset
            && lhs.unverified == rhs.unverified && lhs.gap == rhs.gap
    }

    /// Hashes the stored fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(chain)
        hasher.combine(verifiedCount)
        hasher.combine(verifiedHead)
        hasher.combine(lastOffset)
        hasher.combine(unverified.count)
    }

    private mutating func rebuild(_ links: [ChainLink]) {
        unverified = links
        indexByHash = [:]
        extended = []
        extendedVerifiedHead = false
        for (i, link) in links.enumerated() {
            indexByHash[link.hash] = i
            if link.prevHash == verifiedHead { extendedVerifiedHead = true } else { extended.insert(link.prevHash) }
        }
    }

    mutating func accept(_ hashed: HashedEvent, prev: Hash256, sequence: Int64, offset: Int64,
                         maxUnverified: Int, mode: ChainVerifier.GapHandling) -> EventVerdict {
        if mode == .filling {
            // A record of the chain fetched from its source, or held: possibly before the last offset read.
            if (hashed.hash == verifiedHead && verifiedCount > 0) || indexByHash[hashed.hash] != nil {
                return .duplicate(offset: offset)
            }
            lastOffset = max(lastOffset, offset)
        } else {
            guard offset > lastOffset else { return .duplicate(offset: offset) }
            lastOffset = offset
            if mode == .hold, gap != nil { return hold() }
            if (hashed.hash == verifiedHead && verifiedCount > 0) || indexByHash[hashed.hash] != nil {
                return .rejected(.replayed(chain: chain, hash: hashed.hash))
            }
        }
        let parentPosition: Int64
        let parentSequence: Int64
        let forked: Bool
        if prev == verifiedHead {
            parentPosition = verifiedCount
            parentSequence = verifiedSequence
            forked = extendedVerifiedHead
        } else if let i = indexByHash[prev] {
            parentPosition = unverified[i].position
            parentSequence = unverified[i].sequence
            forked = extended.contains(prev)
        } else if mode == .hold {
            var opened = ChainGap(cause: .brokenLink)
            opened.awaitedHash = prev
            gap = opened
            return hold()
        } else {
            return .rejected(.brokenChain(chain: chain, expected: tip, found: prev))
        }
        guard sequence > parentSequence else {
            return .rejected(.sequenceNotIncreasing(chain: chain, previous: parentSequence, found: sequence))
        }
        guard unverified.count < maxUnverified else {
            return .rejected(.checkpointOverdue(chain: chain, unverified: unverified.count))
        }
        if prev == verifiedHead { extendedVerifiedHead = true } else { extended.insert(prev) }
        let link = ChainLink(chain: chain, position: parentPosition + 1, hash: hashed.hash, prevHash: prev,
                             sequence: sequence, offset: offset, forked: forked)
        indexByHash[hashed.hash] = unverified.count
        unverified.append(link)
        return .provisional(link)
    }

    /// Holds one more record of the chain behind its gap.
    private mutating func hold() -> EventVerdict {
        gap?.held += 1
        return .held(chain)
    }

    /// Opens a gap (when none is open): the chain's records wait from now on until it is filled.
    mutating func open(_ cause: ChainGap.Cause) {
        if gap == nil { gap = ChainGap(cause: cause) }
    }

    /// Closes the gap: the chain's source has been read to its end; `released` held records
    /// were given back to be applied.
    mutating func close() { gap = nil }

    /// Marks the offset as read without accepting anything; false when it is a redelivery.
    mutating func consume(offset: Int64) -> Bool {
        guard offset > lastOffset else { return false }
        lastOffset = offset
        return true
    }

    /// Counts an offset as read while filling: records may come before the last one read.
    mutating func consumeFilling(offset: Int64) { lastOffset = max(lastOffset, offset) }

    /// Matches a checkpoint whose signature has been verified against what was received.
    mutating func settle(_ checkpoint: ChainCheckpoint, mode: ChainVerifier.GapHandling) -> CheckpointVerdict {
        let count = checkpoint.count
        if mode == .hold, gap != nil {
            gap?.held += 1
            return .held(chain)
        }
        if mode == .filling, count < verifiedCount {
            return .duplicate(offset: lastOffset)  // settled already, by a newer checkpoint of the range
        }
        if count < verifiedCount {
            return .rejected(.stale(chain: chain, count: count, verified: verifiedCount))
        }
        if count == verifiedCount {
            guard checkpoint.head == verifiedHead else {
                return .rejected(.headMismatch(chain: chain, position: count, claimed: checkpoint.head, received: [verifiedHead]))
            }
            guard checkpoint.lastSequence == verifiedSequence else {
                return .rejected(.sequenceMismatch(chain: chain, position: count, claimed: checkpoint.lastSequence,
                                                   received: verifiedSequence))
            }
            return .verified(CheckpointCoverage(checkpoint: checkpoint, verified: [], orphaned: []))
        }
        guard let headIndex = indexByHash[checkpoint.head], unverified[headIndex].position == count else {
            let received = receivedCount
            if count > received {
                if mode == .hold {
                    var opened = ChainGap(cause: .checkpointAhead)
                    opened.awaitedCount = count
                    opened.held = 1
                    gap = opened
                    return .held(chain)
                }
                return .rejected(.countAhead(chain: chain, claimed: count, received: received))
            }
            return .rejected(.headMismatch(chain: chain, position: count, claimed: checkpoint.head,
                                           received: unverified.filter { $0.position == count }.map(\.hash)))
        }
        guard unverified[headIndex].sequence == checkpoint.lastSequence else {
            return .rejected(.sequenceMismatch(chain: chain, position: count, claimed: checkpoint.lastSequence,
                                               received: unverified[headIndex].sequence))
        }
        // The path from the signed head back to the verified head is now verified.
        var onPath = Set<Int>()
        var i = headIndex
        while true {
            onPath.insert(i)
            let prev = unverified[i].prevHash
            if prev == verifiedHead && unverified[i].position == verifiedCount + 1 { break }
            guard let next = indexByHash[prev] else { break }  // unreachable: every link's parent is known
            i = next
        }
        // Descendants of the signed head stay provisional; everything else can never be verified.
        var survivors: Set<Hash256> = [checkpoint.head]
        var kept: [ChainLink] = []
        var verified: [ChainLink] = []
        var orphaned: [ChainLink] = []
        for (j, link) in unverified.enumerated() {
            if onPath.contains(j) {
                verified.append(link)
            } else if survivors.contains(link.prevHash) {
                survivors.insert(link.hash)
                kept.append(link)
            } else {
                orphaned.append(link)
            }
        }
        verifiedCount = count
        verifiedHead = checkpoint.head
        verifiedSequence = checkpoint.lastSequence
        rebuild(kept)
        verified.sort { $0.position < $1.position }
        return .verified(CheckpointCoverage(checkpoint: checkpoint, verified: verified, orphaned: orphaned))
    }
}

/// The projector's integrity check of agency streams: a pure state machine, one `ChainState`
/// per `(source, topic, partition)`.
///
/// Feed it every record of the partitions it owns, in offset order: events (hashed from their
/// exact bytes) become `.provisional` when they extend their chain; a checkpoint signed by the
/// source with a key valid at its `issuedAt` turns the events it covers `.verified`. See
/// `schemas/integrity.md` §6 for every rule.
public struct ChainVerifier: Sendable {
    /// What to do with a record that shows events missing from its chain.
    public enum GapHandling: Sendable, Hashable {
        /// Refuse it (`broken-chain`, `count-ahead`): for an audit of what the topic holds.
        case refuse
        /// Hold it, and every later record of the chain, until the missing events are fetched
        /// from the chain's source and given back with `fill`: for a projector.
        case hold
        /// Records fetched from the chain's source or given back after being held (`fill`).
        case filling
    }

    /// The trusted public keys.
    public var registry: KeyRegistry
    /// How many unverified events one chain may hold before further events are refused as
    /// `checkpointOverdue` (bounds memory when a source stops issuing checkpoints).
    public var maxUnverifiedPerChain: Int
    /// What a record that shows a gap gets: refused (the default) or held.
    public var gapHandling: GapHandling
    /// Every chain seen, by identity.
    public private(set) var chains: [ChainID: ChainState] = [:]

    /// Creates a verifier with no chain state.
    public init(registry: KeyRegistry, maxUnverifiedPerChain: Int = 100_000, gapHandling: GapHandling = .refuse) {
        self.registry = registry
        self.maxUnverifiedPerChain = max(1, maxUnverifiedPerChain)
        self.gapHandling = gapHandling == .filling ? .hold : gapHandling
    }

    /// The state of one chain, if any record of it was accepted.
    public func state(of chain: ChainID) -> ChainState? { chains[chain] }

    /// Chains waiting for missing events, in a stable order.
    public var chainsWithGaps: [ChainState] {
        chains.values.filter { $0.gap != nil }
            .sorted { ($0.chain.source, $0.chain.topic, $0.chain.partition) < ($1.chain.source, $1.chain.topic, $1.chain.partition) }
    }

    /// Restores a stored chain state (when taking over a partition), replacing any held.
    public mutating func restore(_ state: ChainState) { chains[state.chain] = state }

    /// Forgets the chains of a partition (when giving the partition up).
    public mutating func release(topic: String, partition: Int32) {
        chains = chains.filter { !($0.key.topic == topic && $0.key.partition == partition) }
    }

    /// Opens a gap in `chain` (creating its state when it has none): records of a partition were
    /// skipped, so its source is asked for what the chain holds before anything more of it is applied.
    public mutating func openGap(in chain: ChainID, cause: ChainGap.Cause) {
        chains[chain, default: ChainState(chain: chain)].open(cause)
    }

    /// Closes the gap of `chain`: its source's records were fetched to its end and given back with
    /// `fill`, and so were the records held behind the gap.
    public mutating func closeGap(in chain: ChainID) {
        chains[chain]?.close()
    }

    /// Notes a step of filling `chain`'s gap: its source was read through `position`, and
    /// `released` held records were given back with `fill`.
    public mutating func noteFilled(in chain: ChainID, through position: Int64, released: Int) {
        chains[chain]?.gap?.filledThrough = position
        if let held = chains[chain]?.gap?.held { chains[chain]?.gap?.held = max(0, held - released) }
    }

    /// Accepts any record read from an event topic: checkpoints by their kind header, everything
    /// else as an event.
    public mutating func accept(record: BinaryMessage, topic: String, partition: Int32, offset: Int64) -> RecordVerdict {
        accept(record: record, topic: topic, partition: partition, offset: offset, mode: gapHandling)
    }

    /// Accepts a record of a chain with a gap that was fetched from the chain's source, or held
    /// and now given back: in the chain's own offset order, which may be before the last offset
    /// read. A record already received is a `.duplicate`; an event whose predecessor the chain
    /// does not have is refused (`broken-chain`): its source's own chain does not contain it.
    public mutating func fill(record: BinaryMessage, topic: String, partition: Int32, offset: Int64) -> RecordVerdict {
        accept(record: record, topic: topic, partition: partition, offset: offset, mode: .filling)
    }

    private mutating func accept(record: BinaryMessage, topic: String, partition: Int32, offset: Int64,
                                 mode: GapHandling) -> RecordVerdict {
        if ChainCheckpoint.isCheckpointRecord(record) {
            let checkpoint: ChainCheckpoint
            do {
                checkpoint = try ChainCheckpoint(record: record)
            } catch {
                return .checkpoint(.rejected(.unreadable(error)))
            }
            return .checkpoint(accept(checkpoint: checkpoint, topic: topic, partition: partition, offset: offset, mode: mode))
        }
        let hashed: HashedEvent
        do {
            hashed = try EventHashing.hash(message: record)
        } catch {
            return .event(.rejected(.unhashable(error)))
        }
        return .event(accept(event: hashed, topic: topic, partition: partition, offset: offset, mode: mode))
    }

    /// Links a hashed event into its chain `(ce_source, topic, partition)`.
    /// A refused event leaves the chain unchanged except that its offset counts as read.
    public mutating func accept(event hashed: HashedEvent, topic: String, partition: Int32, offset: Int64) -> EventVerdict {
        accept(event: hashed, topic: topic, partition: partition, offset: offset, mode: gapHandling)
    }

    private mutating func accept(event hashed: HashedEvent, topic: String, partition: Int32, offset: Int64,
                                 mode: GapHandling) -> EventVerdict {
        guard let source = hashed.source else { return .rejected(.missingSource) }
        guard registry.hasKeys(for: source) else { return .rejected(.unknownSource(source)) }
        let chain = ChainID(source: source, topic: topic, partition: partition)
        guard let prevText = hashed.prevHash else {
            _ = chains[chain]?.consume(offset: offset)
            return .rejected(.unchained)
        }
        guard let prev = Hash256(hex: prevText) else {
            _ = chains[chain]?.consume(offset: offset)
            return .rejected(.malformedPrevHash(prevText))
        }
        guard let sequence = ChainWriter.parseSequence(hashed.sequence) else {
            _ = chains[chain]?.consume(offset: offset)
            return .rejected(.malformedSequence(hashed.sequence))
        }
        if chains[chain] == nil {
            var fresh = ChainState(chain: chain)
            let verdict = fresh.accept(hashed, prev: prev, sequence: sequence, offset: offset,
                                       maxUnverified: maxUnverifiedPerChain, mode: mode)
            switch verdict {
            case .provisional, .held: chains[chain] = fresh
            case .duplicate, .rejected: break
            }
            return verdict
        }
        return chains[chain, default: ChainState(chain: chain)]
            .accept(hashed, prev: prev, sequence: sequence, offset: offset, maxUnverified: maxUnverifiedPerChain, mode: mode)
    }

    /// True when the chain `(source, topic, partition)` already read a record at or after `offset`.
    public func isRead(source: String, topic: String, partition: Int32, offset: Int64) -> Bool {
        guard let state = chains[ChainID(source: source, topic: topic, partition: partition)] else { return false }
        return offset <= state.lastOffset
    }

    /// Counts a record another check refused as read in the chain `(source, topic, partition)`,
    /// without giving it a place in the chain: a redelivery of it is then recognised. Returns
    /// false when the offset was already read.
    @discardableResult
    public mutating func consume(source: String, topic: String, partition: Int32, offset: Int64) -> Bool {
        let chain = ChainID(source: source, topic: topic, partition: partition)
        return chains[chain]?.consume(offset: offset) ?? true
    }

    /// Checks a checkpoint read from `topic`/`partition` at `offset`: it must name that chain,
    /// its source must own the topic, its signature must verify with a registered key of that
    /// source valid at `issuedAt`, and its count, head and last sequence must match what was received.
    public mutating func accept(checkpoint: ChainCheckpoint, topic: String, partition: Int32, offset: Int64) -> CheckpointVerdict {
        accept(checkpoint: checkpoint, topic: topic, partition: partition, offset: offset, mode: gapHandling)
    }

    private mutating func accept(checkpoint: ChainCheckpoint, topic: String, partition: Int32, offset: Int64,
                                 mode: GapHandling) -> CheckpointVerdict {
        let chain = checkpoint.chain
        guard chain.topic == topic, chain.partition == partition else {
            return .rejected(.wrongChain(checkpoint: chain, topic: topic, partition: partition))
        }
        guard let source = EventSource(urn: chain.source), let owner = AccordTopic(name: topic)?.owner,
              source.kind == owner else {
            return .rejected(.sourceNotTopicOwner(source: chain.source, topic: topic))
        }
        if mode == .filling {
            if let state = chains[chain], offset <= state.lastOffset, checkpoint.count <= state.verifiedCount {
                return .duplicate(offset: offset)
            }
            chains[chain]?.consumeFilling(offset: offset)
        } else {
            if let state = chains[chain], offset <= state.lastOffset { return .duplicate(offset: offset) }
            _ = chains[chain]?.consume(offset: offset)
        }
        if let rejection = registry.verify(signature: checkpoint.signature, over: checkpoint.signedBytes,
                                           keyId: checkpoint.keyId, signer: chain.source, at: checkpoint.issuedAt) {
            return .rejected(.key(rejection))
        }
        if chains[chain] == nil {
            var fresh = ChainState(chain: chain)
            _ = fresh.consume(offset: offset)
            let verdict = fresh.settle(checkpoint, mode: mode)
            switch verdict {
            case .verified, .held: chains[chain] = fresh
            case .duplicate, .rejected: break
            }
            return verdict
        }
        return chains[chain, default: ChainState(chain: chain)].settle(checkpoint, mode: mode)
    }

    /// Starts (or restarts) a chain from a checkpoint whose signature verifies, taking its first
    /// `count` events as verified without having seen them. For a projector that begins after the
    /// topic's retention dropped the chain's start, or an operator resynchronising a broken chain.
    /// Returns the unverified events that were dropped (now orphaned), or the rejection.
    public mutating func anchor(at checkpoint: ChainCheckpoint, offset: Int64) -> Result<[ChainLink], CheckpointRejection> {
        let chain = checkpoint.chain
        if let rejection = registry.verify(signature: checkpoint.signature, over: checkpoint.signedBytes,
                                           keyId: checkpoint.keyId, signer: chain.source, at: checkpoint.issuedAt) {
            return .failure(.key(rejection))
        }
        let dropped = chains[chain]?.unverified ?? []
        chains[chain] = ChainState(chain: chain, verifiedCount: checkpoint.count, verifiedHead: checkpoint.head,
                                   verifiedSequence: checkpoint.lastSequence,
                                   lastOffset: max(offset, chains[chain]?.lastOffset ?? -1))
        return .success(dropped)
    }
}
