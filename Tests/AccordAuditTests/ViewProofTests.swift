import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

@Suite("accord audit prove / verify-proof: one record against the signed view root")
struct ViewProofTests {
    private func firstCase(_ fixture: VerifyFixture) throws -> SubjectKey {
        let keys = try StoreAuditReader(path: fixture.path).store.viewLeaves().keys.filter { $0.hasPrefix("case:") }.sorted()
        return try #require(keys.first.flatMap(SubjectKey.init))
    }

    @Test("a proof made from the store holds offline, its signature checked, and survives its JSON form")
    func proofHolds() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let subject = try firstCase(fixture)
        let document = try ViewProofDocument.make(storePath: fixture.path, subject: subject)
        let verdict = document.verify(projectorKeys: fixture.projectorKeys)
        #expect(verdict.holds, "\(verdict.text)")
        #expect(verdict.signatureChecked)
        #expect(document.checkpoint.position == 59)
        #expect(document.proof.path.count == 16)
        #expect(document.proof.root == (try StoreAuditReader(path: fixture.path).store.storedViewDigest()))
        let again = try ViewProofDocument(jsonBytes: try document.jsonBytes())
        #expect(again == document)
        #expect(again.verify(projectorKeys: fixture.projectorKeys).holds)
        let unkeyed = document.verify(projectorKeys: nil)
        #expect(unkeyed.holds && !unkeyed.signatureChecked)
        #expect(unkeyed.text.contains("NOT checked"))
    }

    @Test("a proof of a record resting on an event not yet under its source's signed checkpoint says so, and keeps saying so in its JSON form")
    func provisionalEventsAreNamed() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let subject = try firstCase(fixture)
        guard case .caseId(let caseId) = subject else { return }
        let clean = try ViewProofDocument.make(storePath: fixture.path, subject: subject)
        #expect(clean.provisionalEvents.isEmpty)
        #expect(!clean.verify(projectorKeys: fixture.projectorKeys).text.contains("provisional"))
        // One of the case's events loses its verification, as if its chain's checkpoint had not come yet.
        let queue = try DatabaseQueue(path: fixture.path)
        let marked = try queue.write { db -> Int64? in
            let position = try Int64.fetchOne(db, sql: "SELECT position FROM journal WHERE subject = ? ORDER BY position LIMIT 1",
                                              arguments: [caseId])
            try db.execute(sql: """
                INSERT INTO journal_unverified (topic_id, partition, "offset", position)
                SELECT topic_id, partition, "offset", position FROM journal WHERE position = ?
                """, arguments: [position])
            return position
        }
        let document = try ViewProofDocument.make(storePath: fixture.path, subject: subject)
        #expect(document.provisionalEvents.map(\.position) == [try #require(marked)])
        let text = document.verify(projectorKeys: fixture.projectorKeys).text
        #expect(text.contains("rests on 1 provisional event"), "\(text)")
        #expect(text.contains(try #require(document.provisionalEvents.first).eventId), "\(text)")
        #expect(try ViewProofDocument(jsonBytes: try document.jsonBytes()) == document)
    }

    @Test("an altered record, path, root or signature does not hold, and says which step failed")
    func alteredProofsFail() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let document = try ViewProofDocument.make(storePath: fixture.path, subject: try firstCase(fixture))
        let keys = fixture.projectorKeys

        var record = document
        let text = String(decoding: record.canonicalRecord, as: UTF8.self)
        record.canonicalRecord = Array(text.replacingOccurrences(of: "\"caseId\":\"X", with: "\"caseId\":\"Z").utf8)
        #expect(record.canonicalRecord != document.canonicalRecord, "the case record names its case")
        #expect(record.verify(projectorKeys: keys).failure?.contains("hashes to leaf") == true)

        var path = document
        path.proof.path[7] = Hash256.sha256(Array("another node".utf8))
        #expect(path.verify(projectorKeys: keys).failure?.contains("not to the root") == true)

        var root = document
        root.proof.root = Hash256.sha256(Array("another root".utf8))
        #expect(root.verify(projectorKeys: keys).failure != nil)

        var checkpoint = document
        checkpoint.checkpoint = JournalCheckpoint(
            signer: document.checkpoint.signer, position: document.checkpoint.position + 1, entryHash: document.checkpoint.entryHash,
            viewDigest: document.checkpoint.viewDigest, issuedAt: document.checkpoint.issuedAt, keyId: document.checkpoint.keyId,
            signature: document.checkpoint.signature)
        #expect(checkpoint.verify(projectorKeys: keys).failure?.contains("signature") == true)
        #expect(checkpoint.verify(projectorKeys: nil).holds, "without the key only the hashes are checked")
    }

    @Test("a subject changed after the last signed checkpoint, or not in the view, is refused with the reason")
    func refusals() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        #expect(throws: ViewProofUnavailable.notInView("case:X999999")) {
            _ = try ViewProofDocument.make(storePath: fixture.path, subject: .caseId("X999999"))
        }
        let subject = try firstCase(fixture)
        guard case .caseId(let caseId) = subject else { return }
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: fixture.path))
        var batch = StoreBatch()
        let event = EventSamples.event(.riskReassessed, subject: caseId, sequence: 500, time: try #require(t0.adding(seconds: 86_400 * 300)))
        batch.entries = [try StoreFixtures.pending(event, recordedAt: event.time, offset: 9_999)]
        _ = try writer.commit(batch)
        #expect(throws: ViewProofUnavailable.changedSinceCheckpoint(subject.description, position: 59)) {
            _ = try ViewProofDocument.make(storePath: fixture.path, subject: subject)
        }
    }

    @Test("the CLI writes a proof (exit 0), verify-proof holds (0), fails on a tampered file (1), usage errors exit 2")
    func commandLine() throws {
        let accord = verifyRepoRoot.appendingPathComponent(".build/debug/accord").path
        try #require(FileManager.default.isExecutableFile(atPath: accord), "build the accord executable first")
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        guard case .caseId(let caseId) = try firstCase(fixture) else { return }
        let out = fixture.path + ".proof.json"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let made = try runAccord(accord, ["audit", "prove", "--store", fixture.path, "--case", caseId, "--out", out])
        #expect(made.status == 0, "\(made.output)")
        let checked = try runAccord(accord, ["audit", "verify-proof", out, "--projector-key-pub", fixture.projectorKeyPath])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("proof holds: case:\(caseId)"))
        #expect(checked.output.contains("signature verified"))

        let text = try String(contentsOfFile: out, encoding: .utf8)
        let root = try ViewProofDocument(jsonBytes: Array(text.utf8)).proof.root.hex
        try text.replacingOccurrences(of: "\"root\" : \"\(root)\"", with: "\"root\" : \"\(String(repeating: "0", count: 64))\"")
            .write(toFile: out, atomically: true, encoding: .utf8)
        let tampered = try runAccord(accord, ["audit", "verify-proof", out, "--projector-key-pub", fixture.projectorKeyPath])
        #expect(tampered.status == 1, "\(tampered.output)")
        #expect(tampered.output.contains("proof does not hold"))

        #expect(try runAccord(accord, ["audit", "prove", "--store", fixture.path]).status == 2)
        #expect(try runAccord(accord, ["audit", "prove", "--store", fixture.path, "--subject", "nonsense"]).status == 2)
        #expect(try runAccord(accord, ["audit", "verify-proof", out + ".nope", "--unsigned"]).status == 2)

        // Without the projector's key the check fails closed; --unsigned checks the hashes and says so first.
        let unkeyed = try runAccord(accord, ["audit", "verify-proof", out])
        #expect(unkeyed.status == 2 && unkeyed.output.contains("--projector-key-pub"), "\(unkeyed.output)")
        let unsignedTampered = try runAccord(accord, ["audit", "verify-proof", out, "--unsigned"])
        #expect(unsignedTampered.status == 1, "\(unsignedTampered.output)")
        _ = try runAccord(accord, ["audit", "prove", "--store", fixture.path, "--case", caseId, "--out", out])
        let unsigned = try runAccord(accord, ["audit", "verify-proof", out, "--unsigned"])
        #expect(unsigned.status == 0, "\(unsigned.output)")
        #expect(unsigned.output.hasPrefix("UNSIGNED CHECK:") && unsigned.output.contains("NOT checked"), "\(unsigned.output)")
        let missing = try runAccord(accord, ["audit", "prove", "--store", fixture.path, "--case", "X999999"])
        #expect(missing.status == 1, "\(missing.output)")
        #expect(missing.output.contains("no record in the view"))
    }
}
