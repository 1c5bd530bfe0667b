import AccordAudit
import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordStore
import Foundation
import GRDB
import Testing

/// A real projector store written the way the projector writes it: events sealed into agency
/// chains with `ChainWriter`, checked by a `ChainVerifier`, journaled (hash-chained by the
/// store) with their chain positions, agency checkpoints verified and stored with the batch,
/// and a journal checkpoint signed by a projector key after each batch.
struct VerifyFixture {
    /// The store file.
    let path: String
    /// The agencies' public keys.
    let registry: KeyRegistry
    /// The projector's public key.
    let projectorKeys: KeyRegistry
    /// The file holding `registry`.
    let registryPath: String
    /// The file holding `projectorKeys`.
    let projectorKeyPath: String
    /// The source whose sequence skips one number.
    let gapSource: String

    /// Builds a store of 59 events (one of 60 dropped, leaving a sequence gap) in two batches;
    /// `wrongDigest` signs a view digest that is not the view's in the second journal checkpoint.
    /// `events` (at least 21, from the sample sources) replace the sample events, the 21st dropped;
    /// `upcaster` is the projector's.
    static func make(wrongDigest: Bool = false, events custom: [AccordEvent]? = nil,
                     upcaster: EventUpcaster = .none) throws -> VerifyFixture {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-verify-\(UUID().uuidString).sqlite").path
        let validFrom = try #require(Timestamp(rfc3339: "2025-01-01T00:00:00Z"))
        var keys: [String: AgencySigningKey] = [:]
        var entries: [RegisteredKey] = []
        for kind in [AgencyKind.probation, .interventions, .commissioner] {
            let source = EventSamples.source(for: kind).urn
            let key = try #require(AgencySigningKey.generate(signer: source))
            keys[source] = key
            entries.append(key.registryEntry(validFrom: validFrom))
        }
        let registry = try KeyRegistry(keys: entries)
        let projectorKey = try #require(AgencySigningKey.generate(signer: "urn:accord:projector:main"))
        let projectorKeys = try KeyRegistry(keys: [projectorKey.registryEntry(validFrom: validFrom)])

        var events = custom ?? EventSamples.mixed(count: 60, caseCount: 8)
        try #require(events.count > 20)
        let dropped = events.remove(at: 20)
        let store = try ProjectorStore(path: path)
        var view = try ViewStoreWriter(store: store, upcaster: upcaster)
        let codec = EventCodec()
        var verifier = ChainVerifier(registry: registry)
        var writers: [ChainID: ChainWriter] = [:]
        var nextOffset: [String: Int64] = [:]
        func offset(_ chain: ChainID) -> Int64 {
            let key = "\(chain.topic)/\(chain.partition)"
            defer { nextOffset[key, default: 0] += 1 }
            return nextOffset[key, default: 0]
        }
        let half = custom == nil ? 30 : events.count / 2
        for (n, slice) in [events[..<half], events[half...]].enumerated() {
            var batch = StoreBatch()
            for event in slice {
                let plain = try codec.encodeBinary(event)
                let partition = try #require(KafkaPartitioner.murmur2(key: plain.key ?? [], partitions: 3))
                let chain = ChainID(source: event.source.urn, topic: event.kind.topic.name, partition: partition)
                var writer = writers[chain] ?? ChainWriter(chain: chain)
                let sealed = try writer.seal(event, codec: codec)
                writers[chain] = writer
                let at = offset(chain)
                guard case .event(.provisional(let link)) = verifier.accept(record: sealed.message, topic: chain.topic,
                                                                           partition: partition, offset: at) else {
                    Issue.record("event \(event.idString) was not linked")
                    continue
                }
                let entry = JournaledEvent(event: event, message: sealed.message,
                                           coordinates: RecordCoordinates(topic: chain.topic, partition: partition, offset: at),
                                           recordedAt: event.time, eventHash: link.hash, chainPosition: link.position)
                batch.entries.append(PendingEntry(entry: entry, event: event))
            }
            let issuedAt = try #require(EventSamples.defaultStart.adding(seconds: Int64(n) * 3_600))
            for writer in writers.values.sorted(by: { $0.chain.description < $1.chain.description }) {
                let key = try #require(keys[writer.chain.source])
                let record = try writer.checkpoint(issuedAt: issuedAt, key: key).record
                let at = offset(writer.chain)
                guard case .checkpoint(.verified(let coverage)) = verifier.accept(record: record, topic: writer.chain.topic,
                                                                                  partition: writer.chain.partition, offset: at) else {
                    Issue.record("checkpoint of \(writer.chain) was not verified")
                    continue
                }
                batch.chainCheckpoints.append(StoredChainCheckpoint(checkpoint: coverage.checkpoint, offset: at, body: record.value))
                batch.verifiedRecords.append(contentsOf: coverage.verified.map {
                    RecordCoordinates(topic: $0.chain.topic, partition: $0.chain.partition, offset: $0.offset)
                })
            }
            batch.chainStates = Array(verifier.chains.values)
            batch.journalCheckpoint = JournalCheckpointRequest(issuedAt: issuedAt, key: projectorKey)
            let commit = try view.commit(batch)
            if wrongDigest, n == 1, let signed = commit.journalCheckpoint {
                // A checkpoint correctly signed over a digest that is not the view's.
                let forged = try JournalCheckpoint.signed(position: signed.position, entryHash: signed.entryHash,
                                                          viewDigest: Hash256.sha256(Array("another view".utf8)),
                                                          issuedAt: signed.issuedAt, key: projectorKey)
                let queue = try DatabaseQueue(path: path)
                try queue.write {
                    try $0.execute(sql: "UPDATE journal_checkpoints SET view_digest = ?, signature = ? WHERE position = ?",
                                   arguments: [forged.viewDigest.hex, forged.signature, forged.position])
                }
            }
        }
        let registryPath = path + ".registry.json"
        let projectorKeyPath = path + ".projector.pub.json"
        try Data(registry.jsonBytes()).write(to: URL(fileURLWithPath: registryPath))
        try Data(projectorKeys.jsonBytes()).write(to: URL(fileURLWithPath: projectorKeyPath))
        return VerifyFixture(path: path, registry: registry, projectorKeys: projectorKeys, registryPath: registryPath,
                             projectorKeyPath: projectorKeyPath, gapSource: dropped.source.urn)
    }

    /// Verifies the store with the library (with `upcaster`, for the view digest replay).
    func verify(upcaster: EventUpcaster = .none) throws -> AuditSummary {
        try JournalAudit.verify(storePath: path, registry: registry, projectorKeys: projectorKeys, upcaster: upcaster)
    }

    /// Changes the store behind the projector's back.
    func tamper(_ sql: String, arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    /// The event id journaled at `position`.
    func eventId(at position: Int64) throws -> String? {
        var found: String?
        try ProjectorStore(readOnlyPath: path).forEachJournalEntry { entry in
            if entry.position == position { found = entry.eventId }
        }
        return found
    }

    /// Removes every file of the fixture.
    func remove() {
        for file in [path, path + "-wal", path + "-shm", registryPath, projectorKeyPath] {
            try? FileManager.default.removeItem(atPath: file)
        }
    }
}
