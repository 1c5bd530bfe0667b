import AccordEvents
import AccordIntegrity
import AccordStore

/// What an integrity audit found wrong: the first bad entry or checkpoint, where it is and why.
public struct AuditFault: Sendable, Hashable, CustomStringConvertible {
    /// Which check failed.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The journal hash chain: positions, fields, entry hashes.
        case journalChain = "journal-chain"
        /// A stored record's bytes do not hash to its journaled event hash, or its columns disagree with it.
        case eventHash = "event-hash"
        /// A stored event does not link to its predecessor in its source chain.
        case chainLink = "chain-link"
        /// A stored agency checkpoint: signature or consistency with the stored chain.
        case chainCheckpoint = "chain-checkpoint"
        /// A signed journal checkpoint: signature, entry hash, or beyond the journal's end.
        case journalCheckpoint = "journal-checkpoint"
        /// A signed journal checkpoint's view digest differs from the view replayed from the journal.
        case viewDigest = "view-digest"
        /// The store could not be read (a row no longer parses).
        case unreadable = "unreadable"
    }

    /// Which check failed.
    public let kind: Kind
    /// The journal position concerned, when the fault is about an entry (or a checkpoint's position).
    public let position: Int64?
    /// The event id of that entry, when known.
    public let eventId: String?
    /// The Kafka coordinates of that entry (or of the checkpoint record), when known.
    public let coordinates: RecordCoordinates?
    /// What is wrong.
    public let message: String

    /// Creates a fault.
    public init(kind: Kind, position: Int64? = nil, eventId: String? = nil, coordinates: RecordCoordinates? = nil,
                message: String) {
        self.kind = kind
        self.position = position
        self.eventId = eventId
        self.coordinates = coordinates
        self.message = message
    }

    /// Creates a fault about a stored journal entry.
    init(kind: Kind, entry: JournaledEvent, message: String) {
        self.init(kind: kind, position: entry.position, eventId: entry.eventId,
                  coordinates: RecordCoordinates(topic: entry.topic, partition: entry.partition, offset: entry.offset),
                  message: message)
    }

    /// `journal position 12 (event …, topic/partition@offset): message`.
    public var description: String {
        var place: [String] = []
        if let eventId { place.append("event \(eventId)") }
        if let coordinates { place.append(coordinates.description) }
        let subject = position.map { "journal position \($0)" } ?? kind.rawValue
        return place.isEmpty ? "\(subject): \(message)" : "\(subject) (\(place.joined(separator: ", "))): \(message)"
    }
}

/// Sequence numbers missing from one source's events in the journal: an accountability finding
/// (events the agency numbered but the journal never received), not corruption.
public struct SequenceGap: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The source URN.
    public let source: String
    /// The last sequence present before the gap.
    public let after: Int64
    /// The first sequence present after the gap.
    public let next: Int64

    /// Creates a gap.
    public init(source: String, after: Int64, next: Int64) {
        self.source = source
        self.after = after
        self.next = next
    }

    /// How many sequence numbers are missing.
    public var missing: Int64 { next - after - 1 }

    /// `source: missing 5…6 (2)`.
    public var description: String {
        let range = missing == 1 ? "\(after + 1)" : "\(after + 1)…\(next - 1)"
        return "\(source): sequence \(range) missing (\(missing) event\(missing == 1 ? "" : "s"))"
    }
}

/// The outcome of `JournalAudit.verify`: what was checked, and the first fault if any.
public struct AuditSummary: Sendable, Hashable {
    /// Journal entries checked (all of them when intact; up to the fault otherwise).
    public var entries: Int64 = 0
    /// The entry hash of the last entry checked.
    public var head: Hash256 = .zero
    /// Distinct source chains `(source, topic, partition)` in the journal.
    public var chains: Int = 0
    /// Stored agency checkpoints whose signature and head were verified.
    public var chainCheckpointsVerified: Int = 0
    /// Stored agency checkpoints whose signature verified but whose head event is not in the
    /// journal (not applied, e.g. refused by the event check), so the head could not be compared.
    public var chainCheckpointsUnmatched: Int = 0
    /// Signed journal checkpoints verified (signature, when a projector key is known, and entry hash).
    public var journalCheckpointsVerified: Int = 0
    /// Journal checkpoints whose view digest was compared with the replayed view.
    public var viewDigestsCompared: Int = 0
    /// Whether journal checkpoint signatures were checked (a projector key was available).
    public var journalSignaturesChecked: Bool = false
    /// Entries marked verified (covered by an agency checkpoint).
    public var verified: Int64 = 0
    /// Entries still provisional (or journaled while integrity checking was off).
    public var provisional: Int64 = 0
    /// Entries taken back out of the view (their chain's signed checkpoint does not take them),
    /// with their positions, event ids and reasons.
    public var retracted: [RetractedEntry] = []
    /// Entries journaled without a chain position (integrity checking was off).
    public var unchained: Int64 = 0
    /// Entries whose chain predecessor is not in the journal, so their link could not be checked.
    public var unlinked: Int64 = 0
    /// Missing per-source sequence numbers (findings, not corruption).
    public var sequenceGaps: [SequenceGap] = []
    /// Ranges of Kafka records the projector skipped unread and has not recovered since: events
    /// in them may be missing from the journal.
    public var unreadRanges: [UnreadRange] = []
    /// Unread ranges whose records were fetched again from their sources since.
    public var recoveredUnreadRanges: Int = 0
    /// Chains the projector knows events are missing from, with their later records held.
    public var pendingChains: [PendingChain] = []
    /// Events the view applies that do not rest on a signed chain of a registered source: from
    /// a source with no registered key, or orphaned (and so dead-lettered) but not retracted.
    public var untrusted: [UntrustedEntry] = []
    /// Per source: events verified, events provisional, and its last signed checkpoint.
    public var sources: [SourceStanding] = []
    /// Remarks about what could not be checked.
    public var notes: [String] = []
    /// The first fault, nil when no hash, link or signature failed.
    public var fault: AuditFault?

