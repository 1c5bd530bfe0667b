import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@Suite("accord audit verify: journal chain, event hashes, chain links, checkpoints, sequences")
struct VerifyTests {
    @Test("an intact store verifies, with its counts and the sequence gap as a finding")
    func intact() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let summary = try fixture.verify()
        #expect(summary.isIntact, "\(summary.text)")
        #expect(summary.entries == 59)
        #expect(summary.verified == 59 && summary.provisional == 0)
        #expect(summary.chains > 1)
        #expect(summary.chainCheckpointsVerified > summary.chains, "both rounds of agency checkpoints")
        #expect(summary.journalCheckpointsVerified == 2)
        #expect(summary.journalSignaturesChecked)
        #expect(summary.viewDigestsCompared == 2)
        #expect(summary.sequenceGaps.count == 1)
        #expect(summary.sequenceGaps.first?.source == fixture.gapSource)
        #expect(summary.sequenceGaps.first?.missing == 1)
        #expect(summary.text.contains("journal intact: 59 entries"))
    }

    @Test("each source's standing is reported: verified and provisional events, and its last signed checkpoint")
    func sourceStandings() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let summary = try fixture.verify()
        #expect(summary.sources.count == Set(summary.sources.map(\.source)).count && summary.sources.count >= 3)
        #expect(summary.sources.reduce(0) { $0 + $1.verified } == 59)
        #expect(summary.sources.allSatisfy { $0.provisional == 0 && $0.lastCheckpoint != nil }, "\(summary.text)")
        #expect(summary.text.contains("sources (provisional: not yet under a signed checkpoint of their chain):"))
        #expect(summary.text.contains("0 provisional; last signed checkpoint "), "\(summary.text)")
    }

    @Test("an event in the view from a source with no registered key is named, provisional under its source, and the store is not intact")
    func unregisteredSourceInView() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        var writer = try ViewStoreWriter(store: try ProjectorStore(path: fixture.path))
        var event = EventSamples.event(.riskReassessed, subject: "X100001", sequence: 1,
                                       time: try #require(t0.adding(seconds: 86_400 * 200)))
        event.source = try #require(EventSource(urn: "urn:accord:probation:rogue-office"))
        var batch = StoreBatch()
        batch.entries = [try StoreFixtures.pending(event, recordedAt: event.time, offset: 9_999)]
        _ = try writer.commit(batch)
        let summary = try fixture.verify()
        #expect(summary.fault == nil && !summary.isIntact, "\(summary.text)")
        #expect(summary.untrusted.map(\.reason) == [.unregisteredSource])
        #expect(summary.untrusted.first?.eventId == event.idString && summary.untrusted.first?.position == 60)
        #expect(summary.text.hasPrefix("journal NOT intact: the view applies 1 event(s) not on a signed chain"), "\(summary.text)")
        #expect(summary.text.contains("unregistered-source: journal position 60, event \(event.idString)"), "\(summary.text)")
        let rogue = try #require(summary.sources.first { $0.source == event.source.urn })
        #expect(rogue.provisional == 1 && rogue.verified == 0 && rogue.lastCheckpoint == nil && rogue.provisionalIds == [event.idString])
        #expect(!summary.outcome.passed)
    }

    @Test("a stored payload changed after the fact is caught at its entry")
    func tamperedPayload() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        try fixture.tamper("UPDATE journal SET value = ? WHERE position = 17", arguments: [Data("{\"tampered\":true}".utf8)])
        let summary = try fixture.verify()
        let fault = try #require(summary.fault)
        #expect(fault.kind == .eventHash)
        #expect(fault.position == 17)
        #expect(fault.eventId == (try fixture.eventId(at: 17)))
        #expect(fault.coordinates != nil)
        #expect(fault.description.contains("journal position 17"))
        #expect(fault.message.contains("altered"))
    }

    @Test("a deleted entry is caught at the gap")
    func deletedEntry() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        try fixture.tamper("DELETE FROM journal WHERE position = 12")
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .journalChain)
        #expect(fault.position == 13)
        #expect(fault.message.contains("expected position 12"))
        #expect(fault.message.contains("deleted"))
    }

    @Test("two entries swapped are caught at the first of them")
    func reordered() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        let moved = try fixture.eventId(at: 9)
        try fixture.tamper("UPDATE journal SET position = -1 WHERE position = 8")
        try fixture.tamper("UPDATE journal SET position = 8 WHERE position = 9")
        try fixture.tamper("UPDATE journal SET position = 9 WHERE position = -1")
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .journalChain)
        #expect(fault.position == 8)
        #expect(fault.eventId == moved)
        #expect(fault.message.contains("entry hash"))
    }

    @Test("two agency checkpoints' signatures swapped are caught")
    func swappedCheckpointSignature() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        try fixture.tamper("""
            UPDATE chain_checkpoints SET signature = CASE id WHEN 1 THEN (SELECT signature FROM chain_checkpoints WHERE id = 2)
                                                              ELSE (SELECT signature FROM chain_checkpoints WHERE id = 1) END
            WHERE id IN (1, 2)
            """)
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .chainCheckpoint)
        #expect(fault.message.contains("agency checkpoint #1"))
        #expect(fault.message.contains("signature"))
        #expect(fault.coordinates != nil)
    }

    @Test("two journal checkpoints' signatures swapped are caught; without the projector key only entry hashes are checked")
    func swappedJournalCheckpointSignature() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        try fixture.tamper("""
            UPDATE journal_checkpoints SET signature = CASE id WHEN 1 THEN (SELECT signature FROM journal_checkpoints WHERE id = 2)
                                                                ELSE (SELECT signature FROM journal_checkpoints WHERE id = 1) END
            WHERE id IN (1, 2)
            """)
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .journalCheckpoint)
        #expect(fault.position == 30)
        #expect(fault.message.contains("signature"))
        let unkeyed = try JournalAudit.verify(storePath: fixture.path, registry: fixture.registry)
        #expect(unkeyed.isIntact)
        #expect(!unkeyed.journalSignaturesChecked)
        #expect(unkeyed.notes.contains { $0.contains("not checked") })
    }

    @Test("a journal rewritten and re-hashed from an entry on is caught by the signed checkpoint")
    func rewrittenHistory() throws {
        let fixture = try VerifyFixture.make()
        defer { fixture.remove() }
        // Drop the last entry: the signed checkpoint at position 59 now lies beyond the end.
        try fixture.tamper("DELETE FROM journal WHERE position = 59")
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .journalCheckpoint)
        #expect(fault.message.contains("removed"))
    }

    @Test("a signed view digest that the journal does not replay to is caught")
    func wrongViewDigest() throws {
        let fixture = try VerifyFixture.make(wrongDigest: true)
        defer { fixture.remove() }
        let fault = try #require(try fixture.verify().fault)
        #expect(fault.kind == .viewDigest)
        #expect(fault.position == 59)
        #expect(fault.message.contains("replaying entries 1…59"))
    }

    @Test("the CLI exits 0 with a summary, 1 naming the first bad entry, 2 on usage errors")
    func commandLine() throws {
        let accord = verifyRepoRoot.appendingPathComponent(".build/debug/accord").path
        try #require(FileManager.default.isExecutableFile(atPath: accord), "build the accord executable first")
        // Written as the projector writes by default: upcasting with the simulated partnership's areas.
        let fixture = try VerifyFixture.make(upcaster: EventUpcaster(areaOffices: .simulatedPartnership))
        defer { fixture.remove() }
        let ok = try runAccord(accord, ["audit", "verify", "--store", fixture.path, "--key-registry", fixture.registryPath,
                                        "--projector-key-pub", fixture.projectorKeyPath])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.contains("journal intact: 59 entries"))
        #expect(ok.output.contains("sequence gaps: 1"))

        try fixture.tamper("UPDATE journal SET value = ? WHERE position = 5", arguments: [Data("{}".utf8)])
        let bad = try runAccord(accord, ["audit", "verify", "--store", fixture.path, "--key-registry", fixture.registryPath,
                                         "--projector-key-pub", fixture.projectorKeyPath])
        #expect(bad.status == 1, "\(bad.output)")
        #expect(bad.output.contains("journal position 5"))
        #expect(bad.output.contains(try #require(try fixture.eventId(at: 5))))

        let missing = try runAccord(accord, ["audit", "verify", "--store", fixture.path])
        #expect(missing.status == 2, "\(missing.output)")
        let noStore = try runAccord(accord, ["audit", "verify", "--store", fixture.path + ".nope", "--key-registry", fixture.registryPath])
        #expect(noStore.status == 2, "\(noStore.output)")
    }
}

