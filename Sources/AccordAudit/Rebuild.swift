import AccordBus
import AccordEvents
import AccordIntegrity
import AccordKafka
import AccordProjection
import AccordStore
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a rebuild reads its events from.
public enum RebuildSource: Sendable, Equatable {
    /// The live store's journal (read only).
    case journal
    /// Every agency topic, from the beginning to its end when the rebuild starts.
    case kafka(bootstrapServers: String, properties: [String: String] = [:], timeout: Duration = .seconds(10))

    /// `journal` or `kafka`.
    public var name: String {
        switch self {
        case .journal: "journal"
        case .kafka: "kafka"
        }
    }
}

/// A finished rebuild: the new store beside the live one, what went into it, and (when asked)
/// how it compares with the live store.
public struct RebuildResult: Sendable {
    /// The live store.
    public var livePath: String
    /// The rebuilt store (beside the live one).
    public var outputPath: String
    /// Where the events came from.
    public var source: RebuildSource
    /// Journal entries or Kafka records read.
    public var recordsRead: Int
    /// Events applied (and journaled in the rebuilt store).
    public var eventsApplied: Int
    /// Records carrying an event already applied.
    public var duplicates: Int
    /// Records refused (Kafka) or journal entries that did not decode.
    public var refused: [String]
    /// The latest event time: the instant the rebuilt rows describe.
    public var latestEventTime: Timestamp?
    /// The rebuilt view's digest.
    public var viewDigest: String
    /// Cases in the rebuilt view.
    public var caseRows: Int
    /// Contracts in the rebuilt view.
    public var contractRows: Int
    /// The live journal's last position when the rebuild read it (a swap checks it has not moved).
    public var liveLastPosition: Int64
    /// The comparison with the live store, when asked for.
    public var comparison: RebuildComparison?
    /// Why the rebuilt store must not replace the live one (empty: it may).
    public var swapBlockers: [String]
    /// From Kafka: the start of each partition the broker no longer holds (its retention dropped
    /// it), where the live store had read records.
    public var unheld: [UnheldRange] = []
}

/// The first offsets of a partition that the broker no longer holds.
public struct UnheldRange: Sendable, Equatable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The first offset the broker still holds (every offset before it is gone).
    public var until: Int64

    /// `topic/partition offsets 0…until-1 (until records)`.
    public var description: String {
        "\(topic)/\(partition) offsets 0…\(until - 1) (\(until) record\(until == 1 ? "" : "s"))"
    }
}

/// Rebuilds the whole view from scratch into a new store file beside the live one, compares it
/// with the live store, and can swap it in.
///
/// Building reads the live store through a read-only connection and writes only the new file,
/// so queries on the live store (and the projector) are never blocked by a rebuild. Swapping
/// replaces the live file by an atomic rename and needs the projector to be stopped: it is
/// refused when the live store's write-ahead log cannot be checkpointed or its journal moved
/// since the rebuild read it.
public enum Rebuild {
    /// The rebuilt store's path for the live store at `livePath`: `<livePath>.rebuild.sqlite`.
    public static func outputPath(for livePath: String) -> String { livePath + ".rebuild.sqlite" }

