import AccordEvents
import Foundation
import Testing
@testable import AccordIntegrity

@Suite struct CheckpointRecordTests {
    private func golden() throws -> ChainCheckpoint {
        try ChainCheckpoint(chain: ChainID(source: "urn:accord:probation:nps-london", topic: "probation.case-events.v1", partition: 3),
                            count: 1, head: try #require(Hash256(hex: Golden.eventHash)), lastSequence: 2,
                            issuedAt: try #require(Timestamp(rfc3339: "2025-03-03T09:01:05Z")), keyId: Golden.keyId,
                            signature: Golden.checkpointSignature)
    }

    @Test func goldenCheckpointBytesAndSignature() throws {
        let checkpoint = try golden()
        #expect(String(decoding: checkpoint.signedBytes, as: UTF8.self) == Golden.checkpointBytes)
        let key = try #require(Golden.key)
        var verifier = ChainVerifier(registry: try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-3600))]))
        let verdict = verifier.accept(record: Golden.message, topic: "probation.case-events.v1", partition: 3, offset: 40)
        guard case .event(.provisional(let link)) = verdict else {
            Issue.record("golden event not linked: \(verdict)")
            return
        }
        #expect(link.hash.hex == Golden.eventHash)
        let settled = verifier.accept(record: checkpoint.record, topic: "probation.case-events.v1", partition: 3, offset: 41)
        guard case .checkpoint(.verified(let coverage)) = settled else {
            Issue.record("golden checkpoint not verified: \(settled)")
            return
        }
        #expect(coverage.verified.map(\.offset) == [40])
        // A fresh signature by our implementation also verifies (Ed25519 may or may not be randomised).
        let ours = try ChainCheckpoint.signed(chain: checkpoint.chain, count: 1, head: checkpoint.head, lastSequence: 2,
                                              issuedAt: checkpoint.issuedAt, key: key)
        #expect(KeyRegistry.empty.key(id: ours.keyId) == nil)
        #expect(try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-3600))])
            .verify(signature: ours.signature, over: ours.signedBytes, keyId: ours.keyId, signer: key.signer, at: ours.issuedAt) == nil)
    }

    @Test func recordRoundTrip() throws {
        let checkpoint = try golden()
        let record = checkpoint.record
        #expect(ChainCheckpoint.isCheckpointRecord(record))
        #expect(record.key == Array("urn:accord:probation:nps-london".utf8))
        #expect(record.header("accord-record-kind")?.text == "chain-checkpoint")
        #expect(record.header("content-type")?.text == "application/json")
        #expect(try ChainCheckpoint(record: record) == checkpoint)
        let json = String(decoding: record.value, as: UTF8.self)
        #expect(json == #"{"count":1,"head":"\#(Golden.eventHash)","issuedAt":"2025-03-03T09:01:05Z","keyId":"\#(Golden.keyId)","lastSequence":2,"partition":3,"signature":"\#(Golden.checkpointSignature)","source":"urn:accord:probation:nps-london","topic":"probation.case-events.v1"}"#)
        #expect(!ChainCheckpoint.isCheckpointRecord(Golden.message))
    }

    @Test func hostileRecordsAreRefused() throws {
        let good = try golden().record
        func refused(_ edit: (inout [String: Any]) -> Void, key: [UInt8]? = nil) throws -> IntegrityError? {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(good.value)) as? [String: Any])
            edit(&object)
            let value = Array(try JSONSerialization.data(withJSONObject: object))
            do {
                _ = try ChainCheckpoint(record: BinaryMessage(key: key ?? good.key, headers: good.headers, value: value))
                return nil
            } catch {
                return error
            }
        }
        #expect(try refused { _ in } == nil)
        #expect(try refused({ _ in }, key: Array("someone-else".utf8))?.field == "key")
        #expect(try refused { $0["head"] = String(Golden.eventHash.uppercased()) }?.field == "head")
        #expect(try refused { $0["issuedAt"] = "2025-03-03T10:01:05+01:00" }?.field == "issuedAt")
        #expect(try refused { $0["signature"] = "AAAA" }?.field == "signature")
        #expect(try refused { $0["count"] = -1 }?.field == "count")
        #expect(try refused { $0["keyId"] = "ABC" }?.field == "keyId")
        #expect(try refused { $0["source"] = "urn:accord:police:x" }?.field == "source")
        #expect(try refused { $0["topic"] = "bad topic" }?.field == "topic")
        #expect(try refused { $0.removeValue(forKey: "head") }?.reason == .missing)
        #expect(try refused { $0["partition"] = "3" }?.reason == .invalidValue)
        let huge = BinaryMessage(key: good.key, headers: good.headers, value: Array(repeating: 32, count: 5000))
        #expect(throws: IntegrityError.self) { try ChainCheckpoint(record: huge) }
        let notJSON = BinaryMessage(key: good.key, headers: good.headers, value: Array("{".utf8))
        #expect(throws: IntegrityError.self) { try ChainCheckpoint(record: notJSON) }
        var verifier = ChainVerifier(registry: .empty)
        if case .checkpoint(.rejected(let r)) = verifier.accept(record: notJSON, topic: Fixture.topic, partition: 0, offset: 0) {
            #expect(r.code == "unreadable")
        } else {
            Issue.record("expected an unreadable checkpoint")
        }
    }

    @Test func jsonSchemaFileAgreesWithTheRecord() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/integrity/checkpoint.v1.schema.json")
        let data = try Data(contentsOf: url)
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(schema["$id"] as? String == ChainCheckpoint.schemaId)
        let properties = try #require(schema["properties"] as? [String: Any])
        let written = try #require(try JSONSerialization.jsonObject(with: Data(try golden().record.value)) as? [String: Any])
        #expect(Set(properties.keys) == Set(written.keys))
        #expect(Set(schema["required"] as? [String] ?? []) == Set(written.keys))
    }
}