/// The repository root, found from this file's path.
let verifyRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs `executable` with `arguments`; returns the exit status and combined output.
func runAccord(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "ACCORD_KEY_REGISTRY")
    environment.removeValue(forKey: "ACCORD_AREA_OFFICES")
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("accord audit verify: what the store knows is missing")
struct VerifyCompletenessTests {
    @Test("an unrecovered unread range and a pending chain make an intact journal incomplete; the CLI exits 3")
    func incomplete() throws {
        let upcaster = EventUpcaster(areaOffices: .simulatedPartnership)
        let fixture = try VerifyFixture.make(upcaster: upcaster)
        defer { fixture.remove() }
        #expect(try fixture.verify(upcaster: upcaster).isComplete)
        try fixture.tamper("""
            INSERT INTO unread_ranges (topic, partition, from_offset, until_offset, detected_at)
            VALUES ('probation.case-events.v1', 3, 100, 140, '2026-04-12T10:00:00Z'),
                   ('probation.case-events.v1', 4, 7, 9, '2026-04-12T10:00:00Z')
            """)
        try fixture.tamper("UPDATE unread_ranges SET recovered_at = '2026-04-12T10:05:00Z' WHERE partition = 4")
        try fixture.tamper("""
            UPDATE chain_states SET state = json_set(state, '$.gap', json('{"cause":"broken-link","held":2}'))
            WHERE rowid = (SELECT min(rowid) FROM chain_states)
            """)
        let summary = try fixture.verify(upcaster: upcaster)
        #expect(summary.isIntact, "missing records are not corruption")
        #expect(!summary.isComplete)
        #expect(summary.unreadRanges.count == 1)
        #expect(summary.unreadRanges.first?.count == 40)
        #expect(summary.recoveredUnreadRanges == 1)
        let pending = try #require(summary.pendingChains.first)
        #expect(summary.pendingChains.count == 1)
        #expect(pending.cause == "broken-link")
        #expect(pending.held == 2)
        #expect(summary.text.contains("unread records: 40 in 1 range(s)"))
        #expect(summary.text.contains("probation.case-events.v1/3 offsets 100…139 (40 records)"))
        #expect(summary.text.contains("pending chains: 1"))
        #expect(summary.text.contains("journal INCOMPLETE"))
        #expect(!summary.outcome.passed)

        let accord = verifyRepoRoot.appendingPathComponent(".build/debug/accord").path
        try #require(FileManager.default.isExecutableFile(atPath: accord), "build the accord executable first")
        let run = try runAccord(accord, ["audit", "verify", "--store", fixture.path, "--key-registry", fixture.registryPath,
                                         "--projector-key-pub", fixture.projectorKeyPath])
        #expect(run.status == 3, "\(run.output)")
        #expect(run.output.contains("pending chains: 1"))
    }
}
