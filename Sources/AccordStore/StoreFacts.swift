import AccordEvents
import AccordProjection
import Foundation
import GRDB

/// Subject kinds in `view_state.kind`.
enum StateKind: Int64 {
    case caseId = 0, contract = 1, area = 2, source = 3
}

/// The stored subject states, read through one database connection (inside the writer's
/// transaction, or a reader's snapshot): what the projection engine and folded views read.
public struct StoreFacts: ViewFactsReader {
    let db: Database

    /// Reads through `db`.
    public init(db: Database) { self.db = db }

    private func state(_ kind: StateKind, _ id: String) throws -> [UInt8]? {
        let statement = try db.cachedStatement(sql: "SELECT state FROM view_state WHERE kind = ? AND id = ?")
        return try Data.fetchOne(statement, arguments: [kind.rawValue, id]).map { [UInt8]($0) }
    }

    private func facts(_ kind: StateKind, _ id: String) throws -> FactList? {
        guard let bytes = try state(kind, id) else { return nil }
        do {
            return try SubjectStateCoding.decodeFacts(bytes, subject: id)
        } catch {
            throw StoreError("stored state of \(kind) \(id) is not readable: \(error); rebuild the view (accord audit rebuild --swap)")
        }
    }

    public func caseFacts(_ caseId: String) throws -> FactList? {
        let statement = try db.cachedStatement(sql: "SELECT fact FROM view_fact WHERE case_id = ? ORDER BY event_id")
        var facts: [Fact] = []
        for data in try Data.fetchAll(statement, arguments: [caseId]) {
            var r = BinaryReader([UInt8](data))
            do {
                facts.append(try FactCoding.read(&r, subject: caseId))
            } catch {
                throw StoreError("a stored fact of case \(caseId) is not readable: \(error); rebuild the view (accord audit rebuild --swap)")
            }
        }
        return facts.isEmpty ? nil : FactList(facts)
    }

    public func contractFacts(_ contractId: String) throws -> FactList? { try facts(.contract, contractId) }
    public func areaFacts(_ area: String) throws -> FactList? { try facts(.area, area) }

    public func sourceSequence(_ urn: String) throws -> SourceSequence? {
        guard let bytes = try state(.source, urn), let source = EventSource(urn: urn) else { return nil }
        do {
            return try SubjectStateCoding.decodeSequence(bytes, source: source)
        } catch {
            throw StoreError("stored sequence of \(urn) is not readable: \(error); rebuild the view")
        }
    }

    public func referralRows(contractId: String) throws -> [ReferralRow] {
        let statement = try db.cachedStatement(sql: "SELECT row FROM view_referral WHERE contract_id = ? ORDER BY case_id, referral_id")
        return try Data.fetchAll(statement, arguments: [contractId]).map { data in
            do {
                return try RecordCoding.decodeReferral([UInt8](data))
            } catch {
                throw StoreError("a stored referral row of contract \(contractId) is not readable: \(error)")
            }
        }
    }

    private func ids(_ kind: StateKind) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT id FROM view_state WHERE kind = ? ORDER BY id", arguments: [kind.rawValue])
    }

    public func allCaseIds() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT case_id FROM view_case ORDER BY case_id")
    }

    public func allContractIds() throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT id FROM view_state WHERE kind = 1 UNION SELECT DISTINCT contract_id FROM view_referral ORDER BY 1
            """)
    }

    public func allAreaIds() throws -> [String] { try ids(.area) }
    public func allSources() throws -> [String] { try ids(.source) }

    public func sourceEvents(_ urn: String, knownAt: Timestamp?) throws -> [SourceEvent] {
        guard let sourceId = try Int64.fetchOne(db, sql: "SELECT id FROM journal_sources WHERE urn = ?", arguments: [urn]) else {
            return []
        }
        // An event retracted by `knownAt` is not counted (one retracted later still was then).
        let limit = knownAt?.nanosecondsSinceEpoch ?? Int64.max
        return try Row.fetchAll(db, sql: """
            SELECT sequence, time_ns, event_id FROM journal WHERE source_id = ? AND recorded_ns <= ?
              AND NOT EXISTS (SELECT 1 FROM journal_retracted r WHERE r.position = journal.position AND r.retracted_ns <= ?)
            ORDER BY sequence
            """, arguments: [sourceId, limit, limit]).compactMap { row in
            let data: Data = row["event_id"]
            guard let id = uuid(fromStored: data), let time = Timestamp(nanosecondsSinceEpoch: row["time_ns"]) else { return nil }
            return SourceEvent(sequence: row["sequence"], time: time, eventId: id.lowercasedString)
        }
    }
}

/// The sources' sequence states as known at an instant.
public enum SourceEvents {
    /// Every source's sequence: the stored states (everything known) when `knownAt` is nil, else
    /// folded from the journal events recorded by `knownAt`.
    public static func sequences(_ db: Database, knownAt: Timestamp?) throws -> [SourceSequence] {
        let facts = StoreFacts(db: db)
        return try facts.allSources().compactMap { urn -> SourceSequence? in
            guard let knownAt else { return try facts.sourceSequence(urn) }
            guard let source = EventSource(urn: urn) else { return nil }
            var sequence = SourceSequence(source: source)
            for e in try facts.sourceEvents(urn, knownAt: knownAt) {
                sequence.insert(sequence: e.sequence, at: e.time, eventId: e.eventId)
            }
            return sequence
        }
    }
}
