import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

@Suite("Throughput")
struct ThroughputTests {
    /// 2,000 cases × ~20 events from a deterministic generator, plus a few contracts.
    static func caseload(cases: Int = 2_000) -> [AccordEvent] {
        let f = Feed(salt: "load")
        var events: [AccordEvent] = (0..<5).map { f.awarded("CT-000\($0)", area: EventSamples.areas[$0]) }
        var rng = SplitMix64(seed: 42)
        for i in 0..<cases {
            let c = EventSamples.subject(for: .caseOpened, index: i)
            let d = Double(i % 200) / 10
            let contract = "CT-000\(i % 5)"
            events += [f.opened(c, at: day(d), risk: [.low, .medium, .high][i % 3], area: EventSamples.areas[i % 5]),
                       f.allocated(c, at: day(d + Double(rng.next() % 7))),
                       f.referred(c, contract: contract, at: day(d + 1)),
                       f.accepted(c, at: day(d + 1 + Double(rng.next() % 7))),
                       f.started(c, at: day(d + 9 + Double(rng.next() % 4)))]
            for k in 0..<10 {
                events.append(k % 2 == 0 ? f.hours(c, "REF-1", 3, at: day(d + 14 + Double(k)))
                                         : f.attended(c, appointment: "AP-\(k)", at: day(d + 14 + Double(k))))
            }
            events.append(f.missed(c, acceptable: rng.next() % 2 == 0, at: day(d + 25)))
            if i % 4 == 0 {
                events.append(f.failure("CF-1", caseId: c, at: day(d + 26)))
                events.append(f.action(.warning, caseId: c, failures: ["CF-1"], at: day(d + 26 + Double(rng.next() % 10))))
            }
            events.append(rng.next() % 5 == 0 ? f.endedEarly(c, at: day(d + 40)) : f.completed(c, at: day(d + 40)))
            events.append(f.closed(c, at: day(d + 60)))
        }
        return events
    }

    @Test func applyAndQueryRates() {
        let events = Self.caseload()
        let clock = ContinuousClock()
        var state = ProjectionState()
        let applyTime = clock.measure {
            for e in events { state.apply(e, recordedAt: e.time) }
        }
        #expect(state.eventCount == events.count)
        let asOf = day(200)
        var flags: [Flag] = []
        let flagsCold = clock.measure { flags = state.flags(asOf: asOf) }
        let flagsWarm = clock.measure { flags = state.flags(asOf: asOf) }
        let flagsPast = clock.measure { _ = state.flags(asOf: day(30)) }
        var digest = ""
        let digestTime = clock.measure { digest = state.digest(asOf: asOf) }
        let seconds = Double(applyTime.components.seconds) + Double(applyTime.components.attoseconds) / 1e18
        func ms(_ d: Duration) -> String {
            String(format: "%.1f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        print("""
            [throughput] \(events.count) events, \(state.caseIds(asOf: asOf).count) cases: \
            apply \(Int(Double(events.count) / max(seconds, 1e-9))) events/s; \
            flags(all, \(flags.count) flags) cold \(ms(flagsCold)), warm \(ms(flagsWarm)), past asOf \(ms(flagsPast)); \
            digest \(ms(digestTime)) (\(digest.prefix(8))…)
            """)
        #expect(!flags.isEmpty)
    }
}
