import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordSimulation
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// The stored view against the reference: `ProjectionState` folds every question from the facts
/// visible at the instant asked (`FoldedView`); the store answers the present from its indexes.
@Suite("Stored view: indexes, incremental digest, restart and rebuild agree with the folded reference")
struct ViewStoreTests {
    static let events: [(AccordEvent, Timestamp)] = (try? SimulatedEvents.make(cases: 120, seed: 7, lateEvery: 17)) ?? []

    static func reference(_ events: [(AccordEvent, Timestamp)] = Self.events) -> ProjectionState {
        var state = ProjectionState()
        state.apply(batch: events.map { IncomingEvent($0.0, recordedAt: $0.1) })
        return state
    }

    static var latest: Timestamp { events.map(\.0.time).max() ?? t0 }

    static func stored(_ name: String, _ events: [(AccordEvent, Timestamp)] = Self.events, batchSize: Int = 50,
                       cacheCases: Int = 50_000) throws -> (path: String, writer: ViewStoreWriter, reader: StoreViewReader) {
        let path = TemporaryPaths.file("accord-view-\(name)")
        let writer = try StoreFixtures.write(events, to: path, batchSize: batchSize, cacheCases: cacheCases)
        return (path, writer, StoreViewReader(store: writer.store, rules: .defaults))
    }

    static func allFlags(_ reader: StoreViewReader, at instant: ViewInstant, filter: FlagFilter, limit: Int) async throws -> (flags: [Flag], totals: Set<Int>) {
        var out: [Flag] = []
        var totals: Set<Int> = []
        var cursor: String?
        repeat {
            let page = try await reader.flags(at: instant, filter: filter, page: PageSpec(limit: limit, cursor: cursor))
            out += page.items
            totals.insert(page.total)
            cursor = page.nextCursor
        } while cursor != nil
        return (out, totals)
    }

    @Test("at the present the index answers flags (every filter, paged), cases, contracts and areas exactly like the reference")
    func presentMatchesReference() async throws {
        #expect(Self.events.count > 2_000)
        let (path, _, reader) = try Self.stored("present")
        defer { TemporaryPaths.removeStore(path) }
        let reference = Self.reference()
        let now = try #require(Self.latest.adding(seconds: 3 * 86_400))
        let instant = ViewInstant(asOf: now)
        let areas = reference.areas(asOf: now)
        #expect(areas.count >= 2)
        var filters: [FlagFilter] = [.all, .openOnly, FlagFilter(accountableKind: .interventions, openOnly: true),
                                     FlagFilter(accountable: probationURN), FlagFilter(rule: .enforcementDecisionOverdue, openOnly: true),
                                     FlagFilter(subject: reference.caseIds(asOf: now)[3])]
        for area in areas { filters.append(FlagFilter(area: area, openOnly: true)) }
        for filter in filters {
            let expected = reference.flags(asOf: now, filter: filter)
            let (got, totals) = try await Self.allFlags(reader, at: instant, filter: filter, limit: 7)
            #expect(got == expected, "flags with \(filter)")
            #expect(totals == [expected.count], "total with \(filter)")
        }
        #expect(!reference.flags(asOf: now, filter: .openOnly).isEmpty)
        for caseId in reference.caseIds(asOf: now).prefix(40) {
            #expect(try await reader.caseView(caseId, at: instant) == reference.caseView(caseId, asOf: now))
            #expect(try await reader.timeline(caseId, at: instant) == reference.timeline(caseId, asOf: now))
        }
        for contractId in reference.contractIds(asOf: now) {
            #expect(try await reader.contractPerformance(contractId, at: instant) == reference.contractPerformance(contractId, asOf: now))
        }
        for area in areas {
            #expect(try await reader.areaSummary(area, at: instant) == reference.areaSummary(area, asOf: now), "area \(area)")
        }
        #expect(try await reader.areaSummary("nowhere", at: instant) == nil)
        let cases = try await reader.cases(at: instant, area: areas[0], page: PageSpec(limit: 1000))
        #expect(cases.items.map(\.caseId) == reference.caseIds(asOf: now).filter { reference.caseView($0, asOf: now)?.area == areas[0] })
        #expect(cases.total == cases.items.count)
    }