    /// Rebuilds the view of the live store at `livePath` from `source` into `outputPath`
    /// (replacing a previous rebuild there) and, with `compare`, compares it with the live store.
    /// `rules` and `upcaster` must be the projector's for the rebuilt view to equal the live one.
    public static func run(livePath: String, from source: RebuildSource, rules: ProjectionRules = .defaults,
                           upcaster: EventUpcaster = .none, compare: Bool, outputPath: String? = nil,
                           logger: Logger = Logger(label: "accord.audit.rebuild"),
                           progress: (AuditProgress) -> Void = { _ in }) async throws -> RebuildResult {
        let output = outputPath ?? Self.outputPath(for: livePath)
        if StoreCompanions.canonical(output) == StoreCompanions.canonical(livePath) {
            throw AuditError.outputIsLiveStore(path: livePath)
        }
        let reader = try StoreAuditReader(path: livePath)
        let liveJournal = try reader.journalSummary()
        try StoreCompanions.remove(output)
        var built: Built
        switch source {
        case .journal:
            built = try fromJournal(reader: reader, rules: rules, upcaster: upcaster, output: output, total: liveJournal.count,
                                    progress: progress)
        case .kafka(let servers, let properties, let timeout):
            built = try await fromKafka(bootstrapServers: servers, properties: properties, timeout: timeout, rules: rules,
                                        upcaster: upcaster, output: output, estimate: liveJournal.count, logger: logger, progress: progress)
        }
        var unheld: [UnheldRange] = []
        if source != .journal {
            // The partition's first record read is where the broker's log now starts; a partition the
            // live store read records from and the rebuild read none from holds none of them.
            for offset in try reader.offsets() where offset.nextOffset > 0 {
                let partition = TopicPartition(topic: offset.topic, partition: offset.partition)
                let start = built.firstOffsets[partition] ?? offset.nextOffset
                if start > 0 { unheld.append(UnheldRange(topic: offset.topic, partition: offset.partition, until: start)) }
            }
            unheld.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        }
        var blockers: [String] = []
        if !built.refused.isEmpty, source == .journal {
            blockers.append("\(built.refused.count) live journal entries did not decode and would be lost")
        }
        let rebuilt = try StoreAuditReader(path: output)
        // Integrity records the rebuild does not recreate must not be lost by a swap.
        for table in ["chain_checkpoints", "journal_checkpoints", "chain_states", "unread_ranges"] {
            let liveRows = try reader.rowCount(of: table) ?? 0
            let newRows = try rebuilt.rowCount(of: table) ?? 0
            if liveRows > newRows {
                blockers.append("the live store's \(table) table has \(liveRows) rows, the rebuild \(newRows): a swap would lose them")
            }
        }
        var comparison: RebuildComparison?
        if compare || source != .journal {
            let made = try RebuildComparison.make(live: reader, rebuilt: rebuilt, source: source, rules: rules, unheld: unheld)
            if source != .journal, made.missingFromRebuild > 0 {
                blockers.append("\(made.missingFromRebuild) events of the live journal are not in Kafka any more")
            }
            if compare { comparison = made }
        }
        let counts = try rebuilt.store.subjectCounts()
        return RebuildResult(
            livePath: livePath, outputPath: output, source: source, recordsRead: built.recordsRead,
            eventsApplied: built.applied, duplicates: built.duplicates, refused: built.refused,
            latestEventTime: built.latest, viewDigest: built.digest.hex, caseRows: counts.0, contractRows: counts.1,
            liveLastPosition: liveJournal.lastPosition, comparison: comparison, swapBlockers: blockers, unheld: unheld)
    }

    /// Replaces the live store file with the rebuilt one by an atomic rename, keeping the old
    /// file as `<livePath>.before-rebuild-<UTC time>` (a hard link made before the rename).
    /// The projector must be stopped. Returns the backup's path.
    public static func swap(_ result: RebuildResult, now: Date = Date()) throws -> String {
        guard result.swapBlockers.isEmpty else {
            throw AuditError.swapRefused(result.swapBlockers.joined(separator: "; "))
        }
        let files = FileManager.default
        guard files.fileExists(atPath: result.outputPath) else {
            throw AuditError.swapRefused("the rebuilt store \(result.outputPath) is missing")
        }
        // Everything of the rebuilt store in its main file, no log beside it.
        _ = try StoreFileMaintenance.checkpoint(path: result.outputPath)
        try StoreCompanions.paths(of: result.outputPath).filter { files.fileExists(atPath: $0) }.forEach(files.removeItem(atPath:))
        // The live store: nobody else writing, nothing appended since the rebuild read it.
        let last = try StoreFileMaintenance.checkpoint(path: result.livePath)
        guard last == result.liveLastPosition else {
            throw StoreAuditError.changed(path: result.livePath, expected: result.liveLastPosition, found: last)
        }
        let stamp = ISO8601DateFormatter().string(from: now).replacingOccurrences(of: ":", with: "")
        let backup = result.livePath + ".before-rebuild-\(stamp)"
        do {
            try files.linkItem(atPath: result.livePath, toPath: backup)
        } catch {
            throw AuditError.cannotWrite(path: backup, reason: "\(error.localizedDescription)")
        }
        guard rename(result.outputPath, result.livePath) == 0 else {
            let reason = String(cString: strerror(errno))
            // The backup link is only an extra name of the untouched live file; leaving it is harmless.
            try? files.removeItem(atPath: backup)
            throw AuditError.cannotWrite(path: result.livePath, reason: reason)
        }
        // The old file's (checkpointed, empty) log and index must not be taken for the new file's.
        for companion in StoreCompanions.paths(of: result.livePath) where files.fileExists(atPath: companion) {
            try files.removeItem(atPath: companion)
        }
        return backup
    }

