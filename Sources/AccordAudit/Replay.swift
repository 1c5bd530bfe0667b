import AccordEvents
import AccordProjection
import AccordStore
import Foundation

/// How far a replay or rebuild has got.
public struct AuditProgress: Sendable, Equatable {
    /// Journal entries (or records) read so far.
    public var done: Int
    /// Journal entries (or records) to read in all (0 when unknown).
    public var total: Int
}

/// What a replay or rebuild could not do.
public enum AuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output would overwrite the live store.
    case outputIsLiveStore(path: String)
    /// An output directory or file could not be created or written.
    case cannotWrite(path: String, reason: String)
    /// A Kafka problem.
    case kafka(String)
    /// A swap was asked for but the rebuild did not succeed.
    case swapRefused(String)

    public var description: String {
        switch self {
        case .outputIsLiveStore(let path): "refusing to write the replay over the live store \(path)"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .kafka(let message): "Kafka: \(message)"
        case .swapRefused(let reason): "not swapping: \(reason)"
        }
    }
}

/// The view at one instant, replayed from a store's journal into a store of its own.
public struct ReplayedView: Sendable {
    /// The time and perspective replayed.
    public var time: ReplayTime
    /// The view at `time`, folded from the live store.
    public var view: FoldedView
    /// The view of the complementary perspective (`time.complement`), for the late-recorded comparison.
    public var complement: FoldedView
    /// Journal size when read.
    public var journal: (count: Int, lastPosition: Int64)
    /// Entries the replay store was built from.
    public var entriesInView: Int
    /// Events dated by `asOf` but recorded after it, in journal order.
    public var lateEvents: [LateEvent]
    /// Entries that did not decode.
    public var undecodable: [UndecodableEntry]
    /// The replay store's view digest (equal to `view.digest`).
    public var replayDigest: String

    /// The whole view.
    public var snapshot: ViewSnapshot { view.snapshot }
}

/// Rebuilds the view exactly as it stood at an instant from a store's journal, into a separate
/// store, and writes the audit report. Never writes to the store it reads. Reads only the journal
/// entries dated up to the instant, so a replay costs in proportion to the history before it.
public enum Replay {
    /// The replay store's file name in the output directory.
    public static let storeFileName = "replay.sqlite"
    /// The JSON report's file name.
    public static let jsonFileName = "report.json"
    /// The HTML report's file name.
    public static let htmlFileName = "report.html"

    /// Where a replay writes its files.
    public struct Output: Sendable, Equatable {
        /// The replay store.
        public var store: String
        /// The JSON report.
        public var json: String
        /// The HTML report.
        public var html: String

        /// The files in `directory`.
        public init(directory: String) {
            let base = URL(fileURLWithPath: directory)
            store = base.appendingPathComponent(Replay.storeFileName).path
            json = base.appendingPathComponent(Replay.jsonFileName).path
            html = base.appendingPathComponent(Replay.htmlFileName).path
        }
    }

    /// A finished replay: the view, its report and the files written.
    public struct Outcome: Sendable {
        /// The replayed view.
        public var view: ReplayedView
        /// The report.
        public var report: AuditReport
        /// The files written.
        public var output: Output
    }

