import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import Testing

/// The §11.7 scenario of `schemas/integrity.md`: its records are the canonical JSON of the golden
/// vectors, and its digest is their root. Pins the record format: any change to a record's bytes
/// is a change of `semanticsVersion` and of the vectors.
@Suite("View records: the golden vectors' scenario")
struct ViewRecordVectorTests {
    struct Vectors: Decodable {
        struct Record: Decodable {
            let key: String
            let canonical: String
        }
        let records: [Record]
        let root: String
    }

    static func scenario() throws -> [AccordEvent] {
        let source = try #require(EventSource(urn: "urn:accord:probation:nps-london"))
        func opened(_ id: String, _ caseId: String, _ time: String, _ sequence: Int64, _ order: OrderType, hours: Double,
                    end: String, risk: RiskLevel) throws -> AccordEvent {
            AccordEvent(id: try #require(UUID(uuidString: id)), source: source, time: try #require(Timestamp(rfc3339: time)),
                        sequence: sequence,
                        payload: CaseOpened(caseId: caseId, orderType: order, requirements: [.unpaidWork(hours: hours)],
                                            startDate: try #require(CalendarDate("2025-03-03")),
                                            expectedEndDate: try #require(CalendarDate(end)), area: "london-north",
                                            riskLevel: risk).payload,
                        correlationId: "corr-\(caseId)")
        }
        let allocated = AccordEvent(
            id: try #require(UUID(uuidString: "03aea49d-20b4-8d6b-b33c-605a34979def")), source: source,
            time: try #require(Timestamp(rfc3339: "2025-03-03T09:01:00Z")), sequence: 2,
            payload: PractitionerAllocated(caseId: "X123457", practitionerId: "PR-101", team: "north-team-2").payload,
            correlationId: "corr-X123457")
        return [
            try opened("03aea49d-20b4-8d6b-b33c-605a34979dee", "X123457", "2025-03-03T09:00:00Z", 1, .communityOrder,
                       hours: 100, end: "2026-03-02", risk: .medium),
            allocated,
            try opened("03aea49d-20b4-8d6b-b33c-605a34979df0", "X123458", "2025-03-03T09:02:00Z", 3, .suspendedSentenceOrder,
                       hours: 40, end: "2025-09-02", risk: .high),
        ]
    }

    @Test("the scenario's records are the vectors' canonical JSON, and its digest is their root, in any order")
    func recordsAndRoot() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/integrity/view-vectors.json")
        let vectors = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        let events = try Self.scenario()
        for order in [events, events.reversed()] {
            var state = ProjectionState()
            for event in order { state.apply(event, recordedAt: event.time) }
            let view = state.folded(asOf: try #require(Timestamp(rfc3339: "2025-03-04T00:00:00Z")))
            for record in vectors.records {
                let bytes: [UInt8]? = switch SubjectKey(record.key) {
                case .caseId(let id)?: view.cases[id].map { SubjectCanonical.bytes($0.record) }
                case .source(let urn)?: view.sources[urn].map { SubjectCanonical.bytes($0) }
                default: nil
                }
                #expect(bytes.map { String(decoding: $0, as: UTF8.self) } == record.canonical, "record of \(record.key)")
            }
            #expect(view.digest.hex == vectors.root)
            #expect(state.viewDigest().hex == vectors.root)
        }
    }
}