    // MARK: building

    /// What a build produced.
    struct Built {
        var applied = 0
        var latest: Timestamp?
        var recordsRead = 0
        var duplicates = 0
        var refused: [String] = []
        var digest: Hash256 = .zero
        /// From Kafka: the first offset read in each partition.
        var firstOffsets: [TopicPartition: Int64] = [:]
    }

    /// Journals and applies events into the new store, a batch per transaction.
    struct Writer {
        var writer: ViewStoreWriter
        var batch = StoreBatch()
        var built = Built()

        init(path: String, rules: ProjectionRules, upcaster: EventUpcaster) throws {
            writer = try ViewStoreWriter(store: try ProjectorStore(path: path), rules: rules, upcaster: upcaster)
            try writer.stampViewFormat()
        }

        mutating func append(_ entry: JournaledEvent, _ event: AccordEvent) throws {
            var copy = entry
            copy.position = 0
            copy.entryHash = nil
            copy.verified = entry.verified
            copy.retractedAt = nil
            batch.entries.append(PendingEntry(entry: copy, event: event))
            if batch.entries.count >= 5_000 { try flush() }
        }

        /// Takes journaled records back out of the view with the next batch.
        mutating func retract(_ retractions: [Retraction]) {
            batch.retractions += retractions
        }

        mutating func flush() throws {
            let committed = try writer.commit(batch)
            built.applied += committed.appended.count
            built.duplicates += committed.duplicates
            for entry in committed.appended { built.latest = max(built.latest ?? entry.time, entry.time) }
            batch = StoreBatch()
        }

        /// Writes the last batch with `offsets` and `deadLetters`, and returns what was built.
        mutating func finish(offsets: [StoredOffset], deadLetters: [DeadLetterEntry]) throws -> Built {
            batch.offsets = offsets
            batch.deadLetters = deadLetters
            try flush()
            built.digest = try writer.viewDigest()
            return built
        }
    }

    private static func fromJournal(reader: StoreAuditReader, rules: ProjectionRules, upcaster: EventUpcaster, output: String,
                                    total: Int, progress: (AuditProgress) -> Void) throws -> Built {
        var writer = try Writer(path: output, rules: rules, upcaster: upcaster)
        let codec = EventCodec()
        var read = 0
        var refused: [String] = []
        // Retracted entries are journaled again and retracted again at the same place.
        var retractions: [Int64: [Retraction]] = [:]
        for stored in try reader.store.retractions() { retractions[stored.afterPosition, default: []].append(stored.retraction) }
        progress(AuditProgress(done: 0, total: total))
        try reader.forEachJournalEntry { entry in
            defer {
                if let due = retractions.removeValue(forKey: entry.position) { writer.retract(due) }
            }
            read += 1
            if read % 5_000 == 0 { progress(AuditProgress(done: read, total: total)) }
            let event: AccordEvent
            do {
                event = try entry.decodeEvent(codec: codec)
            } catch {
                refused.append("journal position \(entry.position) (event \(entry.eventId)) does not decode: \(error)")
                return
            }
            try writer.append(entry, event)
        }
        progress(AuditProgress(done: read, total: total))
        var built = try writer.finish(offsets: try reader.offsets(), deadLetters: try reader.deadLetters())
        built.recordsRead = read
        built.refused = refused
        return built
    }

