import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import Foundation

/// `accord audit verify`'s library: checks a projector store's whole journal against the
/// agencies' key registry and the projector's key (`schemas/integrity.md` §6–§7).
///
/// In one pass over the journal in position order it checks (a) the journal hash chain —
/// positions 1, 2, 3 … without gaps, valid fields, each entry hash recomputed over the previous
/// one; (b) each stored record: its headers and value hash to the journaled event hash, its
/// `ce_id`, `ce_source` and `ce_sequence` agree with the entry's columns, and its `ce_prevhash`
/// is the hash of its predecessor in its source chain; (d) each signed journal checkpoint when
/// its position is reached (signature with the projector's key, entry hash). Then (c) every
/// stored agency checkpoint: signature with a key of its source valid when issued, and its head
/// and last sequence against the stored chain; and that every entry marked verified is covered
/// by one. It reports the first fault, and (e) per-source sequence gaps as findings. It also
/// replays the journal through the projection (with the projector's `rules`) and compares the
/// view digest at each journal checkpoint with the one the projector signed.
public enum JournalAudit {
    /// Opens the store at `path` read-only and verifies it.
    public static func verify(storePath path: String, registry: KeyRegistry, projectorKeys: KeyRegistry? = nil,
                              rules: ProjectionRules = .defaults, upcaster: EventUpcaster = .none) throws -> AuditSummary {
        let store = try ProjectorStore(readOnlyPath: path)
        return verify(store: store, registry: registry, projectorKeys: projectorKeys, rules: rules, upcaster: upcaster)
    }

    /// A verifier for reports: verifies the store at a path with these keys (and the projector's
    /// `rules` and `upcaster`, for the view digest replay).
    public static func reportVerifier(registry: KeyRegistry, projectorKeys: KeyRegistry? = nil,
                                      rules: ProjectionRules = .defaults, upcaster: EventUpcaster = .none)
        -> @Sendable (String) throws -> VerificationOutcome {
        { path in try verify(storePath: path, registry: registry, projectorKeys: projectorKeys, rules: rules, upcaster: upcaster).outcome }
    }

    /// Verifies `store`. Agency checkpoints are checked with `registry`; journal checkpoints with
    /// `projectorKeys` (plus `registry`), or only for their entry hash when no key of their signer is known.
    /// The view digests compare only when `rules` and `upcaster` are the projector's.
    public static func verify(store: ProjectorStore, registry: KeyRegistry, projectorKeys: KeyRegistry? = nil,
                              rules: ProjectionRules = .defaults, upcaster: EventUpcaster = .none) -> AuditSummary {
        var audit = Walk(registry: registry, rules: rules, upcaster: upcaster)
        audit.run(store: store, projectorKeys: projectorKeys)
        return audit.summary
    }

    /// One event of a source chain as found in the journal.
    struct ChainEvent {
        let hash: Hash256
        let sequence: Int64
        let position: Int64
        let retracted: Bool
        /// The predecessor's event hash (`ce_prevhash`).
        let prev: Hash256
        /// The journaled entry, for naming it.
        let entry: JournaledEvent
    }

    /// An event whose predecessor on its chain is not journaled yet: a forgery took the
    /// predecessor's place (and id), and the genuine predecessor was journaled once the forgery
    /// was retracted.
    struct AwaitedLink {
        let prev: Hash256
        let sequence: Int64
        let entry: JournaledEvent
        let chainPosition: Int64
    }

    /// The fault of an event whose ce_prevhash names none of the events journaled at the place before it.
    static func brokenLink(_ chain: ChainID, chainPosition: Int64, prev: Hash256, entry: JournaledEvent,
                           predecessors: [ChainEvent]) -> AuditFault {
        AuditFault(kind: .chainLink, entry: entry,
                   message: "broken chain \(chain) at position \(chainPosition): ce_prevhash \(prev) but the journaled event at position \(chainPosition - 1) has hash \(predecessors.map(\.hash.hex).joined(separator: ", "))")
    }

