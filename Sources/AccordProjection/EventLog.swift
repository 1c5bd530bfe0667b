import AccordEvents
import Foundation

/// One applied event plus when it was written to Kafka.
struct RecordedEvent: Sendable {
    let event: AccordEvent
    let recordedAt: Timestamp

    /// Whether the event is part of a view at `asOf` as known at `knownAt`.
    @inline(__always)
    func isVisible(asOf: Timestamp, knownAt: Timestamp?) -> Bool {
        event.time <= asOf && (knownAt.map { recordedAt <= $0 } ?? true)
    }
}

/// The canonical order of events about one subject: (event time, source URN, sequence, id).
/// Comparing (kind, agency id) orders exactly as comparing the URN text, because no agency kind
/// name is a prefix of another.
@inline(__always)
func canonicallyPrecedes(_ a: AccordEvent, _ b: AccordEvent) -> Bool {
    if a.time != b.time { return a.time < b.time }
    if a.source.kind != b.source.kind { return a.source.kind.rawValue < b.source.kind.rawValue }
    if a.source.agencyId != b.source.agencyId { return a.source.agencyId < b.source.agencyId }
    if a.sequence != b.sequence { return a.sequence < b.sequence }
    return uuidPrecedes(a.id, b.id)
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

/// Every event about one subject (case, contract or area), kept in canonical order so any
/// view folded from it is independent of arrival order.
struct EventLog: Sendable {
    private(set) var items: [RecordedEvent] = []
    private(set) var maxRecordedAt: Timestamp?

    /// Inserts in canonical order; appending is the common case.
    mutating func insert(_ recorded: RecordedEvent) {
        if let last = items.last, !canonicallyPrecedes(last.event, recorded.event) {
            var lo = 0
            var hi = items.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if canonicallyPrecedes(items[mid].event, recorded.event) { lo = mid + 1 } else { hi = mid }
            }
            items.insert(recorded, at: lo)
        } else {
            items.append(recorded)
        }
        if let m = maxRecordedAt, m >= recorded.recordedAt {} else { maxRecordedAt = recorded.recordedAt }
    }

    /// Whether every event of the log is part of the view at (`asOf`, `knownAt`).
    func isFullyVisible(asOf: Timestamp, knownAt: Timestamp?) -> Bool {
        guard let last = items.last else { return true }
        guard last.event.time <= asOf else { return false }
        if let knownAt, let m = maxRecordedAt, m > knownAt { return false }
        return true
    }

    /// The events of the view at (`asOf`, `knownAt`), in canonical order.
    func visible(asOf: Timestamp, knownAt: Timestamp?) -> [RecordedEvent] {
        if isFullyVisible(asOf: asOf, knownAt: knownAt) { return items }
        var out: [RecordedEvent] = []
        out.reserveCapacity(items.count)
        for item in items {
            if item.event.time > asOf { break }
            if let knownAt, item.recordedAt > knownAt { continue }
            out.append(item)
        }
        return out
    }

    /// Whether any event is part of the view.
    func hasVisible(asOf: Timestamp, knownAt: Timestamp?) -> Bool {
        for item in items {
            if item.event.time > asOf { return false }
            if item.isVisible(asOf: asOf, knownAt: knownAt) { return true }
        }
        return false
    }
}

/// One event's place in its source's sequence, for gap detection.
struct SequenceEntry: Sendable {
    let sequence: Int64
    let time: Timestamp
    let recordedAt: Timestamp
    let id: UUID

    @inline(__always)
    static func precedes(_ a: SequenceEntry, _ b: SequenceEntry) -> Bool {
        if a.recordedAt != b.recordedAt { return a.recordedAt < b.recordedAt }
        if a.sequence != b.sequence { return a.sequence < b.sequence }
        return uuidPrecedes(a.id, b.id)
    }
}

/// The sequence numbers one source has delivered, in the order they were recorded
/// (recordedAt, then sequence, then id).
struct SourceLog: Sendable {
    private(set) var entries: [SequenceEntry] = []

    mutating func insert(_ entry: SequenceEntry) {
        if let last = entries.last, !SequenceEntry.precedes(last, entry) {
            var lo = 0
            var hi = entries.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if SequenceEntry.precedes(entries[mid], entry) { lo = mid + 1 } else { hi = mid }
            }
            entries.insert(entry, at: lo)
        } else {
            entries.append(entry)
        }
    }
}
