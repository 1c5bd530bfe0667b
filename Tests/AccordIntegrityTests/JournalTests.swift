import AccordEvents
import Testing
@testable import AccordIntegrity

@Suite struct JournalTests {
    private struct Journal {
        var records: [JournalRecord] = []
        var checkpoints: [JournalCheckpoint] = []
        let key: AgencySigningKey
        let registry: KeyRegistry
    }

    /// Ten applied events with their stored records, and signed checkpoints at 4 and 8.
    private func journal() throws -> Journal {
        let key = try Fixture.key("urn:accord:projector:main")
        let registry = try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-60))])
        var chain = ChainWriter(chain: Fixture.chain)
        var writer = JournalWriter()
        var out = Journal(key: key, registry: registry)
        for (i, sealed) in try Fixture.sealed(10, writer: &chain).enumerated() {
            let entry = try writer.append(eventId: sealed.event.idString, topic: Fixture.topic, partition: 0,
                                          offset: Int64(i), eventHash: sealed.hash)
            out.records.append(JournalRecord(entry: entry, headers: sealed.message.headers, value: sealed.message.value))
            if entry.position % 4 == 0 {
                out.checkpoints.append(try writer.checkpoint(viewDigest: Hash256.sha256(Array("view \(i)".utf8)),
                                                             issuedAt: Fixture.time(Int64(i)), key: key))
            }
        }
        return out
    }

    private func verify(_ j: Journal, records: [JournalRecord]? = nil, checkpoints: [JournalCheckpoint]? = nil) -> JournalReport {
        JournalChain.verify(entries: records ?? j.records, checkpoints: checkpoints ?? j.checkpoints, registry: j.registry)
    }

    private func entry(_ e: JournalEntry, eventId: String? = nil, offset: Int64? = nil, position: Int64? = nil,
                       entryHash: Hash256? = nil) -> JournalEntry {
        JournalEntry(position: position ?? e.position, eventId: eventId ?? e.eventId, topic: e.topic, partition: e.partition,
                     offset: offset ?? e.offset, eventHash: e.eventHash, entryHash: entryHash ?? e.entryHash)
    }

    @Test func goldenEntryHash() throws {
        let hash = JournalChain.entryHash(prevEntryHash: .zero, position: 1, eventId: "03aea49d-20b4-8d6b-b33c-605a34979def",
                                          topic: "probation.case-events.v1", partition: 3, offset: 41,
                                          eventHash: try #require(Hash256(hex: Golden.eventHash)))
        #expect(hash.hex == Golden.journalEntryHash)
    }

    @Test func intactJournalVerifies() throws {
        let j = try journal()
        let report = verify(j)
        #expect(report.isIntact)
        #expect(report.entriesVerified == 10 && report.head == j.records[9].entry.entryHash)
        #expect(report.checkpointsVerified.map(\.position) == [4, 8])
        #expect(j.checkpoints.allSatisfy { $0.verifySignature(with: j.registry) == nil })
    }

    @Test func modifiedPayloadIsCaught() throws {
        let j = try journal()
        var records = j.records
        let r = records[5]
        var value = try #require(r.value)
        value[value.count - 2] ^= 1
        records[5] = JournalRecord(entry: r.entry, headers: r.headers, value: value)
        let fault = try #require(verify(j, records: records).fault)
        #expect(fault.position == 6)
        guard case .eventHashMismatch = fault.reason else {
            Issue.record("expected eventHashMismatch, got \(fault)")
            return
        }
    }

    @Test func modifiedEntryFieldIsCaught() throws {
        let j = try journal()
        var records = j.records
        records[2] = JournalRecord(entry: entry(records[2].entry, offset: 99))
        let fault = try #require(verify(j, records: records).fault)
        #expect(fault.position == 3)
        guard case .entryHashMismatch = fault.reason else {
            Issue.record("expected entryHashMismatch, got \(fault)")
            return
        }
    }

    @Test func deletedEntryIsCaught() throws {
        let j = try journal()
        var records = j.records
        records.remove(at: 4)
        let fault = try #require(verify(j, records: records).fault)
        #expect(fault.position == 6)
        #expect(fault.reason == .positionOutOfOrder(expected: 5, found: 6))
        #expect(fault.description.contains("deleted"))
    }

    @Test func deletedEntryWithRenumberingIsCaughtByTheChain() throws {
        let j = try journal()
        var records = j.records
        records.remove(at: 4)
        records = records.enumerated().map { i, r in JournalRecord(entry: entry(r.entry, position: Int64(i + 1)), headers: r.headers, value: r.value) }
        let fault = try #require(verify(j, records: records).fault)
        #expect(fault.position == 5)
        guard case .entryHashMismatch = fault.reason else {
            Issue.record("expected entryHashMismatch, got \(fault)")
            return
        }
    }

    @Test func swappedEntriesAreCaught() throws {
        let j = try journal()
        var records = j.records
        records.swapAt(6, 7)
        #expect(verify(j, records: records).fault?.reason == .positionOutOfOrder(expected: 7, found: 8))
        // Swapped and renumbered: the chain breaks.
        let swapped = records.enumerated().map { i, r in JournalRecord(entry: entry(r.entry, position: Int64(i + 1))) }
        let fault = try #require(verify(j, records: swapped).fault)
        #expect(fault.position == 7)
    }

    @Test func rewrittenHistoryIsCaughtBySignedCheckpoint() throws {
        // An attacker edits entry 2 and recomputes every later entry hash (no key needed)…
        let j = try journal()
        var writer = JournalWriter()
        var forged: [JournalRecord] = []
        for r in j.records {
            let e = r.entry
            forged.append(JournalRecord(entry: try writer.append(eventId: e.eventId, topic: e.topic, partition: e.partition,
                                                                  offset: e.position == 2 ? 1000 : e.offset, eventHash: e.eventHash)))
        }
        #expect(JournalChain.verify(entries: forged).isIntact)
        // …but cannot re-sign the checkpoint at position 4.
        let fault = try #require(verify(j, records: forged).fault)
        #expect(fault.position == 4)
        guard case .checkpointMismatch = fault.reason else {
            Issue.record("expected checkpointMismatch, got \(fault)")
            return
        }
    }

    @Test func swappedCheckpointSignatureIsCaught() throws {
        let j = try journal()
        let a = j.checkpoints[0]
        let b = j.checkpoints[1]
        let swapped = JournalCheckpoint(signer: a.signer, position: a.position, entryHash: a.entryHash, viewDigest: a.viewDigest,
                                        issuedAt: a.issuedAt, keyId: a.keyId, signature: b.signature)
        let fault = try #require(verify(j, checkpoints: [swapped, b]).fault)
        #expect(fault.position == 4)
        #expect(fault.reason == .checkpointSignature(.badSignature(keyId: a.keyId)))
        // A changed view digest under the old signature fails the same way.
        let digest = JournalCheckpoint(signer: b.signer, position: b.position, entryHash: b.entryHash, viewDigest: .zero,
                                       issuedAt: b.issuedAt, keyId: b.keyId, signature: b.signature)
        #expect(verify(j, checkpoints: [a, digest]).fault?.position == 8)
    }

    @Test func truncatedJournalIsCaughtByACheckpointBeyondTheEnd() throws {
        let j = try journal()
        let report = verify(j, records: Array(j.records.prefix(7)))
        #expect(report.fault == JournalFault(position: 8, reason: .checkpointBeyondEnd(journalLength: 7)))
    }

    @Test func entryWhoseRecordHasAnotherIdIsCaught() throws {
        let j = try journal()
        var records = j.records
        records[0] = JournalRecord(entry: entry(records[0].entry, eventId: "someone-else"), headers: records[0].headers,
                                   value: records[0].value)
        guard case .eventIdMismatch = verify(j, records: records).fault?.reason else {
            Issue.record("expected eventIdMismatch")
            return
        }
    }

    @Test func writerRefusesAmbiguousFields() {
        var writer = JournalWriter()
        #expect(throws: IntegrityError.self) { try writer.append(eventId: "a\nb", topic: Fixture.topic, partition: 0, offset: 0, eventHash: .zero) }
        #expect(throws: IntegrityError.self) { try writer.append(eventId: "a", topic: "bad topic", partition: 0, offset: 0, eventHash: .zero) }
        #expect(throws: IntegrityError.self) { try writer.append(eventId: "a", topic: Fixture.topic, partition: -1, offset: 0, eventHash: .zero) }
        #expect(writer.position == 0)
    }

    @Test func checkpointCanonicalBytes() throws {
        let key = try Fixture.key("urn:accord:projector:main")
        let checkpoint = try JournalCheckpoint.signed(position: 0, entryHash: .zero, viewDigest: .zero, issuedAt: Fixture.start, key: key)
        let zeros = String(repeating: "0", count: 64)
        #expect(String(decoding: checkpoint.signedBytes, as: UTF8.self) == """
            accord-journal-checkpoint-v1
            signer=urn:accord:projector:main
            position=0
            entryHash=\(zeros)
            viewDigest=\(zeros)
            issuedAt=2025-03-03T09:00:00Z
            keyId=\(key.keyId)

            """)
        #expect(JournalChain.verify(entries: [JournalEntry](), checkpoints: [checkpoint],
                                    registry: try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.start)])).isIntact)
    }
}