    /// The state of one audit.
    struct Walk {
        let registry: KeyRegistry
        var summary = AuditSummary()
        /// Journaled events by chain and chain position (several when the chain forked).
        var chains: [ChainID: [Int64: [ChainEvent]]] = [:]
        /// Links to a predecessor journaled later, by chain and the predecessor's chain position.
        var awaited: [ChainID: [Int64: [AwaitedLink]]] = [:]
        /// Sources with at least one key in the registry.
        var registered: Set<String> = []
        /// Verified and provisional counts by source.
        var standings: [String: AuditSummary.SourceStanding] = [:]
        /// Sequences seen per source.
        var sequences: [String: [Int64]] = [:]
        /// Entries marked verified, by chain: the highest chain position marked, and where.
        var highestVerified: [ChainID: (chainPosition: Int64, entry: JournaledEvent)] = [:]
        /// The view replayed from the journal so far, in a scratch store; nil once an entry no
        /// longer decodes (or the scratch store cannot be written).
        var replay: ScratchView?
        /// Entries waiting to be replayed (applied at the next journal checkpoint or retraction, or
        /// every few thousand).
        var pendingReplay: [(entry: JournaledEvent, event: AccordEvent)] = []
        /// Journal checkpoints by position, for the view digest comparison.
        var digests: [Int64: [JournalCheckpoint]] = [:]
        /// Retractions by the journal position after which the projector made them.
        var retractions: [Int64: [StoredRetraction]] = [:]
        let codec = EventCodec()

        init(registry: KeyRegistry, rules: ProjectionRules, upcaster: EventUpcaster) {
            self.registry = registry
            registered = Set(registry.keys.map(\.source))
            replay = try? ScratchView(rules: rules, upcaster: upcaster)
            if replay == nil { summary.notes.append("view digests were not compared: no scratch store could be created") }
        }

        mutating func run(store: ProjectorStore, projectorKeys: KeyRegistry?) {
            let journalCheckpoints: [JournalCheckpoint]
            do {
                journalCheckpoints = try store.journalCheckpoints()
            } catch {
                summary.fault = AuditFault(kind: .unreadable, message: "journal checkpoints: \(error)")
                return
            }
            let signatureKeys = Self.signatureRegistry(for: journalCheckpoints, projectorKeys: projectorKeys, registry: registry)
            summary.journalSignaturesChecked = signatureKeys != nil || journalCheckpoints.isEmpty
            if signatureKeys == nil, !journalCheckpoints.isEmpty {
                let signers = Set(journalCheckpoints.map(\.signer)).sorted().joined(separator: ", ")
                summary.notes.append("no public key of \(signers) was given (--projector-key-pub): journal checkpoint signatures were not checked")
            }
            var journal = AccordIntegrity.JournalVerifier(checkpoints: journalCheckpoints, registry: signatureKeys)
            for checkpoint in journalCheckpoints { digests[checkpoint.position, default: []].append(checkpoint) }
            do {
                for stored in try store.retractions() {
                    retractions[stored.afterPosition, default: []].append(stored)
                    summary.retracted.append(AuditSummary.RetractedEntry(position: stored.position, eventId: stored.eventId,
                                                                         afterPosition: stored.afterPosition,
                                                                         reason: stored.retraction.reason))
                }
            } catch {
                summary.fault = AuditFault(kind: .unreadable, message: "retractions: \(error)")
                return
            }
            defer { replay?.remove() }
            if let fault = compareDigests(at: 0, entry: nil) {
                summary.fault = fault
                return
            }
            do {
                try store.forEachJournalEntry { entry in
                    if let fault = check(entry, journal: &journal) { throw Stop(fault: fault) }
                }
            } catch let stop as Stop {
                summary.fault = stop.fault
                return
            } catch {
                summary.fault = AuditFault(kind: .unreadable, position: summary.entries + 1, message: "\(error)")
                return
            }
            let unlinked = awaited.flatMap { chain, byPosition in byPosition.values.joined().map { (chain, $0) } }
            if let (chain, link) = unlinked.min(by: { $0.1.entry.position < $1.1.entry.position }) {
                summary.fault = JournalAudit.brokenLink(chain, chainPosition: link.chainPosition, prev: link.prev, entry: link.entry,
                                                predecessors: chains[chain]?[link.chainPosition - 1] ?? [])
                return
            }
            let finished = journal.finish()
            summary.journalCheckpointsVerified = finished.checkpointsVerified.count
            if let fault = finished.fault {
                summary.fault = AuditFault(kind: .journalCheckpoint, position: fault.position,
                                           message: "journal checkpoint: \(fault.reason)")
                return
            }
            summary.chains = chains.count
            if replay == nil {
                summary.notes.append("view digests were not compared: a journal entry no longer decodes as an event")
            } else {
                summary.viewDigestsCompared = journalCheckpoints.count
            }
            checkChainCheckpoints(store: store)
            if summary.fault == nil { findSequenceGaps() }
            if summary.fault == nil { findMissingRecords(store: store) }
        }

