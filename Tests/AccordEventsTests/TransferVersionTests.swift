import AccordEvents
import Foundation
import Testing

/// `case-transferred.v2` (names the receiving probation office) beside v1 (areas only), and the
/// upcaster that reads v1 in the v2 meaning with a map of areas to offices.
@Suite("case-transferred v1 and v2, and the v1 → v2 upcaster")
struct TransferVersionTests {
    let codec = Support.codec
    static let source = EventSource(urn: "urn:accord:probation:nps-london")!
    static let id = UUID(uuidString: "6A1F0C2E-1B3D-4C5E-8F70-9A8B7C6D5E4F")!

    static func event(_ transfer: CaseTransferred) -> AccordEvent {
        AccordEvent(id: id, source: source, time: Support.t0, sequence: 5, payload: transfer.payload)
    }

    static let v1 = CaseTransferred(caseId: "X123456", fromArea: "london-north", toArea: "west-midlands",
                                    newPractitionerId: "PR-7")
    static let v2 = CaseTransferred(caseId: "X123456", fromArea: "london-north", toArea: "west-midlands",
                                    newPractitionerId: "PR-7", toProbationId: "nps-midlands")

    static let map = try! AreaOffices(["west-midlands": "nps-midlands", "london-north": "nps-london"])

    /// A binary message of `event` whose `data` is replaced by `json` (headers say what the event says).
    func message(_ event: AccordEvent, data json: String) throws -> BinaryMessage {
        var message = try codec.encodeBinary(event)
        message.value = Array(json.utf8)
        return message
    }

    func header(_ name: String, _ message: BinaryMessage) -> String? {
        message.headers.first { $0.name == name }?.text
    }

    @Test func catalogueHasBothVersionsOnTheProbationTopic() {
        #expect(EventKind.caseTransferredV2.type == "org.accord.probation.case-transferred.v2")
        #expect(EventKind.caseTransferredV2.version == 2)
        #expect(EventKind.caseTransferredV2.name == EventKind.caseTransferred.name)
        #expect(EventKind.caseTransferredV2.typeBase == EventKind.caseTransferred.typeBase)
        #expect(EventKind.caseTransferredV2.schemaPath == "events/probation/case-transferred.v2.schema.json")
        #expect(EventKind.caseTransferredV2.topic == .probationCaseEvents)
        #expect(EventKind.caseTransferredV2.owner == .probation)
        #expect(EventKind.lookup(type: "org.accord.probation.case-transferred.v2") == .known(.caseTransferredV2))
        #expect(EventKind.lookup(type: "org.accord.probation.case-transferred.v3") == .unknownVersion(knownVersions: [1, 2]))
        #expect(Self.v1.payload.kind == .caseTransferred)
        #expect(Self.v2.payload.kind == .caseTransferredV2)
    }

    @Test func v2RoundTripsInBothModesWithItsOwnTypeAndSchema() throws {
        let event = Self.event(Self.v2)
        try event.validate()
        let binary = try codec.encodeBinary(event)
        #expect(header("ce_type", binary) == "org.accord.probation.case-transferred.v2")
        #expect(header("ce_dataschema", binary) == "https://accord.example/schemas/events/probation/case-transferred.v2.schema.json")
        #expect(String(decoding: binary.value, as: UTF8.self).contains(#""toProbationId":"nps-midlands""#))
        #expect(try codec.decodeBinary(binary, topic: "probation.case-events.v1") == event)
        let structured = try codec.encodeStructured(event)
        #expect(try codec.decodeStructured(structured) == event)
        #expect(try codec.decodeData(try codec.encodeData(event.payload), kind: .caseTransferredV2) == event.payload)
    }

    @Test func v1StillRoundTripsWithoutAnOffice() throws {
        let event = Self.event(Self.v1)
        let binary = try codec.encodeBinary(event)
        #expect(header("ce_type", binary) == "org.accord.probation.case-transferred.v1")
        #expect(!String(decoding: binary.value, as: UTF8.self).contains("toProbationId"))
        let decoded = try codec.decodeBinary(binary, topic: "probation.case-events.v1")
        #expect(decoded == event)
        #expect(decoded.kind == .caseTransferred)
    }

    @Test func v2WithoutTheOfficeIsRejectedNamingTheField() throws {
        let event = Self.event(Self.v2)
        for data in [#"{"caseId":"X123456","fromArea":"london-north","toArea":"west-midlands"}"#,
                     #"{"caseId":"X123456","fromArea":"london-north","toArea":"west-midlands","toProbationId":null}"#] {
            let error = try #require(Support.decodeError(try message(event, data: data), topic: "probation.case-events.v1"))
            #expect(error.field == "data.toProbationId", "\(error)")
            #expect(error.reason == .missingAttribute, "\(error)")
            #expect(error.message.contains("receiving probation office"), "\(error)")
        }
    }

