@testable import AccordAudit
import AccordEvents
import AccordProjection
import AccordStore
import Foundation
import Testing

@Suite("audit replay")
struct ReplayTests {
    static let instants = [aDay(4), aDay(10), aDay(16), aDay(30)]

    @Test("replay at each instant equals the independently filtered view, in both perspectives",
          arguments: ReplayTests.instants)
    func replayMatchesFilteredEvents(instant: Timestamp) throws {
        let (_, store) = try scenarioStore("filtered")
        let reader = try StoreAuditReader(path: store)
        for time in [ReplayTime.asKnownNow(instant), .asShown(at: instant)] {
            let view = try Replay.view(from: reader, time: time)
            let expected = AuditScenario.filteredState(asOf: time.asOf, knownAt: time.knownAt)
            let digest = try AuditScenario.filteredDigest(asOf: time.asOf, knownAt: time.knownAt)
            #expect(view.view.digest.hex == digest, "\(time.perspectiveName) at \(instant)")
            #expect(view.replayDigest == digest, "the replay store's own digest, \(time.perspectiveName) at \(instant)")
            #expect(view.view.flags() == (try AuditScenario.filteredView(asOf: time.asOf, knownAt: time.knownAt)).flags())
            #expect(view.entriesInView == expected.eventCount)
        }
    }

