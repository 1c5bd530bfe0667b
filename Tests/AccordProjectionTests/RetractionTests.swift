import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

/// Retracting events (orphans of a signed checkpoint) leaves the view exactly as if they had never
/// been applied: digest, flags, case views and timelines, at every instant.
@Suite("Retraction")
struct RetractionTests {
    static let instants = [day(3), day(12), day(100)]

    static func state(_ events: [AccordEvent]) -> ProjectionState {
        var s = ProjectionState()
        s.apply(batch: events.map { IncomingEvent($0, recordedAt: $0.time) })
        return s
    }

    /// Everything a reader can see of a state, at several instants.
    static func picture(_ s: inout ProjectionState) -> [String] {
        var out = [s.viewDigest().hex]
        for instant in instants {
            out.append(s.digest(asOf: instant))
            out.append(s.digest(asOf: instant, knownAt: instant))
            out.append("\(s.flags(asOf: instant).map(\.id))")
            for caseId in s.caseIds(asOf: instant) {
                out.append("\(String(describing: s.caseView(caseId, asOf: instant)))")
                out.append("\(s.timeline(caseId, asOf: instant).map(\.eventId))")
            }
            for contractId in s.contractIds(asOf: instant) {
                out.append("\(String(describing: s.contractPerformance(contractId, asOf: instant)))")
            }
            for area in s.areas(asOf: instant) { out.append("\(s.areaSummary(area, asOf: instant))") }
        }
        return out
    }

    /// Records an issue naming the first part of the two pictures that differs (they are long).
    static func expectSame(_ a: inout ProjectionState, _ b: inout ProjectionState, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let left = picture(&a)
        let right = picture(&b)
        #expect(left.count == right.count, "\(what): pictures of different sizes", sourceLocation: sourceLocation)
        if let i = left.indices.first(where: { $0 < right.count && left[$0] != right[$0] }) {
            Issue.record("\(what): part \(i) differs: \(left[i].prefix(400)) … versus \(right[i].prefix(400)) …",
                         sourceLocation: sourceLocation)
        }
    }

    @Test("random subsets: the view after retracting them equals the view that never had them")
    func randomSubsets() {
        let events = DeterminismTests.scenario()
        var rng = SplitMix64(seed: 0x0_4FA7)
        for round in 0..<40 {
            // Some rounds take out a whole case, a contract's award or its variation, or an area priority.
            var retracted: Set<UUID> = []
            for e in events where rng.next() % 9 == 0 { retracted.insert(e.id) }
            if round % 4 == 0 { for e in events where e.subject == "X500014" { retracted.insert(e.id) } }
            if round % 5 == 1 { for e in events where e.subject == "CT-0002" { retracted.insert(e.id) } }
            if round % 6 == 2 { for e in events where e.kind.subjectKind == .area { retracted.insert(e.id) } }
            var full = Self.state(events)
            let taken = events.filter { retracted.contains($0.id) }
            #expect(full.retract(taken.map { IncomingEvent($0, recordedAt: $0.time) }) == taken.count)
            var never = Self.state(events.filter { !retracted.contains($0.id) })
            #expect(full.eventCount == never.eventCount)
            #expect(full.latestEventTime == never.latestEventTime)
            Self.expectSame(&full, &never, "round \(round), \(taken.count) retracted")
        }
    }

    @Test("a retraction between batches, then more events: the same view as never having had it")
    func retractThenContinue() {
        let events = DeterminismTests.scenario()
        let forged = events.filter { $0.subject == "X500012" || $0.kind == .contractVaried }
        let half = events.count / 2
        var s = Self.state(Array(events[..<half]))
        s.retract(forged.map { IncomingEvent($0, recordedAt: $0.time) })
        s.apply(batch: events[half...].map { IncomingEvent($0, recordedAt: $0.time) })
        // Events applied after the retraction are new; the retracted ones that came later are duplicates.
        s.retract(forged.map { IncomingEvent($0, recordedAt: $0.time) })
        let forgedIds = Set(forged.map(\.id))
        var never = Self.state(events.filter { !forgedIds.contains($0.id) })
        Self.expectSame(&s, &never, "retracted between batches")
        #expect(s.caseIds(asOf: day(100)).contains("X500012") == false, "a case whose every event was retracted leaves the view")
    }

    @Test("retracting an event the view does not hold changes nothing")
    func retractUnknown() {
        let events = DeterminismTests.scenario()
        var s = Self.state(events)
        var untouched = s
        let stranger = Feed(salt: "stranger").opened("X999999", at: day(1))
        #expect(s.retract([IncomingEvent(stranger, recordedAt: day(1))]) == 0)
        Self.expectSame(&s, &untouched, "unknown event retracted")
    }
}