        /// Unread ranges not recovered and chains with a gap, as the projector stored them.
        mutating func findMissingRecords(store: ProjectorStore) {
            do {
                let ranges = try store.unreadRanges()
                summary.unreadRanges = ranges.filter { $0.recoveredAt == nil }
                summary.recoveredUnreadRanges = ranges.count - summary.unreadRanges.count
                let shadowed = try store.shadowedCount()
                if shadowed > 0 {
                    summary.notes.append("\(shadowed) record(s) kept aside: their event id is journaled with other content, "
                                         + "and neither record has been orphaned yet")
                }
                let held = try store.heldCounts()
                summary.pendingChains = try store.chainStates().compactMap { state in
                    guard let gap = state.gap else { return nil }
                    return AuditSummary.PendingChain(chain: state.chain, cause: gap.cause.rawValue,
                                                     held: held[state.chain] ?? gap.held, verifiedCount: state.verifiedCount)
                }
            } catch {
                summary.fault = AuditFault(kind: .unreadable, message: "unread ranges, chain states or held records: \(error)")
            }
        }

        /// Thrown out of the journal walk at the first fault.
        struct Stop: Error {
            let fault: AuditFault
        }

        /// The registry to check journal checkpoint signatures with: the projector's keys and the
        /// agency registry together; nil when it holds no key of any checkpoint's signer.
        static func signatureRegistry(for checkpoints: [JournalCheckpoint], projectorKeys: KeyRegistry?,
                                      registry: KeyRegistry) -> KeyRegistry? {
            var keys = projectorKeys?.keys ?? []
            var ids = Set(keys.map(\.keyId))
            for key in registry.keys where !ids.contains(key.keyId) {
                keys.append(key)
                ids.insert(key.keyId)
            }
            let signers = Set(checkpoints.map(\.signer))
            guard !signers.isEmpty, keys.contains(where: { signers.contains($0.source) }) else { return nil }
            return try? KeyRegistry(keys: keys)
        }

