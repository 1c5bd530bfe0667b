import AccordEvents
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

/// The store writer upcasts `case-transferred.v1` with its map of areas to offices before the
/// projection: a v1 transfer into a mapped area moves the case to the receiving office exactly as
/// the v2 transfer naming that office does.
@Suite("Stored view: v1 transfers upcast with the map of areas to offices")
struct TransferUpcastStoreTests {
    static let upcaster = EventUpcaster(areaOffices: .simulatedPartnership)
    static let london = "urn:accord:probation:nps-london"
    static let midlands = "urn:accord:probation:nps-midlands"
    static var now: ViewInstant { ViewInstant(asOf: day(40)) }

    /// Case X000001 opened in london-north by nps-london, allocated, transferred to `to` on day 10
    /// (v2 naming `office`, or v1 when `office` is nil), then a compliance failure on day 12 that no
    /// one answers, and an unallocated case X000002 opened on day 11. Same ids whatever the version.
    static func scenario(to area: String = "west-midlands", office: String?) -> [(AccordEvent, Timestamp)] {
        let f = Feed(salt: "transfer-upcast")
        let events = [
            f.opened(at: day(0)),
            f.allocated(at: day(1)),
            f.transferred(from: "london-north", to: area, office: office, at: day(10)),
            f.opened("X000002", at: day(11), area: area),
            f.failure("CF-1", referralId: nil, at: day(12)),
        ]
        return events.map { ($0, $0.time) }
    }

    static func store(_ name: String, _ events: [(AccordEvent, Timestamp)], upcaster: EventUpcaster)
        throws -> (path: String, writer: ViewStoreWriter, reader: StoreViewReader) {
        let path = TemporaryPaths.file("accord-upcast-\(name)")
        let writer = try StoreFixtures.write(events, to: path, upcaster: upcaster)
        return (path, writer, StoreViewReader(store: writer.store, rules: .defaults))
    }

    static func allFlags(_ reader: StoreViewReader) async throws -> [Flag] {
        try await reader.flags(at: now, filter: .all, page: PageSpec(limit: 500, cursor: nil)).items
    }

    @Test("a v1 transfer with the map moves probationSource to the receiving office exactly as a v2 does")
    func v1WithTheMapEqualsV2() async throws {
        let v1 = try Self.store("v1", Self.scenario(office: nil), upcaster: Self.upcaster)
        let v2 = try Self.store("v2", Self.scenario(office: "nps-midlands"), upcaster: Self.upcaster)
        defer {
            TemporaryPaths.removeStore(v1.path)
            TemporaryPaths.removeStore(v2.path)
        }
        let upcast = try #require(try await v1.reader.caseView("X000001", at: Self.now))
        let named = try #require(try await v2.reader.caseView("X000001", at: Self.now))
        #expect(upcast.probationSource == Self.midlands)
        #expect(upcast == named)
        #expect(try await v1.reader.timeline("X000001", at: Self.now) == (try await v2.reader.timeline("X000001", at: Self.now)))
        let flags = try await Self.allFlags(v1.reader)
        #expect(!flags.isEmpty)
        #expect(flags == (try await Self.allFlags(v2.reader)))
        var w1 = v1.writer, w2 = v2.writer
        #expect(try w1.viewDigest() == (try w2.viewDigest()), "the same view, to the digest")
        // The journal keeps the record as received: v1 stays v1 there.
        var types: [String] = []
        try v1.writer.store.forEachJournalEntry { types.append($0.type) }
        #expect(types.contains("org.accord.probation.case-transferred.v1"))
        #expect(!types.contains("org.accord.probation.case-transferred.v2"))
    }

