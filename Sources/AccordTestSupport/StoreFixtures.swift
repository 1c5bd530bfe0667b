import AccordEvents
import AccordIntegrity
import AccordProjection
import AccordSimulation
import AccordStore
import Foundation

/// Temporary files and folders for tests, under the system's temporary directory.
public enum TemporaryPaths {
    /// A path for a new file named `<prefix>-<uuid>.<ext>` (not created).
    public static func file(_ prefix: String, ext: String = "sqlite") -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString).\(ext)").path
    }

    /// A new empty directory named `accord-<name>-<uuid>`.
    public static func directory(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("accord-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes a store file and its write-ahead-log companions (missing files are fine).
    public static func removeStore(_ path: String) {
        // Test clean-up: a file that is already gone is what we want.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// Journal entries and stores built the way the projector builds them.
public enum StoreFixtures {
    /// The journal entry of `event` as if read at `topic`/`partition`@`offset`, recorded at `recordedAt`.
    public static func pending(_ event: AccordEvent, recordedAt: Timestamp, offset: Int64, partition: Int32 = 0,
                               codec: EventCodec = EventCodec()) throws -> PendingEntry {
        let message = try codec.encodeBinary(event)
        let hash = try EventHashing.hash(message: message).hash
        let coordinates = RecordCoordinates(topic: event.kind.topic.name, partition: partition, offset: offset)
        return PendingEntry(entry: JournaledEvent(event: event, message: message, coordinates: coordinates,
                                                  recordedAt: recordedAt, eventHash: hash),
                            event: event)
    }

    /// Journals and applies `events` (each with its recorded instant) into the store at `path`
    /// in batches of `batchSize`, offsets counted per topic, then brings the view digest up to
    /// date; returns the writer. `upcaster` is the writer's (as the projector's `--area-offices`).
    @discardableResult
    public static func write(_ events: [(AccordEvent, Timestamp)], to path: String, rules: ProjectionRules = .defaults,
                             batchSize: Int = 50, cacheCases: Int = 50_000,
                             upcaster: EventUpcaster = .none) throws -> ViewStoreWriter {
        let store = try ProjectorStore(path: path)
        var writer = try ViewStoreWriter(store: store, rules: rules, cacheCases: cacheCases, upcaster: upcaster)
        var offsets: [String: Int64] = [:]
        var batch = StoreBatch()
        let codec = EventCodec()
        for (event, recordedAt) in events {
            let topic = event.kind.topic.name
            let offset = offsets[topic, default: 0]
            offsets[topic] = offset + 1
            batch.entries.append(try pending(event, recordedAt: recordedAt, offset: offset, codec: codec))
            if batch.entries.count >= batchSize {
                _ = try writer.commit(batch)
                batch = StoreBatch()
            }
        }
        batch.offsets = offsets.map { StoredOffset(topic: $0.key, partition: 0, nextOffset: $0.value) }
        _ = try writer.commit(batch)
        _ = try writer.viewDigest()
        return writer
    }
}

/// Events of a seeded simulated caseload, as the agency services would publish them.
public enum SimulatedEvents {
    /// The simulated caseload of `cases` cases as events with per-source sequence numbers in
    /// publication order, each recorded when it happened (plus `lateness` for every `lateEvery`-th).
    public static func make(cases: Int, seed: UInt64 = 2025, lateEvery: Int = 0,
                            lateness: Int64 = 5 * 86_400) throws -> [(AccordEvent, Timestamp)] {
        let simulation = try Simulation(config: SimulationConfig(cases: cases, seed: seed))
        var sequences: [EventSource: Int64] = [:]
        var out: [(AccordEvent, Timestamp)] = []
        for (n, submission) in simulation.plan().enumerated() {
            guard let source = submission.source else { continue }
            let sequence = sequences[source, default: 0] + 1
            sequences[source] = sequence
            let event = AccordEvent(id: submission.id, source: source, time: submission.time, sequence: sequence,
                                    payload: submission.data, causationId: submission.causationId?.lowercasedString,
                                    correlationId: submission.correlationId)
            var recordedAt = submission.time
            if lateEvery > 0, n % lateEvery == 0 { recordedAt = submission.time.adding(seconds: lateness) ?? submission.time }
            out.append((event, recordedAt))
        }
        return out
    }
}