    @Test(arguments: ["", "NPS Midlands", "nps_midlands", "-nps", String(repeating: "a", count: 64)])
    func v2WithABadOfficeIsRejectedNamingTheField(office: String) throws {
        let event = Self.event(Self.v2)
        let data = #"{"caseId":"X123456","fromArea":"london-north","toArea":"west-midlands","toProbationId":"\#(office)"}"#
        let error = try #require(Support.decodeError(try message(event, data: data), topic: "probation.case-events.v1"))
        #expect(error.field == "data.toProbationId", "\(error)")
        #expect(error.reason == .invalidValue, "\(error)")
        #expect(error.message.contains("agency id"), "\(error)")
        var bad = Self.v2
        bad.toProbationId = office
        #expect(throws: EventError.self) { try Self.event(bad).validate() }
    }

    @Test func v2WithTheOfficeOfTheWrongTypeIsRejected() throws {
        let data = #"{"caseId":"X123456","fromArea":"london-north","toArea":"west-midlands","toProbationId":7}"#
        let error = try #require(Support.decodeError(try message(Self.event(Self.v2), data: data), topic: "probation.case-events.v1"))
        #expect(error.field == "data.toProbationId", "\(error)")
        #expect(error.reason == .wrongType, "\(error)")
    }

    @Test func v1CarryingAnOfficeIsRejectedPointingToV2() throws {
        let data = #"{"caseId":"X123456","fromArea":"london-north","toArea":"west-midlands","toProbationId":"nps-midlands"}"#
        let error = try #require(Support.decodeError(try message(Self.event(Self.v1), data: data), topic: "probation.case-events.v1"))
        #expect(error.field == "data.toProbationId", "\(error)")
        #expect(error.message.contains("case-transferred.v2"), "\(error)")
    }

    @Test func upcastFillsTheOfficeOfANamedArea() throws {
        let upcaster = EventUpcaster(areaOffices: Self.map)
        let upcast = upcaster.upcast(Self.event(Self.v1))
        #expect(upcast == Self.event(Self.v2))
        #expect(upcast.kind == .caseTransferredV2)
        #expect(upcast.id == Self.id && upcast.sequence == 5 && upcast.source == Self.source && upcast.time == Support.t0)
        try upcast.validate()
    }

    @Test func upcastLeavesATransferIntoAnUnnamedAreaAsV1() {
        let upcaster = EventUpcaster(areaOffices: Self.map)
        let elsewhere = CaseTransferred(caseId: "X123456", fromArea: "west-midlands", toArea: "yorkshire")
        #expect(upcaster.upcast(Self.event(elsewhere)) == Self.event(elsewhere))
        #expect(upcaster.upcast(elsewhere.payload).kind == .caseTransferred)
        #expect(EventUpcaster.none.upcast(Self.event(Self.v1)) == Self.event(Self.v1))
    }

    @Test func upcastKeepsTheOfficeAV2NamesAndEveryOtherEvent() {
        let upcaster = EventUpcaster(areaOffices: try! AreaOffices(["west-midlands": "nps-other"]))
        #expect(upcaster.upcast(Self.event(Self.v2)) == Self.event(Self.v2))
        for event in EventSamples.oneOfEach() where event.kind != .caseTransferred {
            #expect(upcaster.upcast(event) == event, "\(event.type)")
        }
    }

    @Test func upcastIsDeterministicAndItsFingerprintFollowsTheMap() throws {
        let a = EventUpcaster(areaOffices: Self.map)
        let b = EventUpcaster(areaOffices: try AreaOffices(json: Array(#"{"london-north":"nps-london","west-midlands":"nps-midlands"}"#.utf8)))
        #expect(a == b)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint.hasPrefix("area-offices-") && a.fingerprint.count == "area-offices-".count + 16)
        #expect(EventUpcaster.none.fingerprint == "none")
        let other = EventUpcaster(areaOffices: try AreaOffices(["west-midlands": "nps-london", "london-north": "nps-london"]))
        #expect(other.fingerprint != a.fingerprint)
        let events = EventSamples.mixed(count: 500, caseCount: 20)
        #expect(events.map(a.upcast) == events.map(b.upcast))
        #expect(Self.map.canonicalJSON == #"{"london-north":"nps-london","west-midlands":"nps-midlands"}"#)
    }

    @Test func theSimulatedPartnershipMapNamesItsAreas() {
        #expect(AreaOffices.simulatedPartnership.office(for: "london-south") == "nps-london")
        #expect(AreaOffices.simulatedPartnership.office(for: "west-midlands") == "nps-midlands")
        #expect(AreaOffices.simulatedPartnership.office(for: "wales") == nil)
    }

    @Test(arguments: [
        ("[]", "expected a JSON object"),
        ("{", "not well-formed JSON"),
        (#"{"London North": "nps-london"}"#, "is not an area code"),
        (#"{"london-north": "NPS London"}"#, "is not a probation office's agency id"),
        (#"{"london-north": 3}"#, "must be a string"),
    ])
    func badAreaOfficesFilesAreRefusedWithTheReason(json: String, expected: String) {
        do {
            let offices = try AreaOffices(json: Array(json.utf8))
            Issue.record("accepted \(json) as \(offices)")
        } catch {
            #expect(error.message.contains(expected), "\(error)")
        }
    }
}