    @Test("replay answers what the query API's state queries answer, for every query", arguments: ReplayTests.instants)
    func replayAgreesWithQueries(instant: Timestamp) throws {
        let (_, store) = try scenarioStore("api")
        let reader = try StoreAuditReader(path: store)
        // The query API answers from the whole state with asOf/knownAt; the replay from the filtered journal.
        let live = AuditScenario.fullState()
        for time in [ReplayTime.asKnownNow(instant), .asShown(at: instant), ReplayTime(asOf: instant, knownAt: aDay(13))] {
            let view = try Replay.view(from: reader, time: time)
            let replayed = view.view
            let (t, k) = (time.asOf, time.knownAt)
            #expect(replayed.digest.hex == live.digest(asOf: t, knownAt: k), "/v1/view/digest \(time)")
            #expect(view.replayDigest == live.digest(asOf: t, knownAt: k), "the replay store's digest \(time)")
            #expect(replayed.cases.keys.sorted() == live.caseIds(asOf: t, knownAt: k), "/v1/cases")
            for caseId in live.caseIds(asOf: aDay(100)) {
                #expect(replayed.caseView(caseId) == live.caseView(caseId, asOf: t, knownAt: k), "/v1/cases/\(caseId)")
                #expect(replayed.timeline(caseId).map(\.eventId)
                        == live.timeline(caseId, asOf: t, knownAt: k).map(\.eventId), "/v1/cases/\(caseId)/timeline")
            }
            #expect(replayed.flags() == live.flags(asOf: t, knownAt: k), "/v1/flags")
            #expect(replayed.flags(.openOnly) == live.flags(asOf: t, knownAt: k, filter: .openOnly))
            for contractId in ["CT-0001", "CT-0002"] {
                #expect(replayed.contractPerformance(contractId)
                        == live.contractPerformance(contractId, asOf: t, knownAt: k), "/v1/contracts/\(contractId)/performance")
            }
            #expect(replayed.areaCodes == live.areas(asOf: t, knownAt: k))
            for area in live.areas(asOf: t, knownAt: k) {
                #expect(replayed.areaSummary(area) == live.areaSummary(area, asOf: t, knownAt: k), "/v1/areas/\(area)/summary")
            }
            // The report states the same time and perspective the API answers carry.
            let report = AuditReport.make(view: view, storePath: store, replayStorePath: nil,
                                          integrity: ReportIntegrity.summary(reader: reader, journal: view.journal,
                                                                             undecodable: [], verifier: nil))
            #expect(report.perspective.asOf == t)
            #expect(report.perspective.knownAt == k)
            #expect(report.perspective.description == (k == nil
                ? "what happened by asOf, as known now (late-recorded events included)"
                : "what the view showed: only events recorded by knownAt"))
            #expect(report.digest == live.digest(asOf: t, knownAt: k))
            #expect(report.summary.openFlags == live.flags(asOf: t, knownAt: k, filter: .openOnly).count)
            #expect(report.cases.map(\.caseId) == live.caseIds(asOf: t, knownAt: k))
            #expect(report.contracts == live.contractIds(asOf: t, knownAt: k).compactMap {
                live.contractPerformance($0, asOf: t, knownAt: k)
            })
        }
    }

    @Test("as known now and as shown differ exactly by the late-recorded events, which are listed")
    func lateRecordedEvents() throws {
        let (_, store) = try scenarioStore("late")
        let reader = try StoreAuditReader(path: store)
        let instant = aDay(10)
        let known = try Replay.view(from: reader, time: .asKnownNow(instant))
        let shown = try Replay.view(from: reader, time: .asShown(at: instant))

        let late = AuditScenario.events.filter { $0.event.time <= instant && $0.recordedAt > instant }
        #expect(late.count == 2)
        #expect(Set(known.lateEvents.map(\.id)) == Set(late.map { $0.event.idString }))
        #expect(known.lateEvents.allSatisfy { $0.inThisView })
        #expect(shown.lateEvents.map(\.id) == known.lateEvents.map(\.id))
        #expect(shown.lateEvents.allSatisfy { !$0.inThisView })
        #expect(Set(known.lateEvents.map(\.subject)) == ["X000001", "X000004"])

        // Adding exactly the late events to the as-shown view gives the as-known-now view.
        var patched = AuditScenario.filteredState(asOf: instant, knownAt: instant)
        for item in late { patched.apply(item.event, recordedAt: item.recordedAt) }
        #expect(patched.flags(asOf: instant).filter { $0.rule != .sequenceGap } == known.view.flags().filter { $0.rule != .sequenceGap })
        #expect(known.entriesInView - shown.entriesInView == late.count)

        // The picture changed: X000004 was unallocated as shown, allocated in time as known now.
        let unallocated = FlagFilter(rule: .caseUnallocated, subject: "X000004", openOnly: true)
        #expect(shown.view.flags(unallocated).count == 1)
        #expect(known.view.flags(unallocated).isEmpty)

        let integrity = ReportIntegrity.summary(reader: reader, journal: known.journal, undecodable: [], verifier: nil)
        let report = AuditReport.make(view: known, storePath: store, replayStorePath: nil, integrity: integrity)
        #expect(report.lateRecorded.events.count == 2)
        #expect(report.lateRecorded.comparedWith.name == "as-shown")
        #expect(report.lateRecorded.comparedDigest == shown.view.digest.hex)
        #expect(report.lateRecorded.casesChanged == ["X000001", "X000004"])
        #expect(report.lateRecorded.flagsOnlyInComparedView.contains { $0.hasPrefix("case-unallocated|X000004") })

        // Nothing is late after everything was recorded.
        let end = try Replay.view(from: reader, time: .asShown(at: aDay(30)))
        #expect(end.lateEvents.isEmpty)
        #expect(end.view.digest.hex == AuditScenario.fullState().digest(asOf: aDay(30), knownAt: aDay(30)))
    }

    @Test("replay writes a separate store, report.json and an escaped, self-contained report.html")
    func replayWritesFiles() throws {
        let (directory, store) = try scenarioStore("files")
        let liveBefore = try Data(contentsOf: URL(fileURLWithPath: store))
        let out = directory + "/out"
        var steps: [AuditProgress] = []
        let outcome = try Replay.run(storePath: store, time: .asShown(at: aDay(20)), directory: out, progress: { steps.append($0) })
        let dated = AuditScenario.events.filter { $0.event.time <= aDay(20) }.count
        #expect(dated < AuditScenario.events.count, "the replay reads only entries dated by its instant")
        #expect(steps.first == AuditProgress(done: 0, total: dated))
        #expect(steps.last == AuditProgress(done: dated, total: dated))

        // The live store is untouched; the replay store holds the view's entries and rows as of T.
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == liveBefore)
        let replayed = try StoreAuditReader(path: outcome.output.store)
        #expect(try replayed.journalSummary().count == outcome.view.entriesInView)
        let expected = AuditScenario.filteredState(asOf: aDay(20), knownAt: aDay(20))
        let caseKeys = try replayed.store.viewLeaves().keys.filter { $0.hasPrefix("case:") }.sorted()
        #expect(caseKeys == expected.caseIds(asOf: aDay(20), knownAt: aDay(20)).map { "case:\($0)" })
        #expect(try replayed.store.storedViewDigest().hex == AuditScenario.filteredDigest(asOf: aDay(20), knownAt: aDay(20)))
        #expect(!FileManager.default.fileExists(atPath: outcome.output.store + ".partial"))

        // JSON: readable back, perspective stated.
        let json = try Data(contentsOf: URL(fileURLWithPath: outcome.output.json))
        let report = try AuditReport(json: json)
        #expect(report == outcome.report)
        #expect(report.perspective.name == "as-shown")
        #expect(report.perspective.knownAt == aDay(20))
        #expect(report.generatedFrom.storePath == store)
        #expect(report.generatedFrom.journalEntries == AuditScenario.events.count)
        #expect(report.lateRecorded.events.map(\.subject) == ["X000003"])
        let ct1 = try #require(report.contracts.first { $0.contractId == "CT-0001" })
        #expect(ct1.payment?.totalPaymentMinor != nil)
        #expect(report.openFlags.allSatisfy { !$0.flags.isEmpty && $0.flags.allSatisfy { $0.open } })
        #expect(report.integrity.journalEntries == AuditScenario.events.count)

        // HTML: escaped, no script, states the perspective.
        let html = try String(contentsOfFile: outcome.output.html, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        #expect(html.contains("What the view showed at \(aDay(20))"))
        #expect(html.contains("Payment by results"))
        #expect(html.contains("ace-payback"))
        #expect(!html.contains("<link") && !html.contains("src="))

        // Running again replaces the files.
        let again = try Replay.run(storePath: store, time: .asShown(at: aDay(20)), directory: out)
        #expect(again.report == outcome.report)
    }

    @Test("HTML escaping")
    func escaping() {
        #expect(ReportHTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(ReportHTML.escape("plain — text") == "plain — text")
    }

    @Test("the replay refuses to write over the live store and reports a missing store")
    func refusals() throws {
        let (directory, store) = try scenarioStore("refuse")
        let live = directory + "/" + Replay.storeFileName
        try FileManager.default.moveItem(atPath: store, toPath: live)
        #expect(throws: AuditError.outputIsLiveStore(path: live)) {
            _ = try Replay.run(storePath: live, time: .asKnownNow(aDay(5)), directory: directory)
        }
        #expect(throws: StoreAuditError.missing(path: directory + "/nope.sqlite")) {
            _ = try Replay.run(storePath: directory + "/nope.sqlite", time: .asKnownNow(aDay(5)), directory: directory + "/x")
        }
    }
}
