import AccordEvents
import AccordProjection
import Foundation
import GRDB
import Synchronization

/// The accountability view kept in a store of its own without a journal: the projection engine
/// over SQLite view tables, with a bounded cache of cases in memory. An agency service derives
/// its reactions (worklists, contract alerts) from one, so that its memory does not grow with
/// the caseload. Applying is idempotent (a fact already in its subject's state is ignored).
///
/// The view is derived state, started empty at every open (any file left at the path is
/// removed): its events come back from the agency topics.
public final class UnjournaledView: Sendable {
    /// The store file.
    public let path: String
    /// The rules of the view.
    public let rules: ProjectionRules
    private let store: ProjectorStore
    private let writer: Mutex<ViewStoreWriter>
    /// A directory created for this view alone, removed when it is released.
    private let scratchDirectory: String?

    /// Opens an empty view at `path`, removing a store left there; `cacheCases` bounds the cases
    /// the engine keeps decoded in memory, `cacheMebibytes` each SQLite connection's page cache.
    public convenience init(path: String, rules: ProjectionRules = .defaults, cacheCases: Int = 2_000,
                cacheMebibytes: Int = 8) throws {
        try self.init(path: path, rules: rules, cacheCases: cacheCases, cacheMebibytes: cacheMebibytes, scratch: nil)
    }

    /// Opens an empty view in a new temporary directory, removed with the view.
    public convenience init(temporaryWith rules: ProjectionRules = .defaults, cacheCases: Int = 2_000) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("accord-view-\(UUID().uuidString.lowercased())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try self.init(path: directory + "/view.sqlite", rules: rules, cacheCases: cacheCases, cacheMebibytes: 2,
                      scratch: directory)
    }

    private init(path: String, rules: ProjectionRules, cacheCases: Int, cacheMebibytes: Int, scratch: String?) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
        self.path = path
        self.rules = rules
        scratchDirectory = scratch
        store = try ProjectorStore(path: path, cacheMebibytes: cacheMebibytes)
        writer = Mutex(try ViewStoreWriter(store: store, rules: rules, cacheCases: max(1, cacheCases)))
    }

    deinit {
        guard let scratchDirectory else { return }
        store.close()
        try? FileManager.default.removeItem(atPath: scratchDirectory)
    }

    /// Applies events in one transaction, each with the instant it was recorded. Throws when the
    /// store cannot be written (the view is then unchanged).
    public func apply(_ events: [IncomingEvent]) throws {
        guard !events.isEmpty else { return }
        try writer.withLock { try $0.applyWithoutJournal(events) }
    }

    /// Reads the view in one consistent snapshot.
    public func read<T>(_ body: (Snapshot) throws -> T) throws -> T {
        try store.read { db in try body(Snapshot(db: db)) }
    }

    /// The view as one read transaction sees it.
    public struct Snapshot {
        let db: Database

        /// The subjects' stored facts.
        public var facts: StoreFacts { StoreFacts(db: db) }

        /// Every flag record of `rule` not resolved at or before `asOf`: the obligations a
        /// worklist at `asOf` can show (those whose deadline is still ahead included).
        public func flagRecords(rule: FlagRule, unresolvedAt asOf: Timestamp) throws -> [FlagRecord] {
            let open = try Data.fetchAll(db, sql: "SELECT record FROM view_flag WHERE rule = ? AND resolved_ns IS NULL",
                                         arguments: [rule.rawValue])
            let later = try Data.fetchAll(db, sql: "SELECT record FROM view_flag WHERE resolved_ns > ? AND rule = ?",
                                          arguments: [asOf.nanosecondsSinceEpoch, rule.rawValue])
            return try (open + later).map(UnjournaledView.decode)
        }
    }

    fileprivate static func decode(_ data: Data) throws -> FlagRecord {
        do {
            return try RecordCoding.decodeFlag([UInt8](data))
        } catch {
            throw StoreError("a stored flag is not readable: \(error)")
        }
    }
}