    /// True when no fault was found and the view rests on nothing untrusted.
    public var isIntact: Bool { fault == nil && untrusted.isEmpty }

    /// An event in the view that should not be there.
    public struct UntrustedEntry: Sendable, Hashable, CustomStringConvertible {
        /// Why it cannot be trusted.
        public enum Reason: String, Sendable, Hashable {
            /// Its source has no key in the registry.
            case unregisteredSource = "unregistered-source"
            /// A signed checkpoint of its chain takes another event at its place.
            case orphaned
        }

        /// Why.
        public var reason: Reason
        /// Its journal position.
        public var position: Int64
        /// Its event id.
        public var eventId: String
        /// Its source.
        public var source: String
        /// Its Kafka coordinates.
        public var coordinates: RecordCoordinates
        /// More about the reason.
        public var detail: String

        /// `orphaned: journal position 12, event …, source … (topic/partition@offset): detail`.
        public var description: String {
            "\(reason.rawValue): journal position \(position), event \(eventId), source \(source) (\(coordinates)): \(detail)"
        }
    }

    /// How much of one source's journaled events rests on its signed checkpoints.
    public struct SourceStanding: Sendable, Hashable {
        /// The source URN.
        public var source: String
        /// Events covered by a signed checkpoint of their chain.
        public var verified: Int64 = 0
        /// Events in the view not yet covered by one.
        public var provisional: Int64 = 0
        /// The first few provisional event ids, in journal order.
        public var provisionalIds: [String] = []
        /// When its latest stored checkpoint was issued, and the count it signed; nil when none.
        public var lastCheckpoint: (issuedAt: Timestamp, chain: ChainID, count: Int64)?

        /// A standing with nothing counted.
        public init(source: String) { self.source = source }

        public static func == (a: SourceStanding, b: SourceStanding) -> Bool {
            a.source == b.source && a.verified == b.verified && a.provisional == b.provisional
                && a.provisionalIds == b.provisionalIds && a.lastCheckpoint?.issuedAt == b.lastCheckpoint?.issuedAt
                && a.lastCheckpoint?.chain == b.lastCheckpoint?.chain && a.lastCheckpoint?.count == b.lastCheckpoint?.count
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(source)
            hasher.combine(verified)
            hasher.combine(provisional)
        }

        /// `urn: 10 verified, 2 provisional (…); last signed checkpoint … of chain, count N`.
        public var description: String {
            var text = "\(source): \(verified) verified, \(provisional) provisional"
            if !provisionalIds.isEmpty {
                text += " (" + provisionalIds.joined(separator: ", ") + (provisional > Int64(provisionalIds.count) ? ", …" : "") + ")"
            }
            if let last = lastCheckpoint {
                text += "; last signed checkpoint \(last.issuedAt.rfc3339), \(last.chain) up to event \(last.count)"
            } else {
                text += "; no signed checkpoint"
            }
            return text
        }
    }

    /// True when the store knows of no missing records: no unread range is unrecovered and no
    /// chain is pending. An intact journal can still be incomplete.
    public var isComplete: Bool { unreadRanges.isEmpty && pendingChains.isEmpty }

    /// A chain with a gap: events the projector has not received, later records held in the
    /// store until the chain's source serves the missing ones.
    public struct PendingChain: Sendable, Hashable {
        /// The chain.
        public var chain: ChainID
        /// How the gap showed (`broken-link`, `checkpoint-ahead`, `unread-records`).
        public var cause: String
        /// Records of the chain held behind the gap.
        public var held: Int
        /// Events of the chain verified so far (the gap starts after them).
        public var verifiedCount: Int64

