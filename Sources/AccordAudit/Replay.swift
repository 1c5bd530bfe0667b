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

/// The view at one instant rebuilt from a store's journal, in memory.
public struct ReplayedView: Sendable {
    /// The time and perspective replayed.
    public var time: ReplayTime
    /// The state built from the journal entries that are part of the view.
    public var state: ProjectionState
    /// The state of the complementary perspective (`time.complement`), for the late-recorded comparison.
    public var complementState: ProjectionState
    /// Journal size when read.
    public var journal: (count: Int, lastPosition: Int64)
    /// Entries the state was built from.
    public var entriesInView: Int
    /// Events dated by `asOf` but recorded after it, in journal order.
    public var lateEvents: [LateEvent]
    /// Entries that did not decode.
    public var undecodable: [UndecodableEntry]

    /// The whole view (ProjectionState.snapshot at the replay time).
    public var snapshot: ViewSnapshot { state.snapshot(asOf: time.asOf, knownAt: time.knownAt) }
}

/// Rebuilds the view exactly as it stood at an instant from a store's journal, into a separate
/// store, and writes the audit report. Never writes to the store it reads.
public enum Replay {
    /// The replay store's file name in the output directory.
    public static let storeFileName = "replay.sqlite"
    /// The JSON report's file name.
    public static let jsonFileName = "report.json"
    /// The HTML report's file name.
    public static let htmlFileName = "report.html"

    /// Reads the journal of the store `reader` reads, in position order, and builds the state
    /// of the view at `time` (see `ReplayTime.includes`) and of its complement. Each entry that is
    /// part of the view is passed to `include` (to be written to a replay store).
    public static func view(from reader: StoreAuditReader, time: ReplayTime, rules: ProjectionRules = .defaults,
                            progress: (AuditProgress) -> Void = { _ in },
                            include: (JournalEntry) throws -> Void = { _ in }) throws -> ReplayedView {
        let journal = try reader.journalSummary()
        let complement = time.complement
        var state = ProjectionState(rules: rules)
        var other = ProjectionState(rules: rules)
        var late: [LateEvent] = []
        var undecodable: [UndecodableEntry] = []
        var done = 0
        var inView = 0
        let codec = EventCodec()
        progress(AuditProgress(done: 0, total: journal.count))
        try reader.forEachJournalEntry { entry in
            done += 1
            defer { if done % 1_000 == 0 { progress(AuditProgress(done: done, total: journal.count)) } }
            let event: AccordEvent
            do {
                event = try entry.consumerRecord.decodeEvent(codec: codec)
            } catch {
                undecodable.append(UndecodableEntry(position: entry.position, eventId: entry.eventId, error: "\(error)"))
                return
            }
            let recordedAt = entry.recordedInstant(fallback: event.time)
            if time.includes(time: event.time, recordedAt: recordedAt) {
                if state.apply(event, recordedAt: recordedAt) == .applied {
                    inView += 1
                    try include(entry)
                }
            }
            if complement.includes(time: event.time, recordedAt: recordedAt) {
                other.apply(event, recordedAt: recordedAt)
            }
            if event.time <= time.asOf, recordedAt > time.asOf {
                late.append(LateEvent(position: entry.position, id: event.idString, type: event.type, subject: event.subject,
                                      time: event.time, recordedAt: recordedAt, source: event.source.urn,
                                      inThisView: time.knownAt.map { recordedAt <= $0 } ?? true))
            }
        }
        progress(AuditProgress(done: done, total: journal.count))
        return ReplayedView(time: time, state: state, complementState: other, journal: journal, entriesInView: inView,
                            lateEvents: late, undecodable: undecodable)
    }

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
    /// projector store holding the journal entries that are part of the view and the case and
    /// contract documents as of `time.asOf`), then writes `report.json` and `report.html`.
    /// Existing files of those names in `directory` are replaced; the live store is only read.
    public static func run(storePath: String, time: ReplayTime, directory: String, rules: ProjectionRules = .defaults,
                           verifier: JournalVerifier? = ReportIntegrity.defaultVerifier, generatedAt: Timestamp? = nil,
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
        let view = try writeReplayStore(reader: reader, time: time, rules: rules, path: partial, progress: progress)
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

    /// Builds the view while streaming its entries into a fresh store at `path`, then writes
    /// the case and contract documents as of `time.asOf`. The store is closed on return.
    private static func writeReplayStore(reader: StoreAuditReader, time: ReplayTime, rules: ProjectionRules, path: String,
                                         progress: (AuditProgress) -> Void) throws -> ReplayedView {
        let store = try ProjectorStore(path: path)
        var batch = StoreBatch()
        let view = try Replay.view(from: reader, time: time, rules: rules, progress: progress) { entry in
            var copy = entry
            copy.position = 0
            batch.entries.append(copy)
            if batch.entries.count >= 2_000 {
                try store.commit(batch)
                batch = StoreBatch()
            }
        }
        let documents = ViewDocuments(state: view.state, asOf: time.asOf, knownAt: time.knownAt)
        batch.cases = view.state.caseIds(asOf: time.asOf, knownAt: time.knownAt).compactMap { documents.caseDocument($0) }
        batch.contracts = view.state.contractIds(asOf: time.asOf, knownAt: time.knownAt).compactMap { documents.contractDocument($0) }
        try store.commit(batch)
        return view
    }

    private static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw AuditError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
