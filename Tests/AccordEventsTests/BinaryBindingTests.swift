import AccordEvents
import Foundation
import Testing

@Suite("CloudEvents Kafka binary binding")
struct BinaryBindingTests {
    let codec = Support.codec

    @Test(arguments: EventKind.allCases)
    func everyKindRoundTripsThroughBinaryMode(kind: EventKind) throws {
        for variant in 0..<4 {
            let event = EventSamples.event(kind, subject: EventSamples.subject(for: kind, index: 7 + variant),
                                           sequence: Int64(1 + variant), time: Support.t0, variant: variant)
            try event.validate()
            let message = try codec.encodeBinary(event)
            #expect(message.key == Array(event.partitionKey.utf8))
            #expect(message.header("ce_type")?.text == kind.type)
            let decoded = try codec.decodeBinary(message, topic: kind.topic.name)
            #expect(decoded == event)
        }
    }

    @Test(arguments: EventKind.allCases)
    func everyKindRoundTripsThroughStructuredMode(kind: EventKind) throws {
        let event = EventSamples.event(kind, subject: EventSamples.subject(for: kind, index: 99), sequence: 9,
                                       time: Support.t0, variant: 5)
        let json = try codec.encodeStructured(event)
        #expect(try codec.decodeStructured(json) == event)
        #expect(try codec.decodeStructured(json, topic: kind.topic.name) == event)
    }

    @Test func headersValueAndKeyAreExactlyAsTheSpecWritesThem() throws {
        let message = try codec.encodeBinary(Support.fixedCaseClosed())
        let headers = message.headers.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }
        let expected: [(String, String)] = [
            ("ce_specversion", "1.0"),
            ("ce_id", "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192"),
            ("ce_source", "urn:accord:probation:nps-london"),
            ("ce_type", "org.accord.probation.case-closed.v1"),
            ("ce_subject", "X123456"),
            ("ce_time", "2025-03-03T09:00:00.250Z"),
            ("ce_dataschema", "https://accord.example/schemas/events/probation/case-closed.v1.schema.json"),
            ("ce_sequence", "42"),
            ("ce_partitionkey", "X123456"),
            ("ce_correlationid", "corr-1"),
            ("content-type", "application/json"),
        ]
        #expect(headers.map(\.0) == expected.map(\.0))
        #expect(headers.map(\.1) == expected.map(\.1))
        #expect(!headers.contains { $0.0 == "ce_datacontenttype" || $0.0 == "ce_data" })
        #expect(message.key == Array("X123456".utf8))
        #expect(String(decoding: message.value, as: UTF8.self) == #"{"caseId":"X123456","outcome":"completed"}"#)
    }

    @Test func structuredFormHasAttributesAndDataTogether() throws {
        let json = try codec.encodeStructured(Support.fixedCaseClosed())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["specversion"] as? String == "1.0")
        #expect(object["datacontenttype"] as? String == "application/json")
        #expect(object["sequence"] as? Int == 42)
        #expect(object["time"] as? String == "2025-03-03T09:00:00.250Z")
        #expect((object["data"] as? [String: Any])?["outcome"] as? String == "completed")
        #expect(object["signature"] == nil)
    }

    @Test func decodingIgnoresHeaderOrderAndForeignHeadersAndAcceptsSDKContentTypes() throws {
        let event = EventSamples.event(.appointmentMissed, subject: "X000123", sequence: 5, time: Support.t0)
        var message = try codec.encodeBinary(event)
        message.headers.reverse()
        message.headers.insert(MessageHeader(name: "traceparent", text: "00-abc-def-01"), at: 2)
        message.headers.append(MessageHeader(name: "ce_someotherextension", text: "ignored"))
        #expect(try codec.decodeBinary(message, topic: "interventions.delivery-events.v1") == event)
        for contentType in ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                            "Application/JSON", "application/json; charset=\"utf-8\""] {
            let m = Support.setting("content-type", contentType, in: message)
            #expect(try codec.decodeBinary(m, topic: "interventions.delivery-events.v1") == event, "\(contentType)")
        }
    }

    @Test func timeWithOffsetIsAcceptedAndNormalised() throws {
        let (message, topic) = try Support.message()
        let m = Support.setting("ce_time", "2025-03-03T10:00:00+01:00", in: message)
        #expect(try codec.decodeBinary(m, topic: topic).time == Support.t0)
    }

    @Test func optionalExtensionsRoundTrip() throws {
        var event = Support.fixedCaseClosed()
        event.causationId = "6a1f1c2e-0000-4000-8000-000000000001"
        event.signature = "ed25519:AAAA"
        event.prevHash = "sha256:beef"
        let message = try codec.encodeBinary(event)
        #expect(message.header("ce_causationid")?.text == "6a1f1c2e-0000-4000-8000-000000000001")
        #expect(try codec.decodeBinary(message, topic: "probation.case-events.v1") == event)
        #expect(try codec.decodeStructured(try codec.encodeStructured(event)) == event)
    }

    // Decoding speed is measured by `accord bench`, not asserted here.
    @Test func mixedStreamRoundTrips() throws {
        let events = EventSamples.mixed(count: 5_000, caseCount: 300)
        let messages = try events.map { (try codec.encodeBinary($0), $0.topic.name) }
        var decoded: [AccordEvent] = []
        decoded.reserveCapacity(messages.count)
        for (message, topic) in messages { decoded.append(try codec.decodeBinary(message, topic: topic)) }
        #expect(decoded == events)
    }
}