        /// A pending chain.
        public init(chain: ChainID, cause: String, held: Int, verifiedCount: Int64) {
            self.chain = chain
            self.cause = cause
            self.held = held
            self.verifiedCount = verifiedCount
        }
    }

    /// Creates an empty summary.
    public init() {}

    /// A journal entry the projector took back out of the view.
    public struct RetractedEntry: Sendable, Hashable {
        /// Its journal position.
        public var position: Int64
        /// Its event id.
        public var eventId: String
        /// The journal position after which it was retracted.
        public var afterPosition: Int64
        /// Why.
        public var reason: String
    }

    /// A short human summary (several lines).
    public var text: String {
        var lines: [String] = []
        if let fault {
            lines.append("journal NOT intact: \(fault)")
            lines.append("checked before the fault: \(entries) entries")
        }
        if !untrusted.isEmpty {
            lines.append((fault == nil ? "journal NOT intact: " : "")
                         + "the view applies \(untrusted.count) event(s) not on a signed chain of a registered source")
            lines.append(contentsOf: untrusted.map { "  \($0)" })
        }
        if fault == nil {
            lines.append((untrusted.isEmpty ? "journal intact: " : "journal hashes and links intact: ") + "\(entries) entries, head \(head)")
            lines.append("chains: \(chains); agency checkpoints verified: \(chainCheckpointsVerified)"
                         + (chainCheckpointsUnmatched > 0 ? " (+\(chainCheckpointsUnmatched) whose head event is not journaled)" : ""))
            lines.append("journal checkpoints verified: \(journalCheckpointsVerified)"
                         + (journalSignaturesChecked ? "" : " (entry hashes only: no projector key, signatures not checked)")
                         + "; view digests matching the replay: \(viewDigestsCompared)")
            lines.append("events: \(verified) verified, \(provisional) provisional, \(retracted.count) retracted"
                         + (unchained > 0 ? " (\(unchained) journaled with integrity checking off)" : ""))
            for entry in retracted {
                lines.append("  retracted: position \(entry.position), event \(entry.eventId), after position \(entry.afterPosition): \(entry.reason)")
            }
            if sequenceGaps.isEmpty {
                lines.append("sequence gaps: none")
            } else {
                lines.append("sequence gaps: \(sequenceGaps.count) (accountability findings, not corruption)")
                lines.append(contentsOf: sequenceGaps.map { "  \($0)" })
            }
            if !sources.isEmpty {
                lines.append("sources (provisional: not yet under a signed checkpoint of their chain):")
                lines.append(contentsOf: sources.map { "  \($0.description)" })
            }
            lines.append(contentsOf: completenessLines)
        }
        lines.append(contentsOf: notes.map { "note: \($0)" })
        return lines.joined(separator: "\n")
    }

    /// What the store says is missing: unrecovered unread ranges and pending chains, one line
    /// each, headed by a count.
    var completenessLines: [String] {
        var lines: [String] = []
        if unreadRanges.isEmpty {
            lines.append("unread records: none" + (recoveredUnreadRanges > 0 ? " (\(recoveredUnreadRanges) range(s) skipped and recovered from their sources since)" : ""))
        } else {
            let records = unreadRanges.reduce(Int64(0)) { $0 + $1.count }
            lines.append("unread records: \(records) in \(unreadRanges.count) range(s) the projector skipped and has not recovered: events in them may be missing from the journal")
            for range in unreadRanges {
                lines.append("  \(range.topic)/\(range.partition) offsets \(range.from)…\(range.until - 1) (\(range.count) record\(range.count == 1 ? "" : "s")), detected \(range.detectedAt.rfc3339)")
            }
        }
        if pendingChains.isEmpty {
            lines.append("pending chains: none")
        } else {
            let held = pendingChains.reduce(0) { $0 + $1.held }
            lines.append("pending chains: \(pendingChains.count), with \(held) record(s) held until the chain's source serves the events missing before them")
            for pending in pendingChains {
                lines.append("  \(pending.chain): \(pending.cause) after event \(pending.verifiedCount), \(pending.held) held")
            }
        }
        if !isComplete { lines.append("journal INCOMPLETE: the store knows of records it has not applied (see above)") }
        return lines
    }

    /// The outcome in the report model's terms: passed only when intact and complete.
    public var outcome: VerificationOutcome {
        var problems = fault.map { ["\($0)"] } ?? []
        problems.append(contentsOf: untrusted.map(\.description))
        if isIntact, !isComplete { problems.append(contentsOf: completenessLines.filter { !$0.hasPrefix("  ") && !$0.hasSuffix(": none") }) }
        return VerificationOutcome(passed: isIntact && isComplete,
                                   summary: text.split(separator: "\n").first.map(String.init) ?? "", problems: problems)
    }
}
