import AccordEvents
import Foundation
import Testing
@testable import AccordIntegrity

/// A producer (writer + key) and a projector (verifier) over one partition, with offsets.
private struct Harness {
    var writer = ChainWriter(chain: Fixture.chain)
    var verifier: ChainVerifier
    var offset: Int64 = 0
    let key: AgencySigningKey
    var sequence: Int64 = 0

    init(key: AgencySigningKey, registry: KeyRegistry) {
        self.key = key
        verifier = ChainVerifier(registry: registry)
    }

    init() throws {
        let key = try Fixture.key()
        try self.init(key: key, registry: KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-86_400))]))
    }

    mutating func produce(_ n: Int) throws -> [SealedEvent] {
        let sealed = try Fixture.sealed(n, writer: &writer, firstSequence: sequence + 1)
        sequence += Int64(n)
        return sealed
    }

    mutating func deliver(_ message: BinaryMessage) -> RecordVerdict {
        defer { offset += 1 }
        return verifier.accept(record: message, topic: Fixture.topic, partition: 0, offset: offset)
    }

    mutating func checkpoint(at seconds: Int64 = 0) throws -> ChainCheckpoint {
        try writer.checkpoint(issuedAt: Fixture.time(seconds), key: key)
    }
}

private extension RecordVerdict {
    var link: ChainLink? { if case .event(.provisional(let l)) = self { l } else { nil } }
    var eventRejection: EventRejection? { if case .event(.rejected(let r)) = self { r } else { nil } }
    var coverage: CheckpointCoverage? { if case .checkpoint(.verified(let c)) = self { c } else { nil } }
    var checkpointRejection: CheckpointRejection? { if case .checkpoint(.rejected(let r)) = self { r } else { nil } }
}

@Suite struct ChainTests {
    @Test func writerLinksEventsAndVerifierFollows() throws {
        var h = try Harness()
        let sealed = try h.produce(3)
        #expect(sealed[0].event.prevHash == Hash256.zero.hex)
        #expect(sealed[1].event.prevHash == sealed[0].hash.hex)
        #expect(sealed.map(\.position) == [1, 2, 3])
        #expect(h.writer.head == sealed[2].hash && h.writer.count == 3 && h.writer.lastSequence == 3)
        for (i, s) in sealed.enumerated() {
            let link = try #require(h.deliver(s.message).link)
            #expect(link.position == Int64(i + 1) && link.hash == s.hash && !link.forked)
        }
        #expect(h.verifier.state(of: Fixture.chain)?.unverified.count == 3)
    }