    @Test("an instant in the past, and the view as shown then, are folded from what was visible, like the reference")
    func pastAndAsShownMatchReference() async throws {
        let (path, _, reader) = try Self.stored("past")
        defer { TemporaryPaths.removeStore(path) }
        let reference = Self.reference()
        let first = try #require(Self.events.map(\.0.time).min())
        let middle = try #require(first.adding(seconds: (Self.latest.secondsSinceEpoch - first.secondsSinceEpoch) / 2))
        for instant in [ViewInstant(asOf: middle), ViewInstant(asOf: middle, knownAt: middle)] {
            let expected = reference.flags(asOf: instant.asOf, knownAt: instant.knownAt)
            let (got, _) = try await Self.allFlags(reader, at: instant, filter: .all, limit: 50)
            #expect(got == expected)
            let open = try await reader.flags(at: instant, filter: FlagFilter(accountableKind: .probation, openOnly: true),
                                              page: PageSpec(limit: 1000))
            #expect(open.items == reference.flags(asOf: instant.asOf, knownAt: instant.knownAt,
                                                  filter: FlagFilter(accountableKind: .probation, openOnly: true)))
            for area in reference.areas(asOf: instant.asOf, knownAt: instant.knownAt) {
                #expect(try await reader.areaSummary(area, at: instant) == reference.areaSummary(area, asOf: instant.asOf, knownAt: instant.knownAt))
            }
            for caseId in reference.caseIds(asOf: instant.asOf, knownAt: instant.knownAt).prefix(20) {
                #expect(try await reader.caseView(caseId, at: instant) == reference.caseView(caseId, asOf: instant.asOf, knownAt: instant.knownAt))
            }
            #expect(try await reader.digest(at: instant).digest == reference.digest(asOf: instant.asOf, knownAt: instant.knownAt))
        }
        let shown = reference.flags(asOf: middle, knownAt: middle)
        let known = reference.flags(asOf: middle)
        #expect(shown != known, "late-recorded events make the two perspectives differ")
    }

    @Test("the incremental digest equals the digest folded from scratch, whatever the batch size, cache bound or topic interleaving")
    func digestIsIncrementalAndOrderFree() throws {
        let reference = Self.reference()
        let folded = reference.digest(asOf: Self.latest)
        var incremental = reference
        #expect(incremental.viewDigest().hex == folded)
        var byTopic: [String: [(AccordEvent, Timestamp)]] = [:]
        for e in Self.events { byTopic[e.0.kind.topic.name, default: []].append(e) }
        var rng = SplitMix64(seed: 99)
        var interleaved: [(AccordEvent, Timestamp)] = []
        var positions: [String: Int] = [:]
        let topics = byTopic.keys.sorted()
        while interleaved.count < Self.events.count {
            let live = topics.filter { positions[$0, default: 0] < byTopic[$0, default: []].count }
            let topic = live[Int(rng.next() % UInt64(live.count))]
            let i = positions[topic, default: 0]
            // Read a few records of one topic at a time, as a consumer does.
            for j in i..<min(i + 1 + Int(rng.next() % 40), byTopic[topic, default: []].count) {
                interleaved.append(byTopic[topic, default: []][j])
                positions[topic] = j + 1
            }
        }
        for (name, events, batch, cache) in [("a", Self.events, 50, 50_000), ("b", interleaved, 333, 50_000), ("c", interleaved, 17, 16)] {
            var (path, writer, _) = try Self.stored(name, events, batchSize: batch, cacheCases: cache)
            defer { TemporaryPaths.removeStore(path) }
            #expect(try writer.viewDigest().hex == folded, "store \(name)")
            #expect(try writer.store.storedViewDigest().hex == folded)
        }
    }

    @Test("between digest refreshes the present digest is still exact: changed subjects' leaves are computed on read")
    func presentDigestBetweenRefreshes() async throws {
        let half = Self.events.count / 2
        var (path, writer, reader) = try Self.stored("dirty", Array(Self.events[..<half]))
        defer { TemporaryPaths.removeStore(path) }
        var batch = StoreBatch()
        for (n, (event, recordedAt)) in Self.events[half...].enumerated() {
            batch.entries.append(try StoreFixtures.pending(event, recordedAt: recordedAt, offset: 1_000_000 + Int64(n)))
        }
        _ = try writer.commit(batch)
        let far = try #require(Self.latest.adding(seconds: 400 * 86_400))
        let expected = Self.reference().digest(asOf: far)
        #expect(try writer.store.storedViewDigest().hex != expected, "the stored root still describes the first half")
        #expect(try await reader.digest(at: ViewInstant(asOf: far)).digest == expected)
        #expect(try writer.viewDigest().hex == expected)
        #expect(try await reader.digest(at: ViewInstant(asOf: far)).digest == expected)
    }

    @Test("a writer opened on an existing store continues it as if it had never stopped, and a rebuild from the journal gives the same view")
    func restartAndRebuild() throws {
        let path = TemporaryPaths.file("accord-view-restart")
        defer { TemporaryPaths.removeStore(path) }
        let half = Self.events.count / 2
        _ = try StoreFixtures.write(Array(Self.events[..<half]), to: path, batchSize: 100)
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: .defaults)
        #expect(writer.cachedCases == 0)
        var offsets: [String: Int64] = [:]
        for e in Self.events[..<half] { offsets[e.0.kind.topic.name, default: 0] += 1 }
        var batch = StoreBatch()
        for e in Self.events[half...] {
            let topic = e.0.kind.topic.name
            batch.entries.append(try StoreFixtures.pending(e.0, recordedAt: e.1, offset: offsets[topic, default: 0]))
            offsets[topic, default: 0] += 1
            if batch.entries.count == 100 {
                _ = try writer.commit(batch)
                batch = StoreBatch()
            }
        }
        _ = try writer.commit(batch)
        var reference = Self.reference()
        let expected = reference.viewDigest()
        #expect(try writer.viewDigest() == expected)
        try writer.rebuildView(batchSize: 250)
        #expect(try writer.viewDigest() == expected)
        #expect(try writer.store.journalCount() == Self.events.count)
        var other = try ViewStoreWriter(store: writer.store, rules: ProjectionRules(unallocatedDays: 2))
        #expect(try other.rebuildReason() != nil, "other rules make the stored view stale")
        try other.rebuildView()
        #expect(try other.viewDigest() != expected)
    }

    @Test("a flag whose deadline has not passed is not shown nor counted until it passes")
    func pendingDeadlines() async throws {
        let f = Feed(salt: "pending")
        let events = [f.awarded(at: day(-1)), f.opened(at: day(0)), f.allocated(at: day(0.5)), f.referred(at: day(1))]
        let path = TemporaryPaths.file("accord-view-pending")
        defer { TemporaryPaths.removeStore(path) }
        let writer = try StoreFixtures.write(events.map { ($0, $0.time) }, to: path)
        let reader = StoreViewReader(store: writer.store, rules: .defaults)
        let early = try await reader.flags(at: ViewInstant(asOf: day(2)), filter: .openOnly, page: PageSpec(limit: 10))
        #expect(early.items.isEmpty && early.total == 0)
        let late = try await reader.flags(at: ViewInstant(asOf: day(6.5)), filter: .openOnly, page: PageSpec(limit: 10))
        #expect(late.items.map(\.rule) == [.referralUnanswered] && late.total == 1)
        let summary = try await reader.areaSummary("london-north", at: ViewInstant(asOf: day(6.5)))
        #expect(summary?.openFlagsByRule == [KeyCount(key: "referral-unanswered", count: 1)])
        let before = try await reader.areaSummary("london-north", at: ViewInstant(asOf: day(2)))
        #expect(before?.openFlagsByRule == [])
    }

    @Test("sequence-gap flags are derived from the stored runs: listed, paged, filtered and counted with the stored flags, never stored as rows")
    func gapFlagsDerivedOnRead() async throws {
        // Drop three events of the probation office (two of them adjacent): two gaps.
        let numbered = Self.events.filter { $0.0.source.urn == probationURN }.map(\.0.sequence).sorted()
        try #require(numbered.count > 100)
        let dropped: Set<Int64> = [numbered[40], numbered[41], numbered[90]]
        let events = Self.events.filter { !($0.0.source.urn == probationURN && dropped.contains($0.0.sequence)) }
        let (path, writer, reader) = try Self.stored("gaps", events, batchSize: 37)
        defer { TemporaryPaths.removeStore(path) }
        let reference = Self.reference(events)
        let now = try #require(Self.latest.adding(seconds: 3 * 86_400))
        let gaps = reference.flags(asOf: now, filter: FlagFilter(rule: .sequenceGap))
        #expect(gaps.map(\.subject) == [probationURN, probationURN], "the reference sees the two gaps")
        let filters: [FlagFilter] = [.all, .openOnly, FlagFilter(rule: .sequenceGap), FlagFilter(accountable: probationURN, openOnly: true),
                                     FlagFilter(accountableKind: .probation), FlagFilter(subject: probationURN),
                                     FlagFilter(area: "london-north", openOnly: true), FlagFilter(rule: .caseUnallocated)]
        for instant in [ViewInstant(asOf: now), ViewInstant(asOf: gaps[1].since), ViewInstant(asOf: gaps[1].since, knownAt: now)] {
            for filter in filters {
                let expected = reference.flags(asOf: instant.asOf, knownAt: instant.knownAt, filter: filter)
                for limit in [1, 3, 1_000] {
                    let (got, totals) = try await Self.allFlags(reader, at: instant, filter: filter, limit: limit)
                    #expect(got == expected, "flags with \(filter) at \(instant), pages of \(limit)")
                    if instant.asOf == now { #expect(totals == [expected.count], "total with \(filter), pages of \(limit)") }
                }
            }
        }
        _ = writer
        let rows = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM view_flag WHERE rule = 'sequence-gap'")
        }
        #expect(rows == 0)
    }
}
