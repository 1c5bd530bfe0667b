import AccordEvents
import Foundation
import Testing
@testable import AccordIntegrity

@Suite struct KeyTests {
    @Test func goldenKeyAndSignature() throws {
        let key = try #require(Golden.key)
        #expect(Canonical.base64(key.publicKeyBytes) == Golden.publicKeyBase64)
        #expect(key.keyId == Golden.keyId)
        let registry = try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-86_400))])
        let at = try #require(Timestamp(rfc3339: "2025-03-03T09:01:05Z"))
        #expect(registry.verify(signature: Golden.checkpointSignature, over: Array(Golden.checkpointBytes.utf8),
                                keyId: Golden.keyId, signer: key.signer, at: at) == nil)
    }

    @Test func keyFileRoundTripAndChecks() throws {
        let key = try Fixture.key()
        let loaded = try AgencySigningKey(fileBytes: key.fileBytes())
        #expect(loaded.keyId == key.keyId && loaded.signer == key.signer && loaded.privateKeyBytes == key.privateKeyBytes)

        var object = try #require(try JSONSerialization.jsonObject(with: Data(key.fileBytes())) as? [String: String])
        object["keyId"] = "0000000000000000"
        let wrongId = Array(try JSONSerialization.data(withJSONObject: object))
        #expect(throws: IntegrityError.self) { try AgencySigningKey(fileBytes: wrongId) }
        #expect(throws: IntegrityError.self) { try AgencySigningKey(fileBytes: Array("{".utf8)) }
        #expect(AgencySigningKey.generate(signer: "nps-london") == nil)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-key-\(key.keyId).json").path
        try key.write(toFile: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try AgencySigningKey(contentsOfFile: path).keyId == key.keyId)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    @Test func registryJSONRoundTripAndValidation() throws {
        let a = try Fixture.key()
        let b = try Fixture.key()
        let registry = try KeyRegistry(keys: [
            a.registryEntry(validFrom: Fixture.time(0), validUntil: Fixture.time(3600)),
            b.registryEntry(validFrom: Fixture.time(3000)),
        ])
        let decoded = try KeyRegistry(jsonBytes: registry.jsonBytes())
        #expect(decoded == registry)
        #expect(decoded.key(id: a.keyId)?.validUntil == Fixture.time(3600))

        #expect(throws: IntegrityError.self) { try KeyRegistry(keys: registry.keys + [registry.keys[0]]) }
        let badId = #"{"keys":[{"source":"urn:accord:probation:nps-london","keyId":"0000000000000000","publicKey":"\#(Golden.publicKeyBase64)","validFrom":"2025-01-01T00:00:00Z"}]}"#
        let error = try #require(throws: IntegrityError.self) { try KeyRegistry(jsonBytes: Array(badId.utf8)) }
        #expect(error.field == "keys[0].keyId")
        let badWindow = #"{"keys":[{"source":"urn:accord:probation:nps-london","keyId":"\#(Golden.keyId)","publicKey":"\#(Golden.publicKeyBase64)","validFrom":"2025-01-01T00:00:00Z","validUntil":"2024-01-01T00:00:00Z"}]}"#
        #expect(throws: IntegrityError.self) { try KeyRegistry(jsonBytes: Array(badWindow.utf8)) }
    }

    @Test func verifyChecksOwnerWindowAndSignature() throws {
        let key = try Fixture.key()
        let other = try Fixture.key(EventSamples.interventionsSource.urn)
        let registry = try KeyRegistry(keys: [
            key.registryEntry(validFrom: Fixture.time(0), validUntil: Fixture.time(100)),
            other.registryEntry(validFrom: Fixture.time(0)),
        ])
        let bytes = Array("hello".utf8)
        let signature = try key.sign(bytes)
        #expect(registry.verify(signature: signature, over: bytes, keyId: key.keyId, signer: key.signer, at: Fixture.time(50)) == nil)
        #expect(registry.verify(signature: signature, over: bytes, keyId: key.keyId, signer: key.signer, at: Fixture.time(100))
            == .keyNotValid(keyId: key.keyId, at: Fixture.time(100), window: "\(Fixture.time(0))..\(Fixture.time(100))"))
        #expect(registry.verify(signature: signature, over: bytes, keyId: key.keyId, signer: other.signer, at: Fixture.time(50))
            == .keyOfOtherSigner(keyId: key.keyId, owner: key.signer, claimed: other.signer))
        #expect(registry.verify(signature: signature, over: Array("hellO".utf8), keyId: key.keyId, signer: key.signer,
                                at: Fixture.time(50)) == .badSignature(keyId: key.keyId))
        #expect(registry.verify(signature: "AAAA", over: bytes, keyId: key.keyId, signer: key.signer, at: Fixture.time(50))
            == .malformedSignature)
        #expect(registry.verify(signature: signature, over: bytes, keyId: "ffffffffffffffff", signer: key.signer,
                                at: Fixture.time(50)) == .unknownKey(keyId: "ffffffffffffffff"))
    }
}
