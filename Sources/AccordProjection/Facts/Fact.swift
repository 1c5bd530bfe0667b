import AccordEvents
import Foundation

/// The canonical position of an event among the events about one subject: event time, then
/// source URN, then sequence, then id. Folding a subject's events in this order makes every
/// view independent of the order the topics were read in.
public struct EventKey: Sendable, Hashable, Comparable {
    /// When the event happened.
    public var time: Timestamp
    /// Who published it.
    public var source: EventSource
    /// The source's sequence number.
    public var sequence: Int64
    /// The event id.
    public var id: UUID

    /// Creates a key.
    public init(time: Timestamp, source: EventSource, sequence: Int64, id: UUID) {
        self.time = time
        self.source = source
        self.sequence = sequence
        self.id = id
    }

    /// The key of `event`.
    public init(_ event: AccordEvent) {
        self.init(time: event.time, source: event.source, sequence: event.sequence, id: event.id)
    }

    /// Canonical order. Comparing (kind, agency id) orders exactly as comparing the URN text,
    /// because no agency kind name is a prefix of another.
    @inline(__always)
    public static func < (a: EventKey, b: EventKey) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.source.kind != b.source.kind { return a.source.kind.rawValue < b.source.kind.rawValue }
        if a.source.agencyId != b.source.agencyId { return a.source.agencyId < b.source.agencyId }
        if a.sequence != b.sequence { return a.sequence < b.sequence }
        return uuidPrecedes(a.id, b.id)
    }
}

/// Byte order of two UUIDs, equal to the order of their lower-case text.
@inline(__always)
func uuidPrecedes(_ a: UUID, _ b: UUID) -> Bool {
    withUnsafeBytes(of: a.uuid) { pa in
        withUnsafeBytes(of: b.uuid) { pb in
            for i in 0..<16 where pa[i] != pb[i] { return pa[i] < pb[i] }
            return false
        }
    }
}

/// One event as the view keeps it: its canonical key, when it was recorded (written to Kafka),
/// and its typed payload. A subject's state is its facts in canonical order.
public struct Fact: Sendable, Hashable {
    /// Canonical position.
    public var key: EventKey
    /// When the event was written to Kafka.
    public var recordedAt: Timestamp
    /// What happened.
    public var payload: EventPayload

    /// Creates a fact.
    public init(key: EventKey, recordedAt: Timestamp, payload: EventPayload) {
        self.key = key
        self.recordedAt = recordedAt
        self.payload = payload
    }

    /// The fact of `event`, recorded at `recordedAt`.
    public init(_ event: AccordEvent, recordedAt: Timestamp) {
        self.init(key: EventKey(event), recordedAt: recordedAt, payload: event.payload)
    }

    /// When it happened.
    @inline(__always) public var time: Timestamp { key.time }
    /// The publishing agency.
    @inline(__always) public var source: EventSource { key.source }
    /// The event id as lower-case text.
    public var eventId: String { key.id.lowercasedString }

    /// Whether the fact is part of the view at `asOf` as known at `knownAt`.
    @inline(__always)
    public func isVisible(asOf: Timestamp, knownAt: Timestamp?) -> Bool {
        key.time <= asOf && (knownAt.map { recordedAt <= $0 } ?? true)
    }
}

/// A subject's facts in canonical order, with insertion by binary search. The list is the same
/// whatever order the facts arrived in; a fact whose id is already present is not added again.
public struct FactList: Sendable, Hashable {
    /// The facts, in canonical order.
    public private(set) var facts: [Fact]

    /// An empty list.
    public init() { facts = [] }

    /// A list of the given facts, sorted (duplicate ids dropped).
    public init(_ unsorted: [Fact]) {
        facts = []
        facts.reserveCapacity(unsorted.count)
        for fact in unsorted { insert(fact) }
    }

    /// Inserts in canonical order; returns false when a fact with the same key is already present.
    @discardableResult
    public mutating func insert(_ fact: Fact) -> Bool {
        if let last = facts.last, last.key < fact.key {
            facts.append(fact)
            return true
        }
        var lo = 0
        var hi = facts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if facts[mid].key < fact.key { lo = mid + 1 } else { hi = mid }
        }
        if lo < facts.count, facts[lo].key == fact.key { return false }
        if facts.contains(where: { $0.key.id == fact.key.id }) { return false }
        facts.insert(fact, at: lo)
        return true
    }

    /// Removes the fact with this event id; returns whether one was removed.
    @discardableResult
    public mutating func remove(id: UUID) -> Bool {
        guard let i = facts.firstIndex(where: { $0.key.id == id }) else { return false }
        facts.remove(at: i)
        return true
    }

    /// The facts visible at (`asOf`, `knownAt`), in canonical order.
    public func visible(asOf: Timestamp, knownAt: Timestamp?) -> [Fact] {
        if isFullyVisible(asOf: asOf, knownAt: knownAt) { return facts }
        var out: [Fact] = []
        out.reserveCapacity(facts.count)
        for fact in facts {
            if fact.time > asOf { break }
            if let knownAt, fact.recordedAt > knownAt { continue }
            out.append(fact)
        }
        return out
    }

    /// Whether every fact is visible at (`asOf`, `knownAt`).
    public func isFullyVisible(asOf: Timestamp, knownAt: Timestamp?) -> Bool {
        guard let last = facts.last else { return true }
        guard last.time <= asOf else { return false }
        if let knownAt { return !facts.contains { $0.recordedAt > knownAt } }
        return true
    }

    /// Number of facts.
    public var count: Int { facts.count }
    /// Whether there are none.
    public var isEmpty: Bool { facts.isEmpty }
    /// The latest event time.
    public var lastTime: Timestamp? { facts.last?.time }
    /// The key of the last fact in canonical order.
    public var lastKey: EventKey? { facts.last?.key }
}
