import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

@Suite("Determinism")
struct DeterminismTests {
    /// Several cases across all four topics, with events that depend on each other across topics.
    static func scenario() -> [AccordEvent] {
        let f = Feed(salt: "determinism")
        var events = [f.awarded(maxRisk: .medium), f.awarded("CT-0002", type: .curfewMonitoring, responseDays: 2),
                      f.priority("london-north", "knife-crime", at: day(0))]
        for i in 0..<12 {
            let c = "X5000\(10 + i)"
            let d = Double(i) / 3
            events.append(f.opened(c, at: day(d), risk: i % 4 == 0 ? .high : .low))
            if i % 3 != 0 { events.append(f.allocated(c, at: day(d + Double(i % 7)))) }
            events.append(f.referred(c, "REF-1", at: day(d + 1)))
            if i % 5 != 0 { events.append(f.accepted(c, "REF-1", at: day(d + 1 + Double(i % 6)))) }
            if i % 2 == 0 { events.append(f.started(c, "REF-1", at: day(d + 2 + Double(i % 11)))) }
            events.append(f.attended(c, "REF-1", at: day(d + 14)))
            events.append(f.missed(c, "REF-1", acceptable: i % 3 == 0, at: day(d + 15)))
            if i % 4 == 1 { events.append(f.failure("CF-\(i)", caseId: c, at: day(d + 16))) }
            if i % 4 == 1 { events.append(f.action(.warning, caseId: c, failures: ["CF-\(i)"], at: day(d + 16 + Double(i % 9)))) }
            if i % 3 == 2 {
                events.append(f.referred(c, "REF-2", contract: "CT-0002", type: .curfewMonitoring, at: day(d + 3)))
                events.append(f.violation(c, "REF-2", at: day(d + 20)))
            }
            if i % 6 == 4 { events.append(f.started(c, "REF-9", at: day(d + 5))) }  // no referral
            if i % 4 == 2 { events.append(f.risk(.veryHigh, caseId: c, at: day(d + 8))) }
            events.append(i % 3 == 1 ? f.endedEarly(c, "REF-1", at: day(d + 30)) : f.completed(c, "REF-1", at: day(d + 30)))
            if i % 5 == 3 { events.append(f.reoffence(c, offence: "2025-05-01", at: day(d + 60))) }
            if i % 4 == 3 { events.append(f.transferred(c, from: "london-north", to: "wales", at: day(d + 31))) }
        }
        events.append(f.varied(at: day(10), maxRisk: .high))
        return events
    }

    /// Interleaves the per-topic sequences at random, keeping each topic's own order.
    static func interleave(_ events: [AccordEvent], using rng: inout SplitMix64) -> [AccordEvent] {
        var topics: [String: [AccordEvent]] = [:]
        var names: [String] = []
        for e in events {
            if topics[e.topic.name] == nil { names.append(e.topic.name) }
            topics[e.topic.name, default: []].append(e)
        }
        var positions = [String: Int]()
        var out: [AccordEvent] = []
        while out.count < events.count {
            let live = names.filter { positions[$0, default: 0] < topics[$0, default: []].count }
            let name = live[Int(rng.next() % UInt64(live.count))]
            let i = positions[name, default: 0]
            out.append(topics[name, default: []][i])
            positions[name] = i + 1
        }
        return out
    }

    static let instants = [day(3), day(12), day(100)]

    @Test func anyInterleavingOfTopicsGivesTheSameView() throws {
        let events = Self.scenario()
        let reference = given(events)
        let referenceDigests = Self.instants.map { reference.at($0).digest }
        let caseIds = reference.state.caseIds(asOf: day(100))
        #expect(caseIds.count == 12)
        let referenceViews = caseIds.map { reference.at(day(100)).caseView($0) }
        #expect(Set(referenceDigests).count == 3)  // the view changes over time
        var rng = SplitMix64(seed: 0xACC0_4D)
        var distinctOrders = Set<[UUID]>()
        for _ in 0..<200 {
            let order = Self.interleave(events, using: &rng)
            distinctOrders.insert(order.map(\.id))
            let s = given(order)
            #expect(Self.instants.map { s.at($0).digest } == referenceDigests)
            #expect(caseIds.map { s.at(day(100)).caseView($0) } == referenceViews)
            #expect(s.at(day(100)).timeline("X500012") == reference.at(day(100)).timeline("X500012"))
        }
        #expect(distinctOrders.count > 150)
    }

