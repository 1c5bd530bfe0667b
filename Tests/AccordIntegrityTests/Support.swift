import AccordEvents
import Testing
@testable import AccordIntegrity

/// Shared fixtures: the golden vector of `schemas/integrity.md` §8 and test keys.
enum Golden {
    static let headers: [MessageHeader] = [
        ("ce_specversion", "1.0"),
        ("ce_id", "03aea49d-20b4-8d6b-b33c-605a34979def"),
        ("ce_source", "urn:accord:probation:nps-london"),
        ("ce_type", "org.accord.probation.practitioner-allocated.v1"),
        ("ce_subject", "X123457"),
        ("ce_time", "2025-03-03T09:01:00Z"),
        ("ce_dataschema", "https://accord.example/schemas/events/probation/practitioner-allocated.v1.schema.json"),
        ("ce_sequence", "2"),
        ("ce_partitionkey", "X123457"),
        ("ce_correlationid", "corr-X123457"),
        ("ce_prevhash", String(repeating: "0", count: 64)),
        ("ce_signature", "not-part-of-the-hash"),
        ("content-type", "application/json"),
        ("traceparent", "00-not-a-cloudevents-header-01"),
    ].map { MessageHeader(name: $0.0, text: $0.1) }
    static let value: [UInt8] = Array(#"{"caseId":"X123457","practitionerId":"PR-101","team":"north-team-2"}"#.utf8)
    static let message = BinaryMessage(key: Array("X123457".utf8), headers: headers, value: value)
    static let eventHash = "58dd0ffec1f5f4ddf0dd6fe031ef66bbf9bf24873874e034654ee656affd0ae3"
    static let preimage = """
        accord-event-v1
        correlationid=corr-X123457
        datacontenttype=application/json
        dataschema=https://accord.example/schemas/events/probation/practitioner-allocated.v1.schema.json
        id=03aea49d-20b4-8d6b-b33c-605a34979def
        partitionkey=X123457
        prevhash=0000000000000000000000000000000000000000000000000000000000000000
        sequence=2
        source=urn:accord:probation:nps-london
        specversion=1.0
        subject=X123457
        time=2025-03-03T09:01:00Z
        type=org.accord.probation.practitioner-allocated.v1

        {"caseId":"X123457","practitionerId":"PR-101","team":"north-team-2"}
        """

    /// RFC 8032 test vector 1 secret key: a published key, for golden vectors only.
    static let privateKeyHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let publicKeyBase64 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    static let keyId = "21fe31dfa154a261"
    static let checkpointBytes = """
        accord-checkpoint-v1
        source=urn:accord:probation:nps-london
        topic=probation.case-events.v1
        partition=3
        count=1
        head=58dd0ffec1f5f4ddf0dd6fe031ef66bbf9bf24873874e034654ee656affd0ae3
        lastSequence=2
        issuedAt=2025-03-03T09:01:05Z
        keyId=21fe31dfa154a261

        """
    static let checkpointSignature = "k2LPczQNPFN8w1I5LXvdGoH3fmsrmi6gPwxtDFb8FytQC4eJh+8QxUjoJ5jgBfNmpH9cQR2dtXFwytIPt0kjCA=="
    static let journalEntryHash = "f0029c1f0a847fb4f1ef4e190b437b5e4bd33df60b4c1be73cb7feef8ec75236"

    static var key: AgencySigningKey? {
        AgencySigningKey(signer: "urn:accord:probation:nps-london", privateKeyBytes: bytes(hex: privateKeyHex))
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) ?? 0)
        }
        return out
    }
}

enum Fixture {
    static let probation = EventSamples.probationSource
    static let topic = AccordTopic.probationCaseEvents.name
    static let start = EventSamples.defaultStart
    static let codec = EventCodec()

    static func time(_ seconds: Int64) -> Timestamp { start.adding(seconds: seconds) ?? start }

    static func events(_ count: Int, firstSequence: Int64 = 1) -> [AccordEvent] {
        (0..<count).map { i in
            EventSamples.event(.practitionerAllocated, subject: "X" + String(100_000 + i % 900_000),
                               sequence: firstSequence + Int64(i), time: time(Int64(i) * 60), variant: i)
        }
    }

    static func key(_ signer: String = EventSamples.probationSource.urn) throws -> AgencySigningKey {
        try #require(AgencySigningKey.generate(signer: signer))
    }

    static func registry(_ entries: [RegisteredKey]) throws -> KeyRegistry { try KeyRegistry(keys: entries) }

    /// A writer on partition 0 sealing `count` events, returning the sealed events.
    static func sealed(_ count: Int, writer: inout ChainWriter, firstSequence: Int64 = 1) throws -> [SealedEvent] {
        try events(count, firstSequence: firstSequence).map { try writer.seal($0, codec: codec) }
    }

    static var chain: ChainID { ChainID(source: probation.urn, topic: topic, partition: 0) }
}

extension MessageHeader {
    static func replacing(_ headers: [MessageHeader], _ name: String, with text: String) -> [MessageHeader] {
        headers.map { $0.name == name ? MessageHeader(name: name, text: text) : $0 }
    }
}