    @Test func provisionalBecomesVerifiedAtTheCheckpoint() throws {
        var h = try Harness()
        for s in try h.produce(5) { _ = h.deliver(s.message) }
        let coverage = try #require(h.deliver(try h.checkpoint().record).coverage)
        #expect(coverage.verified.map(\.position) == [1, 2, 3, 4, 5])
        #expect(coverage.orphaned.isEmpty)
        for s in try h.produce(2) { #expect(h.deliver(s.message).link != nil) }
        let state = try #require(h.verifier.state(of: Fixture.chain))
        #expect(state.verifiedCount == 5 && state.unverified.map(\.position) == [6, 7])
        let second = try #require(h.deliver(try h.checkpoint().record).coverage)
        #expect(second.verified.map(\.position) == [6, 7])
        // The same head again verifies nothing new.
        #expect(h.deliver(try h.checkpoint(at: 5).record).coverage?.verified.isEmpty == true)
    }

    @Test func checkpointForAnEarlierPositionVerifiesAPrefix() throws {
        var h = try Harness()
        for s in try h.produce(3) { _ = h.deliver(s.message) }
        let early = try h.checkpoint()
        for s in try h.produce(2) { _ = h.deliver(s.message) }
        let coverage = try #require(h.deliver(early.record).coverage)
        #expect(coverage.verified.map(\.position) == [1, 2, 3])
        #expect(h.verifier.state(of: Fixture.chain)?.unverified.map(\.position) == [4, 5])
    }

    @Test func unchainedMalformedAndBrokenEventsAreRejected() throws {
        var h = try Harness()
        let sealed = try h.produce(3)
        _ = h.deliver(sealed[0].message)
        var unchained = sealed[1].message
        unchained.headers.removeAll { $0.name == "ce_prevhash" }
        #expect(h.deliver(unchained).eventRejection == .unchained)
        var malformed = sealed[1].message
        malformed.headers = MessageHeader.replacing(malformed.headers, "ce_prevhash", with: "XYZ")
        #expect(h.deliver(malformed).eventRejection?.code == "malformed-prevhash")
        // Event 3 without event 2: its prevhash names nothing received.
        let broken = try #require(h.deliver(sealed[2].message).eventRejection)
        #expect(broken == .brokenChain(chain: Fixture.chain, expected: sealed[0].hash, found: sealed[1].hash))
        #expect(broken.description.contains("expected \(sealed[0].hash.hex) got \(sealed[1].hash.hex)"))
        // The chain is unchanged: event 2 then 3 still link.
        #expect(h.deliver(sealed[1].message).link?.position == 2)
        #expect(h.deliver(sealed[2].message).link?.position == 3)
    }

    @Test func eventsFromSourcesWithoutARegisteredKeyAreRefused() throws {
        // The producer is genuine, but the verifier's registry knows only another agency.
        let other = try Fixture.key("urn:accord:probation:nps-elsewhere")
        var h = try Harness(key: Fixture.key(), registry: KeyRegistry(keys: [other.registryEntry(validFrom: Fixture.time(-86_400))]))
        let sealed = try h.produce(2)
        let rejection = try #require(h.deliver(sealed[0].message).eventRejection)
        #expect(rejection == .unknownSource(Fixture.probation.urn))
        #expect(rejection.code == "unknown-source")
        #expect(rejection.description.contains(Fixture.probation.urn))
        #expect(h.verifier.state(of: Fixture.chain) == nil, "a refused event starts no chain")
        #expect(h.verifier.registry.hasKeys(for: other.signer) && !h.verifier.registry.hasKeys(for: Fixture.probation.urn))
    }

    @Test func aRecordRefusedByAnotherCheckIsReadButTakesNoPlace() throws {
        var h = try Harness()
        let sealed = try h.produce(3)
        #expect(h.deliver(sealed[0].message).link?.position == 1)
        // Offset 1 was refused before the chain saw it (say, a missing partition key).
        let first = h.verifier.consume(source: Fixture.probation.urn, topic: Fixture.topic, partition: 0, offset: 1)
        #expect(first)
        #expect(h.verifier.isRead(source: Fixture.probation.urn, topic: Fixture.topic, partition: 0, offset: 1))
        let again = h.verifier.consume(source: Fixture.probation.urn, topic: Fixture.topic, partition: 0, offset: 1)
        #expect(!again, "a redelivery of the refused record is recognised")
        h.offset = 2
        // The next genuine event takes position 2 and is not reported as a fork.
        let link = try #require(h.deliver(sealed[1].message).link)
        #expect(link.position == 2 && !link.forked)
    }

    @Test func firstEventMustStartFromGenesis() throws {
        var h = try Harness()
        let sealed = try h.produce(2)
        #expect(h.deliver(sealed[1].message).eventRejection?.code == "broken-chain")
        #expect(h.verifier.state(of: Fixture.chain) == nil)
    }

    @Test func redeliveryIsADuplicateAndReplayIsRejected() throws {
        var h = try Harness()
        let sealed = try h.produce(2)
        _ = h.deliver(sealed[0].message)
        #expect(h.verifier.accept(record: sealed[0].message, topic: Fixture.topic, partition: 0, offset: 0) == .event(.duplicate(offset: 0)))
        #expect(h.deliver(sealed[0].message).eventRejection == .replayed(chain: Fixture.chain, hash: sealed[0].hash))
        #expect(h.deliver(sealed[1].message).link?.position == 2)
    }

    @Test func sequenceMustIncreaseAlongTheChain() throws {
        var h = try Harness()
        _ = h.deliver(try h.produce(1)[0].message)
        var event = Fixture.events(1, firstSequence: 1)[0]
        event.prevHash = h.writer.nextPrevHash
        let message = try Fixture.codec.encodeBinary(event)
        #expect(h.deliver(message).eventRejection == .sequenceNotIncreasing(chain: Fixture.chain, previous: 1, found: 1))
    }

    @Test func tamperedEventIsExposedByTheNextEventAndTheCheckpoint() throws {
        var h = try Harness()
        let sealed = try h.produce(3)
        var tampered = sealed[1].message
        tampered.value = Array(String(decoding: tampered.value, as: UTF8.self).replacingOccurrences(of: "PR-", with: "PX-").utf8)
        _ = h.deliver(sealed[0].message)
        #expect(h.deliver(tampered).link?.position == 2)  // provisional: links to event 1
        #expect(h.deliver(sealed[2].message).eventRejection?.code == "broken-chain")
        let rejection = try #require(h.deliver(try h.checkpoint().record).checkpointRejection)
        #expect(rejection == .countAhead(chain: Fixture.chain, claimed: 3, received: 2))
        // A checkpoint at position 2 names the genuine event 2: head mismatch.
        var w = ChainWriter(chain: Fixture.chain)
        for s in sealed.prefix(2) { try w.append(try EventHashing.hash(message: s.message)) }
        let atTwo = try w.checkpoint(issuedAt: Fixture.time(0), key: h.key)
        #expect(h.deliver(atTwo.record).checkpointRejection?.code == "head-mismatch")
    }

    @Test func forgedEventOnAForkIsOrphanedByTheCheckpoint() throws {
        var h = try Harness()
        let sealed = try h.produce(3)
        _ = h.deliver(sealed[0].message)
        // Another party forges an event claiming the same source, extending event 1.
        var forged = Fixture.events(1, firstSequence: 2)[0]
        forged.payload = EventSamples.payload(.practitionerAllocated, subject: forged.subject, variant: 77)
        forged.prevHash = sealed[0].hash.hex
        let forgedMessage = try Fixture.codec.encodeBinary(forged)
        let forgedLink = try #require(h.deliver(forgedMessage).link)
        #expect(forgedLink.position == 2 && !forgedLink.forked)
        let genuine2 = try #require(h.deliver(sealed[1].message).link)
        #expect(genuine2.position == 2 && genuine2.forked)
        #expect(h.deliver(sealed[2].message).link?.position == 3)
        let coverage = try #require(h.deliver(try h.checkpoint().record).coverage)
        #expect(coverage.verified.map(\.hash) == sealed.map(\.hash))
        #expect(coverage.orphaned.map(\.offset) == [forgedLink.offset])
        #expect(h.verifier.state(of: Fixture.chain)?.unverified.isEmpty == true)
    }

    @Test func checkpointKeyRules() throws {
        let old = try Fixture.key()
        let new = try Fixture.key()
        let stranger = try Fixture.key(EventSamples.interventionsSource.urn)
        let unregistered = try Fixture.key()
        // Rotation: the old key signs until t=600, the new one from t=500.
        let registry = try KeyRegistry(keys: [
            old.registryEntry(validFrom: Fixture.time(0), validUntil: Fixture.time(600)),
            new.registryEntry(validFrom: Fixture.time(500)),
            stranger.registryEntry(validFrom: Fixture.time(0)),
        ])
        var h = Harness(key: old, registry: registry)
        for s in try h.produce(2) { _ = h.deliver(s.message) }
        let chain = Fixture.chain
        func signed(_ key: AgencySigningKey, at seconds: Int64) throws -> ChainCheckpoint {
            try ChainCheckpoint.signed(chain: chain, count: h.writer.count, head: h.writer.head,
                                       lastSequence: h.writer.lastSequence, issuedAt: Fixture.time(seconds), key: key)
        }
        #expect(h.deliver(try signed(unregistered, at: 100).record).checkpointRejection == .key(.unknownKey(keyId: unregistered.keyId)))
        #expect(h.deliver(try signed(old, at: 700).record).checkpointRejection?.code == "key-not-valid")
        #expect(h.deliver(try signed(new, at: 400).record).checkpointRejection?.code == "key-not-valid")
        // A key of another agency, with the checkpoint's signer field pointing at our source.
        let foreign = try ChainCheckpoint(chain: chain, count: 2, head: h.writer.head, lastSequence: 2, issuedAt: Fixture.time(100),
                                          keyId: stranger.keyId, signature: try stranger.sign(Array("x".utf8)))
        #expect(h.deliver(foreign.record).checkpointRejection?.code == "wrong-source")
        // A signature swapped in from another checkpoint.
        let good = try signed(old, at: 100)
        let other = try signed(old, at: 101)
        let swapped = try ChainCheckpoint(chain: chain, count: good.count, head: good.head, lastSequence: good.lastSequence,
                                          issuedAt: good.issuedAt, keyId: good.keyId, signature: other.signature)
        #expect(h.deliver(swapped.record).checkpointRejection == .key(.badSignature(keyId: old.keyId)))
        // Both keys are valid in the overlap.
        #expect(h.deliver(try signed(old, at: 550).record).coverage?.verified.count == 2)
        for s in try h.produce(1) { _ = h.deliver(s.message) }
        #expect(h.deliver(try signed(new, at: 900).record).coverage?.verified.count == 1)
    }

    @Test func checkpointMustMatchItsChainAndOwner() throws {
        var h = try Harness()
        for s in try h.produce(1) { _ = h.deliver(s.message) }
        let checkpoint = try h.checkpoint()
        #expect(h.verifier.accept(checkpoint: checkpoint, topic: Fixture.topic, partition: 1, offset: 10)
            == .rejected(.wrongChain(checkpoint: Fixture.chain, topic: Fixture.topic, partition: 1)))
        let intruder = try Fixture.key(EventSamples.interventionsSource.urn)
        let w = ChainWriter(chain: ChainID(source: intruder.signer, topic: Fixture.topic, partition: 0))
        let foreign = try w.checkpoint(issuedAt: Fixture.time(0), key: intruder)
        #expect(h.deliver(foreign.record).checkpointRejection?.code == "source-not-topic-owner")
        #expect(throws: IntegrityError.self) { try h.writer.checkpoint(issuedAt: Fixture.time(0), key: intruder) }
    }

