import AccordBus
import AccordEvents
import AccordKafka
import AccordProjection
import AccordStore
import Foundation

// The record-level helpers the projector uses (in AccordProjector, which AccordAudit does not
// depend on), restated here so replays and rebuilds read records exactly as the projector did.

extension JournalEntry {
    /// The journal entry for `event`, read from `record`, keeping the record's bytes
    /// (the same fields the projector journals).
    init(auditEvent event: AccordEvent, record: ConsumerRecord) {
        self.init(eventId: event.idString, topic: record.topic, partition: record.partition,
                  offset: record.offset, source: event.source.urn, sequence: event.sequence, type: event.type,
                  subject: event.subject, time: event.time.description,
                  recordedAt: Timestamp.auditFromKafka(milliseconds: record.timestampMilliseconds, fallback: event.time).description,
                  key: record.key,
                  headers: record.headers.map { StoredHeader(name: $0.key, value: $0.value ?? []) },
                  value: record.value)
    }

    /// The Kafka record this entry was journaled from.
    var auditRecord: ConsumerRecord {
        ConsumerRecord(topic: topic, partition: partition, offset: offset, key: key, value: value,
                       headers: headers.map { KafkaHeader(key: $0.name, value: $0.value) },
                       timestampMilliseconds: nil)
    }

    /// The instant the entry was recorded, falling back to the event time when unreadable (as the projector does).
    func recordedInstant(fallback: Timestamp) -> Timestamp {
        Timestamp(rfc3339: recordedAt) ?? fallback
    }
}

extension Timestamp {
    /// The instant of a Kafka record timestamp (milliseconds since the epoch), or `fallback` when absent.
    static func auditFromKafka(milliseconds: Int64?, fallback: Timestamp) -> Timestamp {
        guard let milliseconds, milliseconds > 0 else { return fallback }
        return Timestamp(secondsSinceEpoch: milliseconds / 1000, nanoseconds: Int32(milliseconds % 1000) * 1_000_000) ?? fallback
    }
}

/// The projector's check of a consumed record: it must decode against its topic's owner and validate.
enum AuditRecordCheck {
    static func check(_ record: ConsumerRecord, codec: EventCodec) -> Result<AccordEvent, EventError> {
        do {
            let event = try record.decodeEvent(codec: codec)
            try event.validate()
            return .success(event)
        } catch {
            return .failure(error)
        }
    }
}

/// Renders stored view rows (case and contract documents) the way the projector writes them:
/// sorted-key JSON of the case view / contract performance at one instant.
struct AuditViewDocuments {
    let state: ProjectionState
    let asOf: Timestamp
    let knownAt: Timestamp?
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    init(state: ProjectionState, asOf: Timestamp, knownAt: Timestamp? = nil) {
        self.state = state
        self.asOf = asOf
        self.knownAt = knownAt
    }

    func caseDocument(_ caseId: String, asOf override: Timestamp? = nil) -> ViewDocument? {
        guard let view = state.caseView(caseId, asOf: override ?? asOf, knownAt: knownAt),
              let json = try? Self.encoder.encode(view) else { return nil }
        return ViewDocument(id: caseId, area: view.area, json: [UInt8](json))
    }

    func contractDocument(_ contractId: String, asOf override: Timestamp? = nil) -> ViewDocument? {
        guard let performance = state.contractPerformance(contractId, asOf: override ?? asOf, knownAt: knownAt),
              let json = try? Self.encoder.encode(performance) else { return nil }
        return ViewDocument(id: contractId, area: performance.terms?.area, json: [UInt8](json))
    }
}

/// Where a store file's write-ahead-log companions live.
enum StoreCompanions {
    static func paths(of path: String) -> [String] { [path + "-wal", path + "-shm", path + "-journal"] }

    /// Removes a store file and its companions, ignoring the ones that are absent.
    static func remove(_ path: String) throws {
        let files = FileManager.default
        for file in [path] + paths(of: path) where files.fileExists(atPath: file) {
            try files.removeItem(atPath: file)
        }
    }

    /// The canonical absolute form of a path (symlinks resolved), for "same file?" checks.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
