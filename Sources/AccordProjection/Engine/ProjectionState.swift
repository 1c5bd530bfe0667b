import AccordEvents
import AccordIntegrity
import Foundation
import Synchronization

/// What `ProjectionState.apply` did with an event.
public enum ApplyOutcome: String, Sendable, Equatable, Codable {
    /// The event was new and is now part of the state.
    case applied
    /// An event with the same id was applied before; nothing changed.
    case duplicate
}

/// The accountability view held in memory: the projection engine over a `MemoryViewStore`.
/// For tests, small replays and reports; the projector keeps its view in its store instead.
///
/// Applying is pure and deterministic: no clock, no I/O, no randomness. The same set of events
/// gives the same view and digest whatever order they arrive in. Queries take `asOf` (events with
/// a later time are not part of the view) and optional `knownAt` (only events recorded at or
/// before it) and are answered by folding the subjects' facts visible then (`FoldedView`).
public struct ProjectionState: Sendable {
    /// The thresholds used by every query.
    public let rules: ProjectionRules
    /// How many distinct events have been applied.
    public private(set) var eventCount: Int = 0
    /// The latest event time applied.
    public private(set) var latestEventTime: Timestamp?

    private var engine: ProjectionEngine
    private var store = MemoryViewStore()
    private var seen: Set<UUID> = []
    private var memo = FoldedMemo()
    /// Subjects whose digest leaves are stale: computed when the digest is asked for, so a state
    /// that never asks (an agency service's worklists) never renders records to hash them.
    private var staleLeaves: Set<SubjectKey> = []

    /// An empty state using the given rules.
    public init(rules: ProjectionRules = .defaults) {
        self.rules = rules
        engine = ProjectionEngine(rules: rules, caseCapacity: 1 << 30)
    }

    /// Adds an event recorded (written to Kafka) at `recordedAt`. Idempotent by event id.
    @discardableResult
    public mutating func apply(_ event: AccordEvent, recordedAt: Timestamp) -> ApplyOutcome {
        apply(batch: [IncomingEvent(event, recordedAt: recordedAt)]) == 1 ? .applied : .duplicate
    }

    /// Applies events in order, each with its recorded instant; returns how many were new.
    @discardableResult
    public mutating func apply<S: Sequence>(contentsOf events: S) -> Int where S.Element == (AccordEvent, Timestamp) {
        apply(batch: events.map { IncomingEvent($0.0, recordedAt: $0.1) })
    }

    /// Applies one batch; returns how many events were new.
    @discardableResult
    public mutating func apply(batch: [IncomingEvent]) -> Int {
        var fresh: [IncomingEvent] = []
        for incoming in batch where seen.insert(incoming.event.id).inserted { fresh.append(incoming) }
        guard !fresh.isEmpty else { return 0 }
        if !isKnownUniquelyReferenced(&memo) { memo = FoldedMemo() } else { memo.clear() }
        do {
            let changes = try engine.apply(fresh, from: store)
            try store.write(changes, events: fresh)
            engine.commit()
            staleLeaves.formUnion(changes.dirty)
        } catch {
            // The memory store cannot fail to read or decode what it wrote itself.
            engine.discard()
            preconditionFailure("in-memory view store failed: \(error)")
        }
        eventCount += fresh.count
        for e in fresh { latestEventTime = max(latestEventTime ?? e.event.time, e.event.time) }
        return fresh.count
    }

    /// Takes applied events back out of the view (orphans: forged or wrongly attributed), so the
    /// view is what it would be had they never been applied; returns how many were in it. Their
    /// ids stay known, as the journal keeps them: applying them again is a duplicate.
    @discardableResult
    public mutating func retract(_ events: [IncomingEvent]) -> Int {
        var ids: Set<String> = []
        var present: [IncomingEvent] = []
        for incoming in events where seen.contains(incoming.event.id) && ids.insert(incoming.event.idString).inserted {
            present.append(incoming)
        }
        guard !present.isEmpty else { return 0 }
        if !isKnownUniquelyReferenced(&memo) { memo = FoldedMemo() } else { memo.clear() }
        do {
            var sequences: [SourceSequence] = []
            for urn in Set(present.map(\.event.source.urn)).sorted() {
                guard let source = EventSource(urn: urn) else { continue }
                var sequence = SourceSequence(source: source)
                for e in try store.sourceEvents(urn, knownAt: nil) where !ids.contains(e.eventId) {
                    sequence.insert(sequence: e.sequence, at: e.time, eventId: e.eventId)
                }
                sequences.append(sequence)
            }
            let changes = try engine.retract(present, sequences: sequences, from: store)
            try store.write(changes, events: [], retracted: present)
            engine.commit()
            staleLeaves.formUnion(changes.dirty)
            latestEventTime = try store.allSources().compactMap { try store.sourceEvents($0, knownAt: nil).map(\.time).max() }.max()
        } catch {
            // The memory store cannot fail to read or decode what it wrote itself.
            engine.discard()
            preconditionFailure("in-memory view store failed: \(error)")
        }
        eventCount -= present.count
        return present.count
    }