    /// Replays the store at `storePath` as of `time` into `<directory>/replay.sqlite` (a fresh
    /// projector store holding the journal entries that are part of the view, their view, and the
    /// sources' sequences as known then), then writes `report.json` and `report.html`. Existing
    /// files of those names in `directory` are replaced; the live store is only read.
    public static func run(storePath: String, time: ReplayTime, directory: String, rules: ProjectionRules = .defaults,
                           upcaster: EventUpcaster = .none, verifier: JournalVerifier? = ReportIntegrity.defaultVerifier, generatedAt: Timestamp? = nil,
                           progress: (AuditProgress) -> Void = { _ in }) throws -> Outcome {
        let output = Output(directory: directory)
        if StoreCompanions.canonical(output.store) == StoreCompanions.canonical(storePath) {
            throw AuditError.outputIsLiveStore(path: storePath)
        }
        let reader = try StoreAuditReader(path: storePath)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AuditError.cannotWrite(path: directory, reason: "\(error.localizedDescription)")
        }
        let partial = output.store + ".partial"
        try StoreCompanions.remove(partial)
        let view = try replay(reader: reader, time: time, rules: rules, upcaster: upcaster, into: partial, progress: progress)
        try StoreCompanions.remove(output.store)
        do {
            try FileManager.default.moveItem(atPath: partial, toPath: output.store)
        } catch {
            throw AuditError.cannotWrite(path: output.store, reason: "\(error.localizedDescription)")
        }
        let integrity = ReportIntegrity.summary(reader: reader, journal: view.journal, undecodable: view.undecodable,
                                                verifier: verifier)
        let report = AuditReport.make(view: view, storePath: storePath, replayStorePath: output.store,
                                      integrity: integrity, generatedAt: generatedAt)
        try write(Data(report.jsonBytes()), to: output.json)
        try write(Data(ReportHTML.render(report).utf8), to: output.html)
        return Outcome(view: view, report: report, output: output)
    }

    /// Streams the journal entries part of the view at `time` into a fresh store at `path`, and
    /// folds the view in both perspectives from the live store.
    static func replay(reader: StoreAuditReader, time: ReplayTime, rules: ProjectionRules, upcaster: EventUpcaster = .none,
                       into path: String, progress: (AuditProgress) -> Void) throws -> ReplayedView {
        let journal = try reader.journalSummary()
        let store = try ProjectorStore(path: path)
        var writer = try ViewStoreWriter(store: store, rules: rules, upcaster: upcaster)
        try writer.stampViewFormat()
        var late: [LateEvent] = []
        var undecodable: [UndecodableEntry] = []
        var batch = StoreBatch()
        var inView = 0
        var done = 0
        let codec = EventCodec()
        // Only entries dated by asOf are read; progress counts those.
        let total = try reader.journalCount(timeUpTo: time.asOf)
        progress(AuditProgress(done: 0, total: total))
        try reader.forEachJournalEntry(timeUpTo: time.asOf) { entry in
            done += 1
            if done % 5_000 == 0 { progress(AuditProgress(done: done, total: total)) }
            // An event retracted by the perspective's knowledge time was not in the view then.
            guard entry.isInView(knownAt: time.knownAt) else { return }
            let event: AccordEvent
            do {
                event = try entry.decodeEvent(codec: codec)
            } catch {
                undecodable.append(UndecodableEntry(position: entry.position, eventId: entry.eventId, error: "\(error)"))
                return
            }
            if entry.recordedAt > time.asOf {
                late.append(LateEvent(position: entry.position, id: event.idString, type: event.type, subject: event.subject,
                                      time: event.time, recordedAt: entry.recordedAt, source: event.source.urn,
                                      inThisView: time.knownAt.map { entry.recordedAt <= $0 } ?? true))
            }
            guard time.includes(time: event.time, recordedAt: entry.recordedAt) else { return }
            var copy = entry
            copy.position = 0
            batch.entries.append(PendingEntry(entry: copy, event: event))
            inView += 1
            if batch.entries.count >= 5_000 {
                _ = try writer.commit(batch)
                batch = StoreBatch()
            }
        }
        if !batch.entries.isEmpty { _ = try writer.commit(batch) }
        // Sources' sequences are those known at the perspective's knowledge time, whatever the
        // events' times (sequence numbers order publication, not occurrence).
        let liveSource = try reader.store.read { db in try SourceEvents.sequences(db, knownAt: time.knownAt) }
        try writer.replaceSequences(liveSource)
        progress(AuditProgress(done: done, total: total))
        let folded = try reader.store.read { db in
            try FoldedView(reader: StoreFacts(db: db), asOf: time.asOf, knownAt: time.knownAt, rules: rules)
        }
        let complement = try reader.store.read { db in
            try FoldedView(reader: StoreFacts(db: db), asOf: time.complement.asOf, knownAt: time.complement.knownAt, rules: rules)
        }
        let digest = try writer.viewDigest().hex
        return ReplayedView(time: time, view: folded, complement: complement, journal: journal, entriesInView: inView,
                            lateEvents: late, undecodable: undecodable, replayDigest: digest)
    }

    private static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw AuditError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