    @Test func sequenceMismatchAndStaleCheckpoints() throws {
        var h = try Harness()
        for s in try h.produce(2) { _ = h.deliver(s.message) }
        let lying = try ChainCheckpoint.signed(chain: Fixture.chain, count: 2, head: h.writer.head, lastSequence: 9,
                                               issuedAt: Fixture.time(0), key: h.key)
        #expect(h.deliver(lying.record).checkpointRejection?.code == "sequence-mismatch")
        let first = try ChainCheckpoint.signed(chain: Fixture.chain, count: 1, head: try #require(h.verifier.state(of: Fixture.chain)?.unverified.first?.hash),
                                               lastSequence: 1, issuedAt: Fixture.time(0), key: h.key)
        #expect(h.deliver(try h.checkpoint().record).coverage?.verified.count == 2)
        #expect(h.deliver(first.record).checkpointRejection == .stale(chain: Fixture.chain, count: 1, verified: 2))
    }

    @Test func overdueCheckpointBoundsMemory() throws {
        var h = try Harness()
        h.verifier.maxUnverifiedPerChain = 3
        let sealed = try h.produce(4)
        for s in sealed.prefix(3) { #expect(h.deliver(s.message).link != nil) }
        #expect(h.deliver(sealed[3].message).eventRejection?.code == "checkpoint-overdue")
    }

    @Test func stateSurvivesAHandOver() throws {
        var h = try Harness()
        for s in try h.produce(3) { _ = h.deliver(s.message) }
        let stored = try JSONEncoder().encode(try #require(h.verifier.state(of: Fixture.chain)))
        var other = ChainVerifier(registry: h.verifier.registry)
        other.restore(try JSONDecoder().decode(ChainState.self, from: stored))
        h.verifier = other
        for s in try h.produce(1) { #expect(h.deliver(s.message).link?.position == 4) }
        #expect(h.deliver(try h.checkpoint().record).coverage?.verified.count == 4)
        h.verifier.release(topic: Fixture.topic, partition: 0)
        #expect(h.verifier.chains.isEmpty)
    }

    @Test func anchorStartsAChainAfterRetention() throws {
        var h = try Harness()
        let early = try h.produce(3)
        let anchor = try h.checkpoint()
        let later = try h.produce(2)
        var verifier = ChainVerifier(registry: h.verifier.registry)
        #expect(verifier.accept(record: later[0].message, topic: Fixture.topic, partition: 0, offset: 100) ==
            .event(.rejected(.brokenChain(chain: Fixture.chain, expected: .zero, found: early[2].hash))))
        #expect(try verifier.anchor(at: anchor, offset: 99).get().isEmpty)
        if case .event(.provisional(let link)) = verifier.accept(record: later[0].message, topic: Fixture.topic, partition: 0, offset: 101) {
            #expect(link.position == 4)
        } else {
            Issue.record("expected provisional after anchoring")
        }
        let forged = try ChainCheckpoint(chain: anchor.chain, count: 9, head: anchor.head, lastSequence: 9, issuedAt: anchor.issuedAt,
                                         keyId: anchor.keyId, signature: anchor.signature)
        #expect(throws: CheckpointRejection.self) { try verifier.anchor(at: forged, offset: 102).get() }
    }

    @Test func partitionsAndTopicsAreSeparateChains() throws {
        let key = try Fixture.key(EventSamples.commissionerSource.urn)
        let registry = try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-60))])
        var verifier = ChainVerifier(registry: registry)
        let source = EventSamples.commissionerSource.urn
        let kinds: [EventKind] = [.contractAwarded, .provenReoffenceRecorded]
        for kind in kinds {
            let topic = kind.topic.name
            for partition: Int32 in [0, 1] {
                var writer = ChainWriter(chain: ChainID(source: source, topic: topic, partition: partition))
                let event = EventSamples.event(kind, subject: EventSamples.subject(for: kind, index: 1), sequence: 1, time: Fixture.start)
                let sealed = try writer.seal(event, codec: Fixture.codec)
                let verdict = verifier.accept(record: sealed.message, topic: topic, partition: partition, offset: 0)
                #expect(verdict.link?.position == 1)
                let coverage = verifier.accept(record: try writer.checkpoint(issuedAt: Fixture.start, key: key).record,
                                               topic: topic, partition: partition, offset: 1).coverage
                #expect(coverage?.verified.count == 1)
            }
        }
        #expect(verifier.chains.count == 4)
    }

    @Test func writerRefusesWhatDoesNotExtendIt() throws {
        var writer = ChainWriter(chain: Fixture.chain)
        var event = Fixture.events(1)[0]
        event.prevHash = String(repeating: "1", count: 64)
        let (_, hashed) = try EventHashing.hash(event: event, codec: Fixture.codec)
        #expect(throws: IntegrityError.self) { try writer.append(hashed) }
        let other = ChainWriter(chain: ChainID(source: "urn:accord:probation:other", topic: Fixture.topic, partition: 0))
        var o = other
        #expect(throws: IntegrityError.self) { _ = try o.seal(Fixture.events(1)[0], codec: Fixture.codec) }
        #expect(writer.count == 0 && o.count == 0)
    }
}
