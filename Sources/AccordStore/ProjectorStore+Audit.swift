import AccordEvents
import AccordIntegrity
import Foundation
import GRDB

/// Read-only access to a projector store for audits (replay, rebuild, reports).
///
/// The store file is opened read-only, so an audit never writes to the live store and, in WAL
/// mode, never blocks the projector's writer or its readers.
public final class StoreAuditReader: Sendable {
    /// The store, opened read-only.
    public let store: ProjectorStore
    /// The path of the store file read.
    public var path: String { store.path }

    /// Opens the store at `path` read-only. Throws `StoreAuditError.missing` when there is no such
    /// file and `StoreAuditError.notAStore` when it is not an up-to-date projector store.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreAuditError.missing(path: path) }
        do {
            store = try ProjectorStore(readOnlyPath: path)
        } catch let error as StoreError {
            throw StoreAuditError.notAStore(path: path, reason: error.message)
        } catch {
            throw StoreAuditError.notAStore(path: path, reason: "\(error)")
        }
    }

    /// Number of journal entries and the highest position (0 when empty).
    public func journalSummary() throws -> (count: Int, lastPosition: Int64) { try store.journalSummary() }

    /// Calls `body` with every journal entry in position order (optionally only those with an
    /// event time at or before `timeUpTo`), reading in pages.
    public func forEachJournalEntry(pageSize: Int = 5_000, timeUpTo: Timestamp? = nil,
                                    _ body: (JournaledEvent) throws -> Void) throws {
        try store.forEachJournalEntry(pageSize: pageSize, timeUpTo: timeUpTo, body)
    }

    /// Number of journal entries whose event time is at or before `timeUpTo`.
    public func journalCount(timeUpTo: Timestamp) throws -> Int { try store.journalCount(timeUpTo: timeUpTo) }

    /// Dead-letter log, oldest first.
    public func deadLetters() throws -> [DeadLetterEntry] { try store.deadLetters() }

    /// The stored next offset of every partition.
    public func offsets() throws -> [StoredOffset] { try store.offsets() }

    /// The names of the tables of the store.
    public func tableNames() throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
    }

    /// The column names of `table` (empty for an unknown table).
    public func columnNames(of table: String) throws -> [String] {
        try store.read { db in
            guard try db.tableExists(table) else { return [] }
            return try db.columns(in: table).map(\.name)
        }
    }

    /// Number of rows of `table` (nil for an unknown table).
    public func rowCount(of table: String) throws -> Int? {
        try store.read { db in
            guard try db.tableExists(table) else { return nil }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedDatabaseIdentifier)")
        }
    }

    /// Rows of `table` grouped by the value of `column` (as text; NULL as nil), at most `limit`
    /// groups, largest first. Empty when the table or column does not exist.
    public func valueCounts(table: String, column: String, limit: Int = 20) throws -> [(value: String?, count: Int)] {
        try store.read { db in
            guard try db.tableExists(table), try db.columns(in: table).contains(where: { $0.name == column }) else { return [] }
            let c = column.quotedDatabaseIdentifier
            return try Row.fetchAll(db, sql: """
                SELECT CAST(\(c) AS TEXT) AS v, count(*) AS n FROM \(table.quotedDatabaseIdentifier)
                GROUP BY \(c) ORDER BY n DESC LIMIT ?
                """, arguments: [max(1, limit)]).map { ($0["v"], $0["n"]) }
        }
    }
}

/// The tables that serve queries, with their key columns: what a rebuild compares row by row.
public enum ServingTables {
    /// Columns that say where a row was written, not what it holds (`view_fact.seq`, the order
    /// facts were written in): left out of row comparisons.
    public static let storageColumns: Set<String> = ["seq"]

    /// Each serving table and its primary key columns.
    public static let all: [(table: String, key: [String])] = [
        ("view_case", ["case_id"]), ("view_contract", ["contract_id"]), ("view_referral", ["contract_id", "case_id", "referral_id"]),
        ("view_flag", ["id"]), ("view_flag_count", ["area", "rule", "accountable"]),
        ("view_area_count", ["area", "metric", "key"]), ("view_fact", ["case_id", "event_id"]),
    ]
}