        /// Checks one entry; returns the fault, if any.
        mutating func check(_ entry: JournaledEvent, journal: inout AccordIntegrity.JournalVerifier) -> AuditFault? {
            guard let chained = entry.chainEntry else {
                return AuditFault(kind: .journalChain, entry: entry,
                                  message: "no valid event hash or entry hash stored: the entry cannot belong to the journal chain")
            }
            let record = JournalRecord(entry: chained, headers: entry.headers, value: entry.value)
            if let fault = journal.check(record) {
                let kind: AuditFault.Kind
                switch fault.reason {
                case .eventHashMismatch, .eventIdMismatch, .unreadableRecord: kind = .eventHash
                case .checkpointMismatch, .checkpointSignature, .checkpointBeyondEnd: kind = .journalCheckpoint
                case .positionOutOfOrder, .invalidField, .entryHashMismatch: kind = .journalChain
                }
                let prefix = kind == .journalCheckpoint ? "signed journal checkpoint at this position: " : ""
                return AuditFault(kind: kind, entry: entry, message: prefix + fault.reason.description)
            }
            summary.entries = entry.position
            summary.head = chained.entryHash
            // The journal verifier recomputed the hash from these bytes; read the attributes the chain needs.
            let hashed: HashedEvent
            do {
                hashed = try EventHashing.hash(headers: entry.headers, value: entry.value)
            } catch {
                return AuditFault(kind: .eventHash, entry: entry, message: "stored record cannot be hashed: \(error)")
            }
            guard hashed.source == entry.source else {
                return AuditFault(kind: .eventHash, entry: entry,
                                  message: "stored source column \(entry.source) differs from the record's ce_source \(hashed.source ?? "(none)")")
            }
            guard let sequenceText = hashed.sequence, let sequence = Int64(sequenceText), sequence == entry.sequence else {
                return AuditFault(kind: .eventHash, entry: entry,
                                  message: "stored sequence column \(entry.sequence) differs from the record's ce_sequence \(hashed.sequence ?? "(none)")")
            }
            sequences[entry.source, default: []].append(sequence)
            if let fault = replayEntry(entry) { return fault }
            if entry.verified {
                summary.verified += 1
            } else if entry.retractedAt == nil {
                summary.provisional += 1
            }
            if entry.retractedAt == nil { standInView(entry) }
            guard let chainPosition = entry.chainPosition else {
                summary.unchained += 1
                if entry.verified {
                    return AuditFault(kind: .chainLink, entry: entry, message: "marked verified but has no chain position")
                }
                return nil
            }
            let chain = ChainID(source: entry.source, topic: entry.topic, partition: entry.partition)
            guard chainPosition >= 1 else {
                return AuditFault(kind: .chainLink, entry: entry, message: "chain position \(chainPosition) is not ≥ 1")
            }
            guard let prevText = hashed.prevHash, let prev = Hash256(hex: prevText) else {
                return AuditFault(kind: .chainLink, entry: entry,
                                  message: "has chain position \(chainPosition) in \(chain) but no valid ce_prevhash")
            }
            if chainPosition == 1 {
                guard prev == .zero else {
                    return AuditFault(kind: .chainLink, entry: entry,
                                      message: "first event of \(chain) has ce_prevhash \(prev), not genesis")
                }
            } else if let predecessors = chains[chain]?[chainPosition - 1] {
                if let parent = predecessors.first(where: { $0.hash == prev }) {
                    guard sequence > parent.sequence else {
                        return AuditFault(kind: .chainLink, entry: entry,
                                          message: "sequence \(sequence) does not follow \(parent.sequence) in \(chain)")
                    }
                } else if predecessors.contains(where: \.retracted) {
                    // The place is held by a retracted record: its genuine holder may come later.
                    awaited[chain, default: [:]][chainPosition - 1, default: []]
                        .append(AwaitedLink(prev: prev, sequence: sequence, entry: entry, chainPosition: chainPosition))
                } else {
                    return JournalAudit.brokenLink(chain, chainPosition: chainPosition, prev: prev, entry: entry,
                                           predecessors: predecessors)
                }
            } else {
                summary.unlinked += 1
            }
            chains[chain, default: [:]][chainPosition, default: []]
                .append(ChainEvent(hash: hashed.hash, sequence: sequence, position: entry.position,
                                   retracted: entry.retractedAt != nil, prev: prev, entry: entry))
            if var waiting = awaited[chain]?[chainPosition] {
                for link in waiting where link.prev == hashed.hash && link.sequence <= sequence {
                    return AuditFault(kind: .chainLink, entry: link.entry,
                                      message: "sequence \(link.sequence) does not follow \(sequence) in \(chain)")
                }
                waiting.removeAll { $0.prev == hashed.hash }
                awaited[chain]?[chainPosition] = waiting.isEmpty ? nil : waiting
            }
            if entry.verified, chainPosition > (highestVerified[chain]?.chainPosition ?? 0) {
                highestVerified[chain] = (chainPosition, entry)
            }
            return nil
        }

        /// Counts an entry the view applies under its source, and names it when its source is not
        /// registered. (A dead letter is not matched by its coordinates: a record lost from the
        /// topic and fetched from its source keeps its offset, where the topic may hold junk the
        /// projector refused. The only refused records the projector journals are orphans, which
        /// ``findOrphansInView(_:)`` checks by the signed chain itself.)
        mutating func standInView(_ entry: JournaledEvent) {
            var standing = standings[entry.source] ?? AuditSummary.SourceStanding(source: entry.source)
            if entry.verified {
                standing.verified += 1
            } else {
                standing.provisional += 1
                if standing.provisionalIds.count < 5 { standing.provisionalIds.append(entry.eventId) }
            }
            standings[entry.source] = standing
            if !registered.contains(entry.source) {
                untrust(entry, .unregisteredSource, "no key of \(entry.source) is in the registry")
            }
        }

        mutating func untrust(_ entry: JournaledEvent, _ reason: AuditSummary.UntrustedEntry.Reason, _ detail: String) {
            summary.untrusted.append(AuditSummary.UntrustedEntry(
                reason: reason, position: entry.position, eventId: entry.eventId, source: entry.source,
                coordinates: RecordCoordinates(topic: entry.topic, partition: entry.partition, offset: entry.offset),
                detail: detail))
        }

