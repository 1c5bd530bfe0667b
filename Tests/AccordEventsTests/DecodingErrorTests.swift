import AccordEvents
import Foundation
import Testing

@Suite("Decoding rejects bad input with a named field")
struct DecodingErrorTests {
    let codec = Support.codec

    private func expectError(_ message: BinaryMessage, topic: String, reason: EventError.Reason, field: String,
                             codec: EventCodec = Support.codec, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = Support.decodeError(message, topic: topic, codec: codec, sourceLocation: sourceLocation) else { return }
        #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation)
        #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("\(field): "), sourceLocation: sourceLocation)
    }

    @Test(arguments: ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema",
                      "ce_sequence", "ce_partitionkey", "content-type"])
    func missingRequiredAttribute(header: String) throws {
        let (message, topic) = try Support.message()
        let m = Support.setting(header, nil, in: message)
        expectError(m, topic: topic, reason: .missingAttribute, field: header)
        if header == "ce_source" {
            #expect(Support.decodeError(m, topic: topic)?.description == "ce_source: missing required attribute")
        }
    }

    @Test func wrongTypeNamesTheDataPath() throws {
        let (message, topic) = try Support.message(.caseOpened)
        var m = message
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":[{"kind":"unpaid-work","hours":"120"}],"startDate":"2025-03-03","expectedEndDate":"2026-03-03","area":"london-north","riskLevel":"high"}"#.utf8)
        let error = Support.decodeError(m, topic: topic)
        #expect(error?.description == "data.requirements[0].hours: expected number, found string")
        #expect(error?.reason == .wrongType)

        m.value = Array(#"{"caseId":"X123456","referralId":"R1","providerId":"p","violationId":"V","detectedAt":"2025-03-03T23:00:00Z","durationMinutes":4.5}"#.utf8)
        let (cv, cvTopic) = try Support.message(.curfewViolationDetected)
        m.headers = cv.headers
        let intError = Support.decodeError(m, topic: cvTopic)
        #expect(intError?.field == "data.durationMinutes", "\(String(describing: intError))")
        #expect(intError?.reason == .wrongType)
    }

    @Test func missingPropertyAndBadEnumAndBadDateNameTheField() throws {
        let (message, topic) = try Support.message(.caseOpened)
        var m = message
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":[],"startDate":"2025-03-03","expectedEndDate":"2026-03-03","area":"london-north"}"#.utf8)
        expectError(m, topic: topic, reason: .missingAttribute, field: "data.riskLevel")
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":[],"startDate":"2025-03-03","expectedEndDate":"2026-03-03","area":"london-north","riskLevel":"extreme"}"#.utf8)
        expectError(m, topic: topic, reason: .invalidValue, field: "data.riskLevel")
        #expect(Support.decodeError(m, topic: topic)?.message.contains("low, medium, high, very-high") == true)
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":[],"startDate":"2025-02-30","expectedEndDate":"2026-03-03","area":"london-north","riskLevel":"low"}"#.utf8)
        expectError(m, topic: topic, reason: .invalidValue, field: "data.startDate")
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":[{"kind":"community-service"}],"startDate":"2025-03-03","expectedEndDate":"2026-03-03","area":"london-north","riskLevel":"low"}"#.utf8)
        expectError(m, topic: topic, reason: .invalidValue, field: "data.requirements[0].kind")
        m.value = Array(#"{"caseId":"X123456","orderType":"licence","requirements":null,"startDate":"2025-03-03","expectedEndDate":"2026-03-03","area":"london-north","riskLevel":"low"}"#.utf8)
        expectError(m, topic: topic, reason: .wrongType, field: "data.requirements")
    }

    @Test func semanticRulesNameTheField() throws {
        let (message, topic) = try Support.message(.unpaidWorkHoursLogged)
        var m = message
        m.value = Array(#"{"caseId":"X123456","referralId":"R1","providerId":"ace","hours":-1,"date":"2025-03-03"}"#.utf8)
        expectError(m, topic: topic, reason: .invalidValue, field: "data.hours")
        m.value = Array(#"{"caseId":"X123456","referralId":"R 1","providerId":"ace","hours":1,"date":"2025-03-03"}"#.utf8)
        expectError(m, topic: topic, reason: .invalidValue, field: "data.referralId")
    }

    @Test func malformedJSONIsRejected() throws {
        let (message, topic) = try Support.message()
        var m = message
        m.value = Array("{not json".utf8)
        expectError(m, topic: topic, reason: .malformed, field: "data")
        m.value = Array("[1,2]".utf8)
        expectError(m, topic: topic, reason: .wrongType, field: "data")
    }

    @Test func unknownTypeAndUnknownVersionAreDistinct() throws {
        let (message, topic) = try Support.message()
        expectError(Support.setting("ce_type", "org.accord.probation.case-teleported.v1", in: message), topic: topic,
                    reason: .unknownType, field: "ce_type")
        expectError(Support.setting("ce_type", "org.accord.probation.case-opened.v9", in: message), topic: topic,
                    reason: .unknownVersion, field: "ce_type")
        expectError(Support.setting("ce_type", "com.example.other", in: message), topic: topic,
                    reason: .unknownType, field: "ce_type")
    }

    @Test func sourceMustOwnTheTopicAndTypeMustBelongToIt() throws {
        let (message, topic) = try Support.message(.caseOpened)
        // An intervention provider writing to probation's topic.
        expectError(Support.setting("ce_source", "urn:accord:interventions:ace-payback", in: message), topic: topic,
                    reason: .sourceNotTopicOwner, field: "ce_source")
        // Probation's event read from the interventions topic: the probation source does not own it.
        expectError(message, topic: "interventions.delivery-events.v1", reason: .sourceNotTopicOwner, field: "ce_source")
        // The commissioner owns both of its topics, but a contract event does not belong on the police topic.
        let (contract, _) = try Support.message(.contractAwarded)
        expectError(contract, topic: "police.outcome-events.v1", reason: .sourceNotTopicOwner, field: "ce_type")
        expectError(message, topic: "accord.dead-letter.v1", reason: .unknownTopic, field: "topic")
        expectError(message, topic: "probation.case-events.v2", reason: .unknownTopic, field: "topic")
        expectError(Support.setting("ce_source", "https://example.org/probation", in: message), topic: topic,
                    reason: .invalidValue, field: "ce_source")
    }

    @Test func oversizedPayloadIsRejectedBeforeParsing() throws {
        let (message, topic) = try Support.message()
        let small = EventCodec(maxPayloadBytes: 64)
        expectError(message, topic: topic, reason: .payloadTooLarge, field: "value", codec: small)
        var huge = message
        huge.value = [UInt8](repeating: UInt8(ascii: "x"), count: EventCodec.defaultMaxPayloadBytes + 1)
        // Not JSON at all, so only a size check that runs first can report payload-too-large.
        expectError(huge, topic: topic, reason: .payloadTooLarge, field: "value")
        var exact = message
        exact.value += [UInt8](repeating: UInt8(ascii: " "), count: EventCodec.defaultMaxPayloadBytes - message.value.count)
        #expect(throws: Never.self) { try codec.decodeBinary(exact, topic: topic) }
        let structured = try small.encodeStructured(EventSamples.event(.caseClosed, subject: "X000001", sequence: 1, time: Support.t0))
        #expect(throws: EventError.self) { try small.decodeStructured(structured) }
    }

    @Test func badTimeIdSpecversionAndSequence() throws {
        let (message, topic) = try Support.message()
        for bad in ["2025-03-03 09:00:00", "2025-13-03T09:00:00Z", "1741000000", ""] {
            expectError(Support.setting("ce_time", bad, in: message), topic: topic, reason: .invalidTime, field: "ce_time")
        }
        for bad in ["42", "3f2b8c1e9a4d4e7b8c2a1d5e6f708192", "{3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f708192}", "not-a-uuid"] {
            expectError(Support.setting("ce_id", bad, in: message), topic: topic, reason: .invalidId, field: "ce_id")
        }
        for bad in ["0.3", "1", "1.0 ", "2.0"] {
            expectError(Support.setting("ce_specversion", bad, in: message), topic: topic,
                        reason: .invalidSpecVersion, field: "ce_specversion")
        }
        for bad in ["0", "-1", "+1", "abc", "1.5", "99999999999999999999"] {
            expectError(Support.setting("ce_sequence", bad, in: message), topic: topic,
                        reason: .invalidValue, field: "ce_sequence")
        }
        expectError(Support.setting("ce_correlationid", "has space", in: message), topic: topic,
                    reason: .invalidValue, field: "ce_correlationid")
        expectError(Support.setting("ce_dataschema", "https://accord.example/schemas/other.json", in: message),
                    topic: topic, reason: .invalidValue, field: "ce_dataschema")
        expectError(Support.setting("content-type", "application/avro", in: message), topic: topic,
                    reason: .unsupportedContentType, field: "content-type")
        expectError(Support.setting("content-type", "application/json; charset=latin1", in: message), topic: topic,
                    reason: .unsupportedContentType, field: "content-type")
    }

    @Test func subjectPartitionKeyRecordKeyAndPayloadMustAgree() throws {
        let (message, topic) = try Support.message(.caseClosed, subjectIndex: 123_456)
        expectError(Support.setting("ce_partitionkey", "X999999", in: message), topic: topic,
                    reason: .subjectMismatch, field: "ce_partitionkey")
        var wrongKey = message
        wrongKey.key = Array("X999999".utf8)
        expectError(wrongKey, topic: topic, reason: .subjectMismatch, field: "key")
        var noKey = message
        noKey.key = nil
        expectError(noKey, topic: topic, reason: .missingAttribute, field: "key")
        var both = Support.setting("ce_subject", "X999999", in: Support.setting("ce_partitionkey", "X999999", in: message))
        both.key = Array("X999999".utf8)
        expectError(both, topic: topic, reason: .subjectMismatch, field: "data.caseId")
    }

    @Test func duplicateAndNonUTF8HeadersAreRejected() throws {
        let (message, topic) = try Support.message()
        var duplicate = message
        duplicate.headers.append(MessageHeader(name: "ce_source", text: "urn:accord:probation:other"))
        expectError(duplicate, topic: topic, reason: .duplicateAttribute, field: "ce_source")
        var binary = Support.setting("ce_subject", nil, in: message)
        binary.headers.append(MessageHeader(name: "ce_subject", value: [0xff, 0xfe]))
        expectError(binary, topic: topic, reason: .malformed, field: "ce_subject")
    }

    @Test func structuredModeNamesAttributesByJSONName() throws {
        let json = try codec.encodeStructured(EventSamples.event(.caseClosed, subject: "X000001", sequence: 1, time: Support.t0))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        object["sequence"] = "1"
        let decode = { (object: [String: Any]) throws -> EventError? in
            let bytes = Array(try JSONSerialization.data(withJSONObject: object))
            do { _ = try codec.decodeStructured(bytes) } catch let error as EventError { return error }
            return nil
        }
        var error = try decode(object)
        #expect(error?.field == "sequence")
        #expect(error?.reason == .wrongType)
        object["sequence"] = 1
        object.removeValue(forKey: "data")
        error = try decode(object)
        #expect(error?.description == "data: missing required property")
    }
}