    @Test("100,000 events of a simulated caseload: topic interleaving and batch size do not change the view")
    func interleavingAtScale() throws {
        let events = try SimulatedEvents.make(cases: 4_700, seed: 11, lateEvery: 29)
        #expect(events.count >= 100_000)
        var byTopic: [String: [(AccordEvent, Timestamp)]] = [:]
        var topics: [String] = []
        for e in events {
            if byTopic[e.0.topic.name] == nil { topics.append(e.0.topic.name) }
            byTopic[e.0.topic.name, default: []].append(e)
        }
        var rng = SplitMix64(seed: 0x100_000)
        var interleaved: [(AccordEvent, Timestamp)] = []
        interleaved.reserveCapacity(events.count)
        var positions: [String: Int] = [:]
        while interleaved.count < events.count {
            let live = topics.filter { positions[$0, default: 0] < byTopic[$0, default: []].count }
            let topic = live[Int(rng.next() % UInt64(live.count))]
            let from = positions[topic, default: 0]
            let to = min(from + 1 + Int(rng.next() % 500), byTopic[topic, default: []].count)
            interleaved += byTopic[topic, default: []][from..<to]
            positions[topic] = to
        }
        #expect(interleaved.map(\.0.id) != events.map(\.0.id))
        func state(_ order: [(AccordEvent, Timestamp)], batch: Int) -> ProjectionState {
            var s = ProjectionState()
            for start in stride(from: 0, to: order.count, by: batch) {
                s.apply(batch: order[start..<min(start + batch, order.count)].map { IncomingEvent($0.0, recordedAt: $0.1) })
            }
            return s
        }
        var a = state(events, batch: 5_000)
        var b = state(interleaved, batch: 777)
        #expect(a.eventCount == events.count && b.eventCount == events.count)
        #expect(a.viewDigest() == b.viewDigest())
        let end = try #require(events.map(\.0.time).max())
        #expect(a.viewDigest().hex == a.digest(asOf: end), "the incremental digest is the folded one")
        let middle = events[events.count / 2].0.time
        #expect(a.digest(asOf: middle, knownAt: middle) == b.digest(asOf: middle, knownAt: middle))
    }

    @Test func reapplyingEventsChangesNothing() {
        let events = Self.scenario()
        var state = ProjectionState()
        for e in events { #expect(state.apply(e, recordedAt: e.time) == .applied) }
        let before = state.digest(asOf: day(100))
        let count = state.eventCount
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let e = events[Int(rng.next() % UInt64(events.count))]
            // Even a different recorded instant does not make a duplicate new.
            #expect(state.apply(e, recordedAt: day(500)) == .duplicate)
        }
        #expect(state.eventCount == count)
        #expect(state.digest(asOf: day(100)) == before)
    }

    @Test func digestDiffersWhenTheViewDiffers() {
        let events = Self.scenario()
        let full = given(events).at(day(100)).digest
        let missingOne = given(Array(events.dropLast())).at(day(100)).digest
        #expect(full != missingOne)
        #expect(full.count == 64)
    }

    @Test func copiesOfTheStateAreIndependent() {
        let f = Feed()
        var a = ProjectionState()
        a.apply(f.opened(at: day(0)), recordedAt: day(0))
        _ = a.caseView("X000001", asOf: day(10))  // fills the cache
        var b = a
        b.apply(f.allocated(at: day(1)), recordedAt: day(1))
        #expect(a.caseView("X000001", asOf: day(10))?.practitioner == nil)
        #expect(b.caseView("X000001", asOf: day(10))?.practitioner?.practitionerId == "PR-1")
        #expect(a.flags(asOf: day(10)).count == 1)
        #expect(b.flags(asOf: day(10)).isEmpty)
    }

    @Test func flagsAtThreeInstantsComeFromEventTimesOnly() {
        let f = Feed()
        let s = given([
            f.awarded(responseDays: 5, startDays: 10),
            f.opened(at: day(0)),
            f.referred(at: day(1)),
            f.allocated(at: day(7)),  // late: unallocated 5 → 7
            f.accepted(at: day(8)),  // late: unanswered 6 → 8
            f.started(at: day(15)),  // late: not started 11 → 15
        ])
        func rules(_ v: ScenarioView, open: Bool) -> [FlagRule] { v.flags(openOnly: open).map(\.rule) }
        s.at(day(5.5)).then { v in #expect(rules(v, open: false) == [.caseUnallocated]) }
        s.at(day(7.5)).then { v in
            #expect(rules(v, open: false) == [.caseUnallocated, .referralUnanswered])
            #expect(rules(v, open: true) == [.referralUnanswered])
        }
        s.at(day(12)).then { v in
            #expect(rules(v, open: false) == [.caseUnallocated, .referralUnanswered, .interventionNotStarted])
            #expect(rules(v, open: true) == [.interventionNotStarted])
            #expect(v.flags().map(\.resolvedAt) == [day(7), day(8), nil])
        }
        s.at(day(20)).then { v in #expect(rules(v, open: true).isEmpty) }
    }
}