        /// Names every entry still in the view at a place a signed checkpoint settled for another
        /// event: the checkpoint's head and its journaled ancestors are the chain; anything else at
        /// or below the count is an orphan the projector should have retracted.
        mutating func findOrphansInView(_ checkpoints: [StoredChainCheckpoint]) {
            var settled: [ChainID: Int64] = [:]
            var onChain: [ChainID: Set<Hash256>] = [:]
            for item in checkpoints where item.checkpoint.count > 0 {
                let chain = item.checkpoint.chain
                settled[chain] = max(settled[chain] ?? 0, item.checkpoint.count)
                var position = item.checkpoint.count
                var hash = item.checkpoint.head
                while position >= 1, let event = chains[chain]?[position]?.first(where: { $0.hash == hash }),
                      onChain[chain, default: []].insert(hash).inserted {
                    hash = event.prev
                    position -= 1
                }
            }
            var orphans: [(ChainID, ChainEvent, Int64)] = []
            for (chain, count) in settled {
                for (position, events) in chains[chain] ?? [:] where position <= count {
                    for event in events where !event.retracted && !(onChain[chain]?.contains(event.hash) ?? false) {
                        orphans.append((chain, event, position))
                    }
                }
            }
            for (chain, event, position) in orphans.sorted(by: { $0.1.position < $1.1.position }) {
                untrust(event.entry, .orphaned,
                        "a signed checkpoint of \(chain) takes another event at chain position \(position); this one was not retracted")
            }
        }

        /// Applies the entry's event to the replayed view and compares digests at journal checkpoints.
        mutating func replayEntry(_ entry: JournaledEvent) -> AuditFault? {
            guard replay != nil else { return nil }
            let event: AccordEvent
            do {
                event = try entry.decodeEvent(codec: codec)
            } catch {
                replay?.remove()
                replay = nil
                return nil
            }
            pendingReplay.append((entry, event))
            let retracting = retractions[entry.position] ?? []
            if digests[entry.position] != nil || !retracting.isEmpty || pendingReplay.count >= 5_000 {
                do {
                    try replay?.apply(pendingReplay, retracting: retracting.map(\.retraction))
                } catch {
                    summary.notes.append("view digests were not compared after position \(entry.position): \(error)")
                    replay?.remove()
                    replay = nil
                    return nil
                }
                pendingReplay.removeAll(keepingCapacity: true)
            }
            return compareDigests(at: entry.position, entry: entry)
        }

        /// Compares the replayed view's digest with every journal checkpoint at `position`.
        mutating func compareDigests(at position: Int64, entry: JournaledEvent?) -> AuditFault? {
            guard let due = digests[position], let scratch = replay else { return nil }
            let digest: Hash256
            do {
                digest = try scratch.digest()
            } catch {
                summary.notes.append("view digests were not compared after position \(position): \(error)")
                replay?.remove()
                replay = nil
                return nil
            }
            for checkpoint in due where checkpoint.viewDigest != digest {
                let message = "signed journal checkpoint at this position has view digest \(checkpoint.viewDigest), but replaying entries 1…\(position) gives \(digest): the view was not produced by this journal (or not with these rules and --area-offices)"
                if let entry { return AuditFault(kind: .viewDigest, entry: entry, message: message) }
                return AuditFault(kind: .viewDigest, position: position, message: message)
            }
            return nil
        }

