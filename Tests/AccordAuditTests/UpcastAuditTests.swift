@testable import AccordAudit
import AccordEvents
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// Audits upcast `case-transferred.v1` events exactly as the projector did when given the same
/// map of areas to offices, and disagree with the projector when given another.
@Suite("audit commands upcast with the projector's map of areas to offices")
struct UpcastAuditTests {
    static let upcaster = EventUpcaster(areaOffices: .simulatedPartnership)
    static let midlands = "urn:accord:probation:nps-midlands"
    static let london = "urn:accord:probation:nps-london"

    /// 23 events from the sample sources: case X000001 opened in london-north by nps-london, then
    /// moved to west-midlands by a v1 transfer (no office named), then a compliance failure; 19
    /// other cases opened in between (the 21st event, one of those, is what `VerifyFixture` drops).
    static func events() -> [AccordEvent] {
        let f = Feed(salt: "upcast-audit")
        var events = [f.opened(at: day(0)), f.allocated(at: day(1))]
        for i in 2...20 {
            events.append(f.opened("X0000\(String(format: "%02d", i))", at: day(2 + Double(i) / 10), area: "london-south"))
        }
        events.append(f.transferred(from: "london-north", to: "west-midlands", at: day(10)))
        events.append(f.failure("CF-1", referralId: nil, at: day(12)))
        return events
    }

    @Test("verify replays the view digests the projector signed only with the projector's map")
    func verifyNeedsTheSameMap() throws {
        let fixture = try VerifyFixture.make(events: Self.events(), upcaster: Self.upcaster)
        defer { fixture.remove() }
        let same = try fixture.verify(upcaster: Self.upcaster)
        #expect(same.isIntact, "\(same.text)")
        let none = try fixture.verify(upcaster: .none)
        #expect(none.fault?.kind == .viewDigest, "\(none.text)")
    }

    @Test("rebuild from the journal with the projector's map compares clean; without it, the transferred case differs")
    func rebuildNeedsTheSameMap() async throws {
        let directory = try TemporaryPaths.directory("upcast-rebuild")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let live = directory + "/live.sqlite"
        try StoreFixtures.write(Self.events().map { ($0, $0.time) }, to: live, upcaster: Self.upcaster)
        let reader = StoreViewReader(store: try ProjectorStore(path: live), rules: .defaults)
        let liveCase = try await reader.caseView("X000001", at: ViewInstant(asOf: day(20)))
        #expect(liveCase?.probationSource == Self.midlands)

        let same = try await Rebuild.run(livePath: live, from: .journal, upcaster: Self.upcaster, compare: true,
                                         outputPath: directory + "/same.sqlite")
        let clean = try #require(same.comparison)
        #expect(clean.differences == [], "\(clean.differences)")
        #expect(same.viewDigest == clean.liveViewDigest)

        let other = try await Rebuild.run(livePath: live, from: .journal, upcaster: .none, compare: true,
                                          outputPath: directory + "/none.sqlite")
        let differing = try #require(other.comparison)
        #expect(!differing.passed)
        #expect(differing.differences.contains { $0.id.contains("X000001") }, "\(differing.differences)")
        let rebuilt = StoreViewReader(store: try ProjectorStore(path: other.outputPath), rules: .defaults)
        #expect(try await rebuilt.caseView("X000001", at: ViewInstant(asOf: day(20)))?.probationSource == Self.london)
    }

    @Test("replay with the projector's map reproduces its digest; without it, another one")
    func replayNeedsTheSameMap() throws {
        let directory = try TemporaryPaths.directory("upcast-replay")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let live = directory + "/live.sqlite"
        try StoreFixtures.write(Self.events().map { ($0, $0.time) }, to: live, upcaster: Self.upcaster)
        let reader = try StoreAuditReader(path: live)
        let time = ReplayTime.asKnownNow(day(20))
        let same = try Replay.replay(reader: reader, time: time, rules: .defaults, upcaster: Self.upcaster,
                                     into: directory + "/same.sqlite", progress: { _ in })
        #expect(same.replayDigest == same.view.digest.hex)
        #expect(same.view.caseView("X000001")?.probationSource == Self.midlands)
        let none = try Replay.replay(reader: reader, time: time, rules: .defaults, upcaster: .none,
                                     into: directory + "/none.sqlite", progress: { _ in })
        #expect(none.replayDigest != same.replayDigest)
    }

    @Test("the accord audit commands take --area-offices, defaulting to the projector's default")
    func commandLineOption() throws {
        let accord = verifyRepoRoot.appendingPathComponent(".build/debug/accord").path
        try #require(FileManager.default.isExecutableFile(atPath: accord), "build the accord executable first")
        let fixture = try VerifyFixture.make(events: Self.events(), upcaster: Self.upcaster)
        defer { fixture.remove() }
        let base = ["audit", "verify", "--store", fixture.path, "--key-registry", fixture.registryPath,
                    "--projector-key-pub", fixture.projectorKeyPath]

        let byDefault = try runAccord(accord, base)
        #expect(byDefault.status == 0, "\(byDefault.output)")

        let mapFile = fixture.path + ".areas.json"
        let badFile = fixture.path + ".bad-areas.json"
        defer {
            try? FileManager.default.removeItem(atPath: mapFile)
            try? FileManager.default.removeItem(atPath: badFile)
        }
        try Data(#"{"west-midlands": "nps-midlands", "london-north": "nps-london", "london-south": "nps-london"}"#.utf8)
            .write(to: URL(fileURLWithPath: mapFile))
        let fromFile = try runAccord(accord, base + ["--area-offices", mapFile])
        #expect(fromFile.status == 0, "\(fromFile.output)")

        let none = try runAccord(accord, base + ["--area-offices", "none"])
        #expect(none.status == 1, "\(none.output)")
        #expect(none.output.contains("view digest"), "\(none.output)")

        try Data(#"{"west-midlands": "NPS Midlands"}"#.utf8).write(to: URL(fileURLWithPath: badFile))
        let bad = try runAccord(accord, base + ["--area-offices", badFile])
        #expect(bad.status == 2, "\(bad.output)")
        #expect(bad.output.contains("--area-offices") && bad.output.contains("west-midlands"), "\(bad.output)")
    }
}
