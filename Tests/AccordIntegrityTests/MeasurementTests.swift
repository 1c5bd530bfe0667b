import AccordEvents
import Crypto
import Foundation
import Testing
@testable import AccordIntegrity

/// Prints throughput numbers (no timing assertions). For release numbers:
/// `swift test -c release -Xswiftc -enable-testing --filter MeasurementTests`.
@Suite(.serialized) struct MeasurementTests {
    #if DEBUG
    /// Debug builds run a twentieth of the work: their numbers mean little and time is precious.
    private let scale = 20
    #else
    private let scale = 1
    #endif

    private func rate(_ label: String, _ n: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perSecond = Double(n) / max(seconds, 1e-9)
        print("measure: \(label): \(n) in \(String(Int(seconds * 1000))) ms = \(Int(perSecond)) /s")
        return perSecond
    }

    @Test func ed25519SignAndVerify() throws {
        let key = Curve25519.Signing.PrivateKey()
        let message = Array(Golden.checkpointBytes.utf8)
        var signature = Data()
        let n = 4000 / scale
        _ = try rate("ed25519 sign", n) {
            for _ in 0..<n { signature = try key.signature(for: message) }
        }
        var ok = 0
        _ = rate("ed25519 verify", n) {
            for _ in 0..<n where key.publicKey.isValidSignature(signature, for: message) { ok += 1 }
        }
        #expect(ok == n)
    }

    @Test func sha256AndEventHash() throws {
        let codec = EventCodec()
        let message = try codec.encodeBinary(Fixture.events(1)[0])
        let bytes = try EventHashing.preimage(headers: message.headers, value: message.value)
        print("measure: typical event preimage \(bytes.count) bytes (value \(message.value.count))")
        let n = 200_000 / scale
        var sink: UInt64 = 0
        _ = rate("sha256 of \(bytes.count) bytes", n) {
            for _ in 0..<n { sink &+= Hash256.sha256(bytes).w0 }
        }
        _ = try rate("event hash from headers+value", n) {
            for _ in 0..<n { sink &+= try EventHashing.hash(message: message).hash.w0 }
        }
        #expect(sink != 1)
    }

    @Test func verifierAcceptThroughput() throws {
        var writer = ChainWriter(chain: Fixture.chain)
        let n = 100_000 / scale
        let sealed = try Fixture.sealed(n, writer: &writer)
        let key = try Fixture.key()
        let registry = try KeyRegistry(keys: [key.registryEntry(validFrom: Fixture.time(-3600))])
        // Checkpoints every 1,000 events, as a producer would issue them.
        var checkpoints: [Int: ChainCheckpoint] = [:]
        var replay = ChainWriter(chain: Fixture.chain)
        for (i, s) in sealed.enumerated() {
            try replay.append(try EventHashing.hash(message: s.message))
            if (i + 1) % 1000 == 0 {
                checkpoints[i] = try replay.checkpoint(issuedAt: Fixture.time(Int64(i)), key: key)
            }
        }
        var verifier = ChainVerifier(registry: registry)
        var provisional = 0
        var verified = 0
        var offset: Int64 = 0
        _ = rate("verifier accept (hash + link, checkpoint per 1000)", n) {
            for (i, s) in sealed.enumerated() {
                if case .event(.provisional) = verifier.accept(record: s.message, topic: Fixture.topic, partition: 0, offset: offset) {
                    provisional += 1
                }
                offset += 1
                if let checkpoint = checkpoints[i] {
                    if case .checkpoint(.verified(let coverage)) = verifier.accept(record: checkpoint.record, topic: Fixture.topic,
                                                                                  partition: 0, offset: offset) {
                        verified += coverage.verified.count
                    }
                    offset += 1
                }
            }
        }
        #expect(provisional == n)
        #expect(verified == n)
    }

    @Test func journalChainThroughput() throws {
        var writer = JournalWriter()
        let n = 200_000 / scale
        let eventHash = Hash256.sha256(Array("x".utf8))
        var entries: [JournalEntry] = []
        entries.reserveCapacity(n)
        _ = try rate("journal append", n) {
            for i in 0..<n {
                entries.append(try writer.append(eventId: "03aea49d-20b4-8d6b-b33c-605a34979def", topic: Fixture.topic,
                                                 partition: 1, offset: Int64(i), eventHash: eventHash))
            }
        }
        var report: JournalReport?
        _ = rate("journal verify", n) { report = JournalChain.verify(entries: entries) }
        #expect(report?.isIntact == true)
    }
}