    @Test("without the map, or into an area the map does not name, v1 keeps the opener's office")
    func unnamedAreasKeepTheOpener() async throws {
        let unmapped = try Self.store("unmapped", Self.scenario(office: nil), upcaster: .none)
        let elsewhere = try Self.store("elsewhere", Self.scenario(to: "wales", office: nil), upcaster: Self.upcaster)
        defer {
            TemporaryPaths.removeStore(unmapped.path)
            TemporaryPaths.removeStore(elsewhere.path)
        }
        #expect(try await unmapped.reader.caseView("X000001", at: Self.now)?.probationSource == Self.london)
        let moved = try #require(try await elsewhere.reader.caseView("X000001", at: Self.now))
        #expect(moved.probationSource == Self.london)
        #expect(moved.area == "wales")
    }

    @Test("a view derived with another map is rebuilt, and the rebuild applies the new map")
    func anotherMapRebuildsTheView() async throws {
        let (path, _, _) = try Self.store("rebuild", Self.scenario(office: nil), upcaster: .none)
        defer { TemporaryPaths.removeStore(path) }
        var plain = try ViewStoreWriter(store: try ProjectorStore(path: path), upcaster: .none)
        if try plain.rebuildReason() != nil { try plain.rebuildView() }  // a new store asks for one rebuild
        #expect(try plain.rebuildReason() == nil)
        #expect(try await StoreViewReader(store: plain.store, rules: .defaults).caseView("X000001", at: Self.now)?.probationSource
            == Self.london)
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: path), upcaster: Self.upcaster)
        let reason = try #require(try writer.rebuildReason())
        #expect(reason.contains("upcaster") && reason.contains(Self.upcaster.fingerprint), "\(reason)")
        try writer.rebuildView()
        #expect(try writer.rebuildReason() == nil)
        let reader = StoreViewReader(store: writer.store, rules: .defaults)
        #expect(try await reader.caseView("X000001", at: Self.now)?.probationSource == Self.midlands)
        #expect(try writer.store.meta("upcaster") == Self.upcaster.fingerprint)

        // A view written before upcasting existed has no record of it: it was derived without upcasting.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { try $0.execute(sql: "DELETE FROM view_meta WHERE key = 'upcaster'") }
        #expect(try ViewStoreWriter(store: try ProjectorStore(path: path), upcaster: .none).rebuildReason() == nil)
        #expect(try ViewStoreWriter(store: try ProjectorStore(path: path), upcaster: Self.upcaster).rebuildReason() != nil)
    }

    @Test("the --area-offices option: a file, none, the default, and clear errors")
    func option() throws {
        let directory = try TemporaryPaths.directory("area-offices")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try AreaOfficesOption.upcaster(nil, environment: [:]) == Self.upcaster)
        #expect(try AreaOfficesOption.upcaster("none", environment: [:]) == .none)
        let file = directory + "/areas.json"
        try Data(#"{"yorkshire": "nps-north-east"}"#.utf8).write(to: URL(fileURLWithPath: file))
        let fromFile = try AreaOfficesOption.upcaster(file, environment: [:])
        #expect(fromFile.areaOffices.officeByArea == ["yorkshire": "nps-north-east"])
        #expect(try AreaOfficesOption.upcaster(nil, environment: ["ACCORD_AREA_OFFICES": file]) == fromFile)
        #expect(try AreaOfficesOption.upcaster(file, environment: ["ACCORD_AREA_OFFICES": "none"]) == fromFile)
        do {
            _ = try AreaOfficesOption.upcaster(directory + "/missing.json", environment: [:])
            Issue.record("a missing file was accepted")
        } catch {
            #expect(error.message.contains("missing.json") && error.message.contains("cannot read"), "\(error)")
        }
        let bad = directory + "/bad.json"
        try Data(#"{"yorkshire": ["nps-north-east"]}"#.utf8).write(to: URL(fileURLWithPath: bad))
        do {
            _ = try AreaOfficesOption.upcaster(bad, environment: [:])
            Issue.record("a bad file was accepted")
        } catch {
            #expect(error.message.contains("bad.json") && error.message.contains("yorkshire"), "\(error)")
        }
    }
}