    /// Whether an event with this id has been applied (or applied and retracted).
    public func contains(eventId: UUID) -> Bool { seen.contains(eventId) }

    /// The current view digest, maintained incrementally (Merkle root over every subject's record).
    public mutating func viewDigest() -> Hash256 {
        if !staleLeaves.isEmpty {
            do {
                store.write(leaves: try engine.leaves(for: staleLeaves, from: store))
            } catch {
                // The memory store cannot fail to read what it wrote itself.
                preconditionFailure("in-memory view store failed: \(error)")
            }
            staleLeaves.removeAll()
        }
        return store.root()
    }

    /// The stored flag records (everything known).
    public var flagRecords: [FlagRecord] { store.flagRecords }

    /// The memory store (subject facts, rows and sequences).
    public var facts: MemoryViewStore { store }

    // MARK: queries

    /// The view folded at (`asOf`, `knownAt`).
    public func folded(asOf: Timestamp, knownAt: Timestamp? = nil) -> FoldedView {
        memo.view(asOf: asOf, knownAt: knownAt) {
            do {
                return try FoldedView(reader: store, asOf: asOf, knownAt: knownAt, rules: rules)
            } catch {
                // The memory store's reads never throw.
                preconditionFailure("in-memory view store failed to read: \(error)")
            }
        }
    }

    /// One case's whole picture, or nil when no event about it is in the view.
    public func caseView(_ caseId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> CaseView? {
        folded(asOf: asOf, knownAt: knownAt).caseView(caseId)
    }

    /// The merged cross-agency timeline of a case in canonical order.
    public func timeline(_ caseId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> [TimelineEntry] {
        folded(asOf: asOf, knownAt: knownAt).timeline(caseId)
    }

    /// Accountability flags at `asOf` that pass `filter`, sorted by (since, subject, rule, id).
    public func flags(asOf: Timestamp, knownAt: Timestamp? = nil, filter: FlagFilter = .all) -> [Flag] {
        folded(asOf: asOf, knownAt: knownAt).flags(filter)
    }

    /// A contract's terms, performance and payment by results, or nil.
    public func contractPerformance(_ contractId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> ContractPerformance? {
        folded(asOf: asOf, knownAt: knownAt).contractPerformance(contractId)
    }

    /// A commissioner's summary of an area.
    public func areaSummary(_ area: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> AreaSummary {
        folded(asOf: asOf, knownAt: knownAt).areaSummary(area)
    }

    /// Case ids in the view, sorted; those after `after`, at most `limit`.
    public func caseIds(asOf: Timestamp, knownAt: Timestamp? = nil, after: String? = nil, limit: Int? = nil) -> [String] {
        page(folded(asOf: asOf, knownAt: knownAt).cases.keys.sorted(), after: after, limit: limit)
    }

    /// Contract ids in the view, sorted and paged like `caseIds`.
    public func contractIds(asOf: Timestamp, knownAt: Timestamp? = nil, after: String? = nil, limit: Int? = nil) -> [String] {
        page(folded(asOf: asOf, knownAt: knownAt).contracts.keys.sorted(), after: after, limit: limit)
    }

    /// Every area code in the view, sorted.
    public func areas(asOf: Timestamp, knownAt: Timestamp? = nil) -> [String] {
        folded(asOf: asOf, knownAt: knownAt).areaCodes
    }

    /// The view digest at (`asOf`, `knownAt`), as 64 hex digits.
    public func digest(asOf: Timestamp, knownAt: Timestamp? = nil) -> String {
        folded(asOf: asOf, knownAt: knownAt).digest.hex
    }

    private func page(_ sorted: [String], after: String?, limit: Int?) -> [String] {
        let cap = limit.map { max(0, $0) } ?? Int.max
        var out: [String] = []
        for id in sorted where after.map({ id > $0 }) ?? true {
            if out.count >= cap { break }
            out.append(id)
        }
        return out
    }
}

/// Memo of folded views at a few instants, shared by copies of one unchanged state.
final class FoldedMemo: Sendable {
    private struct Key: Hashable {
        let asOf: Timestamp
        let knownAt: Timestamp?
    }
    private let views = Mutex<[Key: FoldedView]>([:])

    func view(asOf: Timestamp, knownAt: Timestamp?, _ make: () -> FoldedView) -> FoldedView {
        let key = Key(asOf: asOf, knownAt: knownAt)
        if let cached = views.withLock({ $0[key] }) { return cached }
        let view = make()
        views.withLock {
            if $0.count >= 8 { $0.removeAll() }
            $0[key] = view
        }
        return view
    }

    func clear() { views.withLock { $0.removeAll() } }
}
