import AccordEvents
import Testing
@testable import AccordIntegrity

@Suite struct EventHashTests {
    @Test func goldenVectorOfTheSpec() throws {
        let preimage = try EventHashing.preimage(headers: Golden.headers, value: Golden.value)
        #expect(String(decoding: preimage, as: UTF8.self) == Golden.preimage)
        let hashed = try EventHashing.hash(message: Golden.message)
        #expect(hashed.hash.hex == Golden.eventHash)
        #expect(hashed.id == "03aea49d-20b4-8d6b-b33c-605a34979def")
        #expect(hashed.source == "urn:accord:probation:nps-london")
        #expect(hashed.sequence == "2")
        #expect(hashed.prevHash == String(repeating: "0", count: 64))
    }

    @Test func headerOrderSignatureAndOtherHeadersDoNotMatter() throws {
        let reordered = Golden.headers.reversed().filter { $0.name != "ce_signature" && $0.name != "traceparent" }
        #expect(try EventHashing.hash(headers: Array(reordered), value: Golden.value).hash.hex == Golden.eventHash)
        let resigned = MessageHeader.replacing(Golden.headers, "ce_signature", with: "another")
        #expect(try EventHashing.hash(headers: resigned, value: Golden.value).hash.hex == Golden.eventHash)
    }

    @Test func producerSideEqualsConsumerSide() throws {
        var event = Fixture.events(1)[0]
        event.prevHash = Hash256.zero.hex
        let (message, hashed) = try EventHashing.hash(event: event, codec: Fixture.codec)
        let decoded = try Fixture.codec.decodeBinary(message, topic: Fixture.topic)
        let again = try EventHashing.hash(event: decoded, codec: Fixture.codec)
        #expect(again.hashed == hashed)
        #expect(try EventHashing.hash(message: message) == hashed)
    }

    @Test(arguments: [
        ("ce_time", "2025-03-03T10:01:00+01:00"),  // same instant, other text: still a change
        ("ce_subject", "X123458"),
        ("ce_sequence", "3"),
        ("ce_source", "urn:accord:probation:nps-leeds"),
        ("ce_prevhash", String(repeating: "1", count: 64)),
        ("content-type", "application/json; charset=utf-8"),
    ])
    func tamperedAttributeChangesTheHash(name: String, text: String) throws {
        let headers = MessageHeader.replacing(Golden.headers, name, with: text)
        #expect(try EventHashing.hash(headers: headers, value: Golden.value).hash.hex != Golden.eventHash)
    }

    @Test func tamperedDataAddedOrRemovedAttributeChangesTheHash() throws {
        var data = Golden.value
        data[data.count - 3] = UInt8(ascii: "3")
        #expect(try EventHashing.hash(headers: Golden.headers, value: data).hash.hex != Golden.eventHash)
        let added = Golden.headers + [MessageHeader(name: "ce_causationid", text: "x")]
        #expect(try EventHashing.hash(headers: added, value: Golden.value).hash.hex != Golden.eventHash)
        let removed = Golden.headers.filter { $0.name != "ce_correlationid" }
        #expect(try EventHashing.hash(headers: removed, value: Golden.value).hash.hex != Golden.eventHash)
    }

    @Test func hostileHeadersAreRefused() {
        func reason(_ headers: [MessageHeader]) -> IntegrityError.Reason? {
            do {
                _ = try EventHashing.hash(headers: headers, value: Golden.value)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason(Golden.headers + [MessageHeader(name: "ce_id", text: "again")]) == .duplicateAttribute)
        #expect(reason(Golden.headers + [MessageHeader(name: "Content-Type", text: "application/json")]) == .duplicateAttribute)
        #expect(reason(Golden.headers + [MessageHeader(name: "ce_Bad", text: "x")]) == .malformed)
        #expect(reason(Golden.headers + [MessageHeader(name: "ce_x=y", text: "x")]) == .malformed)
        #expect(reason(Golden.headers + [MessageHeader(name: "ce_extra", text: "a\nb=c")]) == .malformed)
        #expect(reason(Golden.headers + [MessageHeader(name: "ce_extra", value: [0xff, 0xfe])]) == .malformed)
    }

    @Test func hash256TextForms() throws {
        let h = try #require(Hash256(hex: Golden.eventHash))
        #expect(h.hex == Golden.eventHash)
        #expect(Hash256(bytes: h.bytes) == h)
        #expect(Hash256(hex: Golden.eventHash.uppercased()) == nil)
        #expect(Hash256(hex: String(Golden.eventHash.dropLast())) == nil)
        #expect(Hash256.zero.hex == String(repeating: "0", count: 64))
    }
}

@Suite struct KafkaPartitionerTests {
    /// Apache Kafka `UtilsTest.testMurmur2` (Java client `Utils.murmur2`).
    @Test(arguments: [
        ("21", Int32(-973932308)),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ("abc", 479470107),
    ])
    func javaClientVectors(key: String, expected: Int32) {
        #expect(KafkaPartitioner.murmur2Hash(Array(key.utf8)) == expected)
    }

    /// librdkafka `src/rdmurmur2.c` unit test `java_murmur2_results` (unsigned), incl. unaligned inputs and "".
    @Test(arguments: [
        ("kafka", UInt32(0xd067_cf64)), ("giberish123456789", 0x8f55_2b0c),
        ("1234", 0x9fc9_7b14), ("234", 0xe7c0_09ca), ("34", 0x8739_30da), ("4", 0x5a4b_5ca1),
        ("PreAmbleWillBeRemoved,ThePrePartThatIs", 0x7842_4f1c), ("reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62_b377),
        ("eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4_e09e), ("AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8_b43f),
        ("", 0x106e_08d9),
    ])
    func librdkafkaVectors(key: String, expected: UInt32) {
        #expect(UInt32(bitPattern: KafkaPartitioner.murmur2Hash(Array(key.utf8))) == expected)
    }

    @Test func partitionIsPositiveHashModuloCount() {
        // foobar: -790332482 & 0x7fffffff = 1357151166; % 4 = 2, % 128 = 62.
        #expect(KafkaPartitioner.murmur2(key: "foobar", partitions: 4) == 2)
        #expect(KafkaPartitioner.murmur2(key: "foobar", partitions: 128) == 62)
        #expect(KafkaPartitioner.murmur2(key: "X123457", partitions: 4) == 3)
        #expect(KafkaPartitioner.murmur2(key: "X123457", partitions: 0) == nil)
        #expect(KafkaPartitioner.murmur2Hash([UInt8]()) == KafkaPartitioner.murmur2Hash(Array("".utf8)))
    }
}