extension StoreAuditReader {
    /// A digest of every row of the serving table `table`, by its key (key columns as text joined
    /// by `/`, blobs in hex). Empty when the table does not exist.
    public func rowDigests(of table: String) throws -> [String: Hash256] {
        guard let spec = ServingTables.all.first(where: { $0.table == table }) else { return [:] }
        return try store.read { db in
            guard try db.tableExists(table) else { return [:] }
            let columns = try db.columns(in: table).map(\.name).filter { !ServingTables.storageColumns.contains($0) }
            let key = spec.key.map { "quote(\($0.quotedDatabaseIdentifier))" }.joined(separator: " || '/' || ")
            let whole = columns.map { "quote(\($0.quotedDatabaseIdentifier))" }.joined(separator: " || '|' || ")
            var out: [String: Hash256] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT \(key) AS k, \(whole) AS v FROM \(table.quotedDatabaseIdentifier)")
            while let row = try rows.next() {
                let k: String = row["k"]
                let v: String = row["v"]
                out[k] = Hash256.sha256(Array(v.utf8))
            }
            return out
        }
    }

    /// The columns of the row of `table` whose key (as `rowDigests` spells it) is `key`, each as
    /// SQL literal text; empty when there is no such row.
    public func row(of table: String, key: String) throws -> [(column: String, value: String)] {
        guard let spec = ServingTables.all.first(where: { $0.table == table }) else { return [] }
        return try store.read { db in
            guard try db.tableExists(table) else { return [] }
            let columns = try db.columns(in: table).map(\.name).filter { !ServingTables.storageColumns.contains($0) }
            let keyExpression = spec.key.map { "quote(\($0.quotedDatabaseIdentifier))" }.joined(separator: " || '/' || ")
            let select = columns.map { "quote(\($0.quotedDatabaseIdentifier))" }.joined(separator: ", ")
            guard let row = try Row.fetchOne(db, sql: """
                SELECT \(select) FROM \(table.quotedDatabaseIdentifier) WHERE \(keyExpression) = ?
                """, arguments: [key]) else { return [] }
            return columns.enumerated().map { n, name in (name, (row[n] as String?) ?? "NULL") }
        }
    }
}

/// Why an audit could not use a store file.
public enum StoreAuditError: Error, Sendable, Equatable, CustomStringConvertible {
    /// There is no file at the path.
    case missing(path: String)
    /// The file is not a projector store, or not one this version can read without migrating it.
    case notAStore(path: String, reason: String)
    /// The live store is still in use (a checkpoint could not complete).
    case inUse(path: String)
    /// The live store's journal changed since it was read.
    case changed(path: String, expected: Int64, found: Int64)
    /// A store file still has a write-ahead log next to it.
    case pendingLog(path: String)

    public var description: String {
        switch self {
        case .missing(let path): "no store at \(path)"
        case .notAStore(_, let reason): reason
        case .inUse(let path): "\(path) is in use (its write-ahead log could not be checkpointed); stop the projector first"
        case .changed(let path, let expected, let found):
            "\(path) changed while it was being rebuilt (journal ended at position \(expected), now \(found)); stop the projector and run again"
        case .pendingLog(let path): "\(path) still has a non-empty write-ahead log"
        }
    }
}

/// File-level operations on store files for `accord audit rebuild --swap`.
public enum StoreFileMaintenance {
    /// Moves everything in the write-ahead log of the store at `path` into the database file and
    /// truncates the log, then returns the journal's last position. Throws `StoreAuditError.inUse`
    /// when another connection prevents the checkpoint from completing.
    public static func checkpoint(path: String) throws -> Int64 {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreAuditError.missing(path: path) }
        var configuration = Configuration()
        configuration.label = "accord.audit.checkpoint"
        configuration.busyMode = .timeout(2)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let last: Int64 = try queue.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            let busy: Int = row?[0] ?? 0
            if busy != 0 { throw StoreAuditError.inUse(path: path) }
            return try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM journal") ?? 0
        }
        try queue.close()
        return last
    }
}