        /// Checks every stored agency checkpoint, then that every verified entry is covered by one.
        mutating func checkChainCheckpoints(store: ProjectorStore) {
            let stored: [StoredChainCheckpoint]
            do {
                stored = try store.chainCheckpoints()
            } catch {
                summary.fault = AuditFault(kind: .unreadable, message: "agency checkpoints: \(error)")
                return
            }
            var covered: [ChainID: Int64] = [:]
            for (n, item) in stored.enumerated() {
                let checkpoint = item.checkpoint
                let chain = checkpoint.chain
                let coordinates = RecordCoordinates(topic: chain.topic, partition: chain.partition, offset: item.offset)
                let name = "agency checkpoint #\(n + 1) of \(chain) (count \(checkpoint.count), key \(checkpoint.keyId))"
                if let rejection = registry.verify(signature: checkpoint.signature, over: checkpoint.signedBytes,
                                                   keyId: checkpoint.keyId, signer: chain.source, at: checkpoint.issuedAt) {
                    summary.fault = AuditFault(kind: .chainCheckpoint, position: nil, eventId: nil, coordinates: coordinates,
                                               message: "\(name): \(rejection)")
                    return
                }
                // A body that does not parse is caught by the signature check of the stored fields above.
                if let body = try? ChainCheckpoint(json: item.body), body != checkpoint {
                    summary.fault = AuditFault(kind: .chainCheckpoint, coordinates: coordinates,
                                               message: "\(name): the stored record body differs from the stored fields")
                    return
                }
                if checkpoint.count == 0 {
                    summary.chainCheckpointsVerified += 1
                } else if let atCount = chains[chain]?[checkpoint.count] {
                    guard let head = atCount.first(where: { $0.hash == checkpoint.head }) else {
                        summary.fault = AuditFault(
                            kind: .chainCheckpoint, position: atCount.first?.position, coordinates: coordinates,
                            message: "\(name) signs head \(checkpoint.head) but the journal holds \(atCount.map(\.hash.hex).joined(separator: ", ")) at that chain position")
                        return
                    }
                    guard head.sequence == checkpoint.lastSequence else {
                        summary.fault = AuditFault(
                            kind: .chainCheckpoint, position: head.position, coordinates: coordinates,
                            message: "\(name) signs last sequence \(checkpoint.lastSequence) but the journaled head event has \(head.sequence)")
                        return
                    }
                    summary.chainCheckpointsVerified += 1
                } else {
                    summary.chainCheckpointsUnmatched += 1
                }
                covered[chain] = max(covered[chain] ?? 0, checkpoint.count)
                var standing = standings[chain.source] ?? AuditSummary.SourceStanding(source: chain.source)
                if standing.lastCheckpoint.map({ checkpoint.issuedAt > $0.issuedAt }) ?? true {
                    standing.lastCheckpoint = (checkpoint.issuedAt, chain, checkpoint.count)
                }
                standings[chain.source] = standing
            }
            summary.sources = standings.values.sorted { $0.source < $1.source }
            findOrphansInView(stored)
            for (chain, marked) in highestVerified.sorted(by: { $0.value.entry.position < $1.value.entry.position })
            where marked.chainPosition > (covered[chain] ?? 0) {
                summary.fault = AuditFault(
                    kind: .chainCheckpoint, entry: marked.entry,
                    message: "marked verified at chain position \(marked.chainPosition) of \(chain), but no stored checkpoint covers beyond \(covered[chain] ?? 0)")
                return
            }
            if summary.chainCheckpointsUnmatched > 0 {
                summary.notes.append("\(summary.chainCheckpointsUnmatched) agency checkpoint(s) verified by signature only: their head event was refused by the event check and is not journaled")
            }
            if summary.unlinked > 0 {
                summary.notes.append("\(summary.unlinked) event(s) whose chain predecessor is not journaled (refused after linking, or before the journal began): their link was not checked")
            }
        }

        /// Gaps in each source's sequence numbers (events numbered but never journaled).
        mutating func findSequenceGaps() {
            var gaps: [SequenceGap] = []
            for (source, seen) in sequences.sorted(by: { $0.key < $1.key }) {
                let sorted = Array(Set(seen)).sorted()
                for (a, b) in zip(sorted, sorted.dropFirst()) where b > a + 1 {
                    gaps.append(SequenceGap(source: source, after: a, next: b))
                }
            }
            summary.sequenceGaps = gaps
        }
    }
}

/// A view replayed into a scratch store in the temporary folder, removed when done. Entries are
/// journaled there as the projector journaled them, so retractions replay through the same code.
final class ScratchView {
    private var writer: ViewStoreWriter
    private let path: String

    init(rules: ProjectionRules, upcaster: EventUpcaster) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-scratch-\(UUID().uuidString).sqlite").path
        writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: rules, upcaster: upcaster)
    }

    /// Journals and applies `entries`, then takes `retracting` back out.
    func apply(_ entries: [(entry: JournaledEvent, event: AccordEvent)], retracting: [Retraction] = []) throws {
        guard !entries.isEmpty || !retracting.isEmpty else { return }
        var batch = StoreBatch()
        for (entry, event) in entries {
            var copy = entry
            copy.position = 0
            copy.entryHash = nil
            copy.retractedAt = nil
            batch.entries.append(PendingEntry(entry: copy, event: event))
        }
        batch.retractions = retracting
        _ = try writer.commit(batch)
    }

    func digest() throws -> Hash256 { try writer.viewDigest() }

    func remove() {
        // A scratch file that cannot be removed is left in the temporary folder; nothing depends on it.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
