@testable import AccordService
import AccordEvents
import AccordJSON
import Foundation
import Testing

@Suite("Intake parsing and reaction state (no broker)")
struct UnitTests {
    @Test("codec fields become JSON Pointers")
    func pointers() {
        #expect(JSONPointer.pointer(prefix: ["3"], field: "data.requirements[0].hours") == "/3/data/requirements/0/hours")
        #expect(JSONPointer.pointer(prefix: [], field: "data") == "/data")
        #expect(JSONPointer.pointer(["a/b", "c~d"]) == "/a~1b/c~0d")
    }

    @Test("the 202 body written by hand is the document JSONEncoder writes, escapes included")
    func acceptedBody() throws {
        let plain = Acknowledgement(id: "0b6b7f0e-3f4e-4f51-8f7a-2d7a0c1b9e10", type: "org.accord.probation.case-opened.v1",
                                    subject: "X100001", source: "urn:accord:probation:nps-london", time: "2025-03-03T09:00:00Z",
                                    sequence: 12, topic: "probation.case-events.v1", partition: 3, position: 7, offset: nil)
        var odd = plain
        odd.subject = "quote \" back \\ slash / tab \t line \n bell \u{07} é"
        odd.offset = 42
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        struct Body: Encodable { var accepted: [Acknowledgement] }
        let written = AcceptedBody.encode([plain, odd])
        #expect(try JSONDecoder().decode([String: [Acknowledgement]].self, from: Data(written))["accepted"] == [plain, odd])
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try encoder.encode(Body(accepted: [plain, odd])), as: UTF8.self))
    }

    @Test("every kind's data, as the codec writes it, passes the strict checks; an added field or a repeated name anywhere does not")
    func strictData() throws {
        let codec = EventCodec()
        for kind in EventKind.allCases {
            for variant in 0..<3 {
                let payload = EventSamples.payload(kind, subject: EventSamples.subject(for: kind, index: variant), variant: variant)
                let data = String(decoding: try codec.encodeData(payload), as: UTF8.self)
                let body = Array(#"{"type": "\#(kind.type)", "data": \#(data)}"#.utf8)
                let validator = IntakeValidator(source: EventSamples.source(for: kind.owner), codec: codec)
                let raw = try SubmissionReader.readJSON(body, batchOnly: false)
                let (accepted, errors) = validator.validateItem(try #require(raw.first))
                #expect(accepted != nil && errors.isEmpty, "\(kind.type): \(errors)")
            }
        }
        let kept = try JSONDocument.parse(Array(#"{"a": 1, "list": [{"b": 2}], "opt": 3}"#.utf8))
        let sent = try JSONDocument.parse(Array(#"{"a": 1, "list": [{"b": 2, "x": true}], "opt": null, "y": null, "z": 0}"#.utf8))
        #expect(StrictData.unknownMembers(sent: sent, kept: kept, kind: .caseOpened).map(\.field) == ["data.list[0].x", "data.z"])
        let repeated = try JSONDocument.parse(Array(#"{"a": {"b": [{"c": 1, "c": 2}]}, "a": 3}"#.utf8))
        #expect(StrictData.duplicateNames(in: repeated).map(\.field) == ["data.a.b[0].c", "data.a"])
        // A name that is not a plain word is one pointer token, shown in quotes.
        let odd = try JSONDocument.parse(Array(#"{"a.b": 1, "x/y": {"[0]": 2}}"#.utf8))
        let unknown = StrictData.unknownMembers(sent: odd, kept: try JSONDocument.parse(Array("{}".utf8)), kind: .caseOpened)
        #expect(unknown.map(\.field) == [#"data["a.b"]"#, #"data["x/y"]"#])
        #expect(unknown.map(\.tokens) == [["data", "a.b"], ["data", "x/y"]])
        #expect(JSONPointer.pointer(unknown[1].tokens) == "/data/x~1y")
    }

    @Test("enforcement actions linked to other incidents do not settle this one")
    func enforcementLinks() throws {
        let source = EventSamples.probationSource
        let worklist = try EnforcementWorklist(source: source)
        let t0 = EventSamples.defaultStart
        func at(_ hours: Int64) -> Timestamp { t0.adding(seconds: hours * 3600) ?? t0 }
        let asOf = at(24)
        try worklist.apply(AccordEvent(id: UUID(), source: source, time: t0, sequence: 1,
                                   payload: EventSamples.payload(.caseOpened, subject: "X900001")), recordedAt: t0)
        // Only the provider the referral was made to reports incidents that need a decision.
        try worklist.apply(AccordEvent(id: UUID(), source: source, time: t0, sequence: 2,
                                   payload: InterventionReferred(caseId: "X900001", referralId: "REF-1", contractId: "CT-1",
                                                                 providerId: "ace-payback", interventionType: .unpaidWork,
                                                                 dueBy: EventSamples.defaultDate).payload),
                       recordedAt: t0)
        let first = UUID()
        let second = UUID()
        for (id, hour) in [(first, Int64(1)), (second, Int64(2))] {
            try worklist.apply(AccordEvent(id: id, source: EventSamples.interventionsSource, time: at(hour), sequence: hour,
                                       payload: AppointmentMissed(caseId: "X900001", referralId: "REF-1", providerId: "ace-payback",
                                                                  appointmentId: "AP-\(hour)", acceptable: false, reason: "none").payload),
                           recordedAt: at(hour))
        }
        // An acceptable absence never needs a decision.
        try worklist.apply(AccordEvent(id: UUID(), source: EventSamples.interventionsSource, time: at(3), sequence: 3,
                                   payload: AppointmentMissed(caseId: "X900001", referralId: "REF-1", providerId: "ace-payback",
                                                              appointmentId: "AP-3", acceptable: true, reason: "ill").payload),
                       recordedAt: at(3))
        #expect(try worklist.items(asOf: asOf).count == 2)
        try worklist.apply(AccordEvent(id: UUID(), source: source, time: at(4), sequence: 3,
                                   payload: ComplianceFailureRecorded(caseId: "X900001", failureId: "CF-1", kind: .missedAppointment,
                                                                      relatedEventId: first).payload), recordedAt: at(4))
        try worklist.apply(AccordEvent(id: UUID(), source: source, time: at(5), sequence: 4,
                                   payload: EnforcementActionTaken(caseId: "X900001", action: .warning, failureIds: ["CF-1"]).payload),
                       recordedAt: at(5))
        #expect(try worklist.items(asOf: asOf).map(\.eventId) == [second.uuidString.lowercased()])
    }

    @Test("referral response days follow the latest contract variation")
    func referralTerms() throws {
        let worklist = try ReferralWorklist(source: EventSamples.interventionsSource)
        let t0 = EventSamples.defaultStart
        let asOf = t0.adding(seconds: 3600) ?? t0
        try worklist.apply(AccordEvent(id: UUID(), source: EventSamples.probationSource, time: t0, sequence: 1,
                                   payload: InterventionReferred(caseId: "X1", referralId: "R-1", contractId: "CT-1", providerId: "ace-payback",
                                                                 interventionType: .unpaidWork, dueBy: EventSamples.defaultDate).payload),
                       recordedAt: t0)
        #expect(try worklist.items(asOf: asOf).first?.responseDays == 5)
        #expect(try worklist.items(asOf: asOf).first?.contractKnown == false)
        try worklist.apply(AccordEvent(id: UUID(), source: EventSamples.commissionerSource, time: t0, sequence: 2,
                                   payload: ContractVaried(contractId: "CT-1", serviceLevels: ServiceLevels(
                                       referralResponseDays: 2, startWithinDays: 5, minimumCompletionRate: 0.5)).payload),
                       recordedAt: t0)
        try worklist.apply(AccordEvent(id: UUID(), source: EventSamples.commissionerSource, time: t0, sequence: 1,
                                   payload: EventSamples.payload(.contractAwarded, subject: "CT-1")), recordedAt: t0)
        #expect(try worklist.items(asOf: asOf).first?.responseDays == 2)
        #expect(try worklist.items(asOf: asOf).first?.respondBy == "2025-03-05T09:00:00Z")
    }
}
