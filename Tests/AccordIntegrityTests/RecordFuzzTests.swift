import AccordEvents
import AccordFuzzing
import Testing
@testable import AccordIntegrity

/// The chain verifier's record parsing, fuzzed with a fixed budget: a genuine signed chain of six
/// events and its checkpoint, with one record mutated the way a forger or a broken producer would
/// (headers renamed, repeated, dropped or garbled; the value altered). However the record is
/// changed, the verifier answers each record with a verdict, a refusal names its reason, and a
/// checkpoint verifies only the genuine events: nothing the source did not sign becomes verified.
@Suite("Chain verifier under fuzzed records")
struct RecordFuzzTests {
    /// A genuine chain, built once per test.
    struct GenuineChain {
        let key: AgencySigningKey
        let registry: KeyRegistry
        let sealed: [SealedEvent]
        let checkpoint: BinaryMessage

        init() throws {
            key = try Fixture.key()
            registry = try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-86_400))])
            var writer = ChainWriter(chain: Fixture.chain)
            sealed = try Fixture.sealed(6, writer: &writer)
            checkpoint = try writer.checkpoint(issuedAt: Fixture.time(3_600), key: key).record
        }

        var records: [BinaryMessage] { sealed.map(\.message) + [checkpoint] }

        /// The genuine hash at each position, from 1.
        func genuineHash(at position: Int64) -> Hash256? {
            sealed.first { $0.position == position }?.hash
        }
    }

    /// Kept cases, run before the generated ones on every run: any record the fuzzer finds that
    /// breaks a property. (None so far.)
    static let regressions: [String] = []

    @Test("a mutated record among genuine ones never makes an unsigned event verified")
    func mutatedRecord() async throws {
        let chain = try GenuineChain()
        let mutator = MessageMutator(seeds: chain.records, dictionary: [
            Array(Hash256.zero.hex.utf8), Array(chain.sealed[2].hash.hex.utf8), Array("urn:accord:probation:rogue-office".utf8),
            Array("7".utf8), Array("-1".utf8), Array("chain-checkpoint".utf8),
        ], maxValueLength: 4 * 1024)
        await fuzz("chain-record", what: "a record among a genuine signed chain's, to the chain verifier",
                   checks: "nothing the source did not sign became verified; every refusal has a reason", count: 1_500, input: mutator.generator, regressions: Self.regressions) { input in
            // Inserted between genuine events, then standing in for one of them.
            let genuine = chain.records
            let replaced = input.message.value.count % chain.sealed.count
            let orders: [[BinaryMessage]] = [
                Array(genuine[..<3]) + [input.message] + Array(genuine[3...]),
                genuine.enumerated().map { $0.offset == replaced ? input.message : $0.element },
            ]
            var outcome = FuzzOutcome.refused
            for records in orders {
                var verifier = ChainVerifier(registry: chain.registry)
                for (offset, record) in records.enumerated() {
                    let verdict = verifier.accept(record: record, topic: Fixture.topic, partition: 0, offset: Int64(offset))
                    if record == input.message, verdict.linksOrVerifies { outcome = .accepted }
                    switch verdict {
                    case .event(.rejected(let why)):
                        #expect(!why.description.isEmpty, "\(input)")
                    case .checkpoint(.rejected(let why)):
                        #expect(!why.code.isEmpty && !why.description.isEmpty, "\(input)")
                    case .checkpoint(.verified(let coverage)):
                        for link in coverage.verified {
                            #expect(link.chain == Fixture.chain && link.hash == chain.genuineHash(at: link.position),
                                    "verified \(link.chain) position \(link.position) with a hash the source never signed: \(input)")
                        }
                    case .event(.provisional), .event(.duplicate), .event(.held), .checkpoint(.duplicate), .checkpoint(.held):
                        break
                    }
                }
            }
            return outcome
        }
    }

    @Test("a checkpoint record with any field changed never verifies")
    func mutatedCheckpoint() async throws {
        let chain = try GenuineChain()
        let original = try ChainCheckpoint(record: chain.checkpoint)
        let mutator = MessageMutator(seeds: [chain.checkpoint], dictionary: [Array("5".utf8), Array("7".utf8)], maxValueLength: 4 * 1024)
        await fuzz("chain-checkpoint", what: "checkpoint records to the chain verifier",
                   checks: "no checkpoint with a changed field verified", count: 1_000, input: mutator.generator) { input in
            var verifier = ChainVerifier(registry: chain.registry)
            for (offset, record) in chain.sealed.map(\.message).enumerated() {
                _ = verifier.accept(record: record, topic: Fixture.topic, partition: 0, offset: Int64(offset))
            }
            let verdict = verifier.accept(record: input.message, topic: Fixture.topic, partition: 0, offset: 6)
            guard case .checkpoint(.verified) = verdict else { return .refused }
            let read = try ChainCheckpoint(record: input.message)
            #expect(read.chain == original.chain && read.count == original.count && read.head == original.head
                    && read.lastSequence == original.lastSequence && read.keyId == original.keyId,
                    "a changed checkpoint verified: \(input)")
            return .accepted
        }
    }
}

private extension RecordVerdict {
    /// The record took a place in its chain or verified part of it.
    var linksOrVerifies: Bool {
        switch self {
        case .event(.provisional), .checkpoint(.verified): true
        default: false
        }
    }
}
