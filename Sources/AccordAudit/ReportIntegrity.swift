import AccordStore
import Foundation

/// Runs a journal verification for a report: given the store path, says whether the journal
/// is intact. Plugged in by whoever has a verifier (see `ReportIntegrity.defaultVerifier`).
public typealias JournalVerifier = @Sendable (_ storePath: String) throws -> VerificationOutcome

/// Builds the integrity section of reports from what the store holds, read defensively: the
/// journal's size, verification-related journal columns and integrity tables when the store
/// has them, and a verifier's result when one is available.
public enum ReportIntegrity {
    /// The verifier reports use when none is given: the hook for `accord audit verify`'s library.
    /// Nil when no verifier is linked in; reports then say that verification was not run.
    public static let defaultVerifier: JournalVerifier? = nil

    /// Words that mark a journal column as verification-related.
    static let columnMarkers = ["verif", "provisional", "status", "trust", "checked"]
    /// Words that mark a table as integrity-related.
    static let tableMarkers = ["checkpoint", "chain", "verif", "integrity"]

    /// The integrity summary of the store `reader` reads.
    static func summary(reader: StoreAuditReader, journal: (count: Int, lastPosition: Int64),
                        undecodable: [UndecodableEntry], verifier: JournalVerifier?) -> IntegritySummary {
        var notes: [String] = []
        var columns: [ColumnValueCount] = []
        var tables: [TableCount] = []
        var deadLetters: Int?
        do {
            for column in try reader.columnNames(of: "journal")
            where columnMarkers.contains(where: { column.lowercased().contains($0) }) {
                for (value, count) in try reader.valueCounts(table: "journal", column: column) {
                    columns.append(ColumnValueCount(column: column, value: value, count: count))
                }
            }
            for table in try reader.tableNames() where tableMarkers.contains(where: { table.lowercased().contains($0) }) {
                if let rows = try reader.rowCount(of: table) { tables.append(TableCount(table: table, rows: rows)) }
            }
            deadLetters = try reader.rowCount(of: "dead_letters")
        } catch {
            notes.append("could not read integrity details: \(error)")
        }
        if columns.isEmpty { notes.append("the journal has no verification columns (verified/provisional counts unavailable)") }
        var verification: VerificationOutcome?
        if let verifier {
            do {
                verification = try verifier(reader.path)
            } catch {
                verification = VerificationOutcome(passed: false, summary: "verification could not run: \(error)", problems: ["\(error)"])
            }
        } else {
            notes.append("journal verification was not run (run `accord audit verify` for the hash-chain and signature check)")
        }
        if !undecodable.isEmpty {
            notes.append("\(undecodable.count) journal entries did not decode and are not part of the view")
        }
        return IntegritySummary(journalEntries: journal.count, lastPosition: journal.lastPosition, undecodable: undecodable,
                                deadLetters: deadLetters, verificationColumns: columns, integrityTables: tables,
                                verification: verification, notes: notes)
    }
}