    private static func fromKafka(bootstrapServers: String, properties: [String: String], timeout: Duration,
                                  rules: ProjectionRules, upcaster: EventUpcaster, output: String, estimate: Int, logger: Logger,
                                  progress: (AuditProgress) -> Void) async throws -> Built {
        var assignment: [TopicPartition: StartOffset] = [:]
        for topic in AccordTopic.all where topic.owner != nil {
            let count = try await KafkaTopicProbe.partitionCount(of: topic.name, bootstrapServers: bootstrapServers,
                                                                 properties: properties, timeout: timeout, logger: logger)
            for partition in 0..<count { assignment[TopicPartition(topic: topic.name, partition: partition)] = .beginning }
        }
        var writer = try Writer(path: output, rules: rules, upcaster: upcaster)
        var deadLetters: [DeadLetterEntry] = []
        var refused: [String] = []
        var next: [TopicPartition: Int64] = [:]
        var first: [TopicPartition: Int64] = [:]
        var read = 0
        let check = RecordCheck()
        progress(AuditProgress(done: 0, total: estimate))
        if !assignment.isEmpty {
            let consumer: KafkaConsumer
            do {
                consumer = try KafkaConsumer(configuration: .init(bootstrapServers: bootstrapServers, clientID: "accord-audit-rebuild",
                                                                  properties: properties), logger: logger)
            } catch {
                throw AuditError.kafka("\(error)")
            }
            do {
                try await consumer.assign(assignment, stopAtEnd: true, timeout: timeout)
                while true {
                    let records = try await consumer.nextBatch(maxRecords: 5_000)
                    if records.isEmpty { break }
                    for record in records {
                        read += 1
                        next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1)
                        first[record.topicPartition] = min(first[record.topicPartition] ?? record.offset, record.offset)
                        let message = record.binaryMessage
                        // Agency checkpoints travel on the agency topics; they are integrity records, not events.
                        if ChainCheckpoint.isCheckpointRecord(message) { continue }
                        switch check.check(message, topic: record.topic) {
                        case .accepted(let event):
                            let hash: Hash256
                            do {
                                hash = try EventHashing.hash(message: message).hash
                            } catch {
                                refused.append("\(record.topicPartition)@\(record.offset): unhashable: \(error)")
                                continue
                            }
                            let recordedAt = Timestamp.fromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time)
                            let coordinates = RecordCoordinates(topic: record.topic, partition: record.partition, offset: record.offset)
                            try writer.append(JournaledEvent(event: event, message: message, coordinates: coordinates,
                                                             recordedAt: recordedAt, eventHash: hash), event)
                        case .rejected(let reason):
                            deadLetters.append(DeadLetterEntry(topic: record.topic, partition: record.partition,
                                                               offset: record.offset, reason: reason))
                            refused.append("\(record.topicPartition)@\(record.offset): \(reason)")
                        }
                    }
                    progress(AuditProgress(done: read, total: max(estimate, read)))
                }
            } catch {
                await consumer.close()
                if let error = error as? KafkaError { throw AuditError.kafka(error.description) }
                throw error
            }
            await consumer.close()
        }
        progress(AuditProgress(done: read, total: max(estimate, read)))
        let offsets = next.sorted { $0.key < $1.key }.map {
            StoredOffset(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value)
        }
        var built = try writer.finish(offsets: offsets, deadLetters: deadLetters)
        built.recordsRead = read
        built.refused = refused
        built.firstOffsets = first
        return built
    }
}
/// Finds how many partitions a topic has by asking for the watermarks of partitions 0, 1, 2, …
/// until the broker says the partition (or topic) does not exist.
enum KafkaTopicProbe {
    static let maximum: Int32 = 1024

    static func partitionCount(of topic: String, bootstrapServers: String, properties: [String: String],
                               timeout: Duration, logger: Logger) async throws -> Int32 {
        let probe: KafkaConsumer
        do {
            probe = try KafkaConsumer(configuration: .init(bootstrapServers: bootstrapServers, clientID: "accord-audit-probe",
                                                           properties: properties), logger: logger)
        } catch {
            throw AuditError.kafka("\(error)")
        }
        var partition: Int32 = 0
        do {
            while partition < maximum {
                try Task.checkCancellation()
                do {
                    try await probe.assign([TopicPartition(topic: topic, partition: partition): .end], stopAtEnd: true,
                                           timeout: timeout)
                } catch let error as KafkaError
                            where ["_UNKNOWN_PARTITION", "_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART"].contains(error.codeName) {
                    break
                }
                partition += 1
            }
        } catch {
            await probe.close()
            if let error = error as? KafkaError { throw AuditError.kafka("reading the partitions of \(topic): \(error)") }
            throw error
        }
        await probe.close()
        return partition
    }
}
