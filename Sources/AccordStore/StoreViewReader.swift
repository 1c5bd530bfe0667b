import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// The accountability view's questions answered from a projector store, each in one consistent
/// read snapshot. Questions about the present (an instant at or after the latest event, with
/// everything known) are answered from the indexes: flags, counters and summaries are range
/// reads. Questions about the past fold only the subjects they need; "as shown" questions
/// (`knownAt`) fold the whole view as it was known then.
public struct StoreViewReader: ViewQuerying {
    /// The store read.
    public let store: ProjectorStore
    /// The rules of the view.
    public let rules: ProjectionRules

    /// A reader of `store`.
    public init(store: ProjectorStore, rules: ProjectionRules) {
        self.store = store
        self.rules = rules
    }

    private static func latest(_ db: Database) throws -> Timestamp? {
        try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'latest_event_ns'")
            .flatMap(Int64.init).flatMap(Timestamp.init(nanosecondsSinceEpoch:))
    }

    /// Whether the indexes answer questions about `instant`: everything known, and nothing in the
    /// view happened after it.
    private static func isPresent(_ instant: ViewInstant, _ db: Database) throws -> Bool {
        guard instant.knownAt == nil else { return false }
        guard let latest = try latest(db) else { return true }
        return instant.asOf >= latest
    }

    /// Events in the view: those journaled, less those retracted.
    public func totalEvents() async throws -> Int {
        try await store.asyncRead { db in
            try Int.fetchOne(db, sql: """
                SELECT coalesce((SELECT max(position) FROM journal), 0) - (SELECT count(*) FROM journal_retracted)
                """) ?? 0
        }
    }

    public func lastEventTime() async throws -> Timestamp? { try await store.asyncRead { db in try Self.latest(db) } }

    // MARK: cases

    /// The contracts a case's facts refer to, folded at `instant`.
    private static func contractLookup(_ facts: [Fact], _ source: StoreFacts,
                                       _ instant: ViewInstant) throws -> [String: ContractFold] {
        var out: [String: ContractFold] = [:]
        for fact in facts {
            guard case .probation(.interventionReferred(let d)) = fact.payload, out[d.contractId] == nil else { continue }
            let visible = (try source.contractFacts(d.contractId) ?? FactList()).visible(asOf: instant.asOf, knownAt: instant.knownAt)
            let fold = ContractFold(contractId: d.contractId, facts: visible)
            if !fold.versions.isEmpty { out[d.contractId] = fold }
        }
        return out
    }

    private func derivedCase(_ caseId: String, _ instant: ViewInstant, _ db: Database) throws -> (CaseDerived, [Fact])? {
        let source = StoreFacts(db: db)
        guard let all = try source.caseFacts(caseId) else { return nil }
        let facts = all.visible(asOf: instant.asOf, knownAt: instant.knownAt)
        guard !facts.isEmpty else { return nil }
        let contracts = try Self.contractLookup(facts, source, instant)
        let derived = deriveCase(caseId, facts: facts, contracts: contracts, rules: rules)
        return (derived, facts)
    }

    public func caseView(_ caseId: String, at instant: ViewInstant) async throws -> CaseView? {
        try await store.asyncRead { db in try derivedCase(caseId, instant, db)?.0.record.view(asOf: instant.asOf) }
    }

    public func timeline(_ caseId: String, at instant: ViewInstant) async throws -> [TimelineEntry]? {
        try await store.asyncRead { db in try derivedCase(caseId, instant, db).map { $0.1.map(TimelineEntry.init) } }
    }

    public func cases(at instant: ViewInstant, area: String?, page: PageSpec) async throws -> ListPage<CaseListItem> {
        try await store.asyncRead { db in
            guard try Self.isPresent(instant, db) else {
                let view = try FoldedView(reader: StoreFacts(db: db), asOf: instant.asOf, knownAt: instant.knownAt,
                                          rules: rules)
                let items = view.cases.keys.sorted().compactMap { id -> CaseListItem? in
                    guard let record = view.cases[id]?.record, area == nil || record.area == area else { return nil }
                    return CaseListItem(record.view(asOf: instant.asOf))
                }
                return try ListPage.cut(items, page)
            }
            let after = try KeyCursor.decode(page.cursor).first ?? ""
            var sql = "SELECT case_id, area, open, risk FROM view_case WHERE case_id > ?"
            var arguments: StatementArguments = [after]
            if let area {
                sql += " AND area = ?"
                _ = arguments.append(contentsOf: [area])
            }
            sql += " ORDER BY case_id LIMIT ?"
            _ = arguments.append(contentsOf: [page.limit + 1])
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            let countOpen = try db.cachedStatement(sql: """
                SELECT count(*) FROM view_flag WHERE subject = ? AND resolved_ns IS NULL AND opens_ns <= ?
                """)
            let t = instant.asOf.nanosecondsSinceEpoch
            var items: [CaseListItem] = []
            for row in rows.prefix(page.limit) {
                let id: String = row["case_id"]
                let open: Int64 = row["open"]
                let risk: String? = row["risk"]
                items.append(CaseListItem(caseId: id, area: row["area"], status: open == 1 ? .open : .closed,
                                          riskLevel: risk.flatMap(RiskLevel.init(rawValue:)),
                                          openFlags: try Int.fetchOne(countOpen, arguments: [id, t]) ?? 0))
            }
            let total: Int
            if let area {
                total = try Int.fetchOne(db, sql: """
                    SELECT coalesce(sum(n), 0) FROM view_area_count WHERE area = ? AND metric IN ('open', 'closed') AND key = ''
                    """, arguments: [area]) ?? 0
            } else {
                total = (try Int.fetchOne(db, sql: """
                    SELECT coalesce(sum(n), 0) FROM view_area_count WHERE metric IN ('open', 'closed') AND key = ''
                    """) ?? 0) + (try Int.fetchOne(db, sql: "SELECT count(*) FROM view_case WHERE area IS NULL") ?? 0)
            }
            let next = rows.count > page.limit ? items.last.map { KeyCursor.encode([$0.caseId]) } : nil
            return ListPage(items: items, total: total, nextCursor: next)
        }
    }

    // MARK: flags

    public func flags(at instant: ViewInstant, filter: FlagFilter, page: PageSpec) async throws -> ListPage<Flag> {
        try await store.asyncRead { db in
            if instant.knownAt != nil {
                let view = try FoldedView(reader: StoreFacts(db: db), asOf: instant.asOf, knownAt: instant.knownAt,
                                          rules: rules)
                return try ListPage.cut(view.flags(filter), page)
            }
            if try Self.isPresent(instant, db) { return try presentFlags(instant.asOf, filter, page, db) }
            return try ListPage.cut(try pastFlags(instant.asOf, filter, db), page)
        }
    }

    private static func decode(_ data: Data) throws -> FlagRecord {
        do {
            return try RecordCoding.decodeFlag([UInt8](data))
        } catch {
            throw StoreError("a stored flag is not readable: \(error); rebuild the view")
        }
    }

    /// Flags at an instant at or after every event: the current accountability period of each
    /// flag is the one in force, so the filters are index range reads. Open flags are the
    /// unresolved ones whose deadline has passed, plus those resolved only later (a contract's
    /// period ending after `t`).
    private func presentFlags(_ t: Timestamp, _ filter: FlagFilter, _ page: PageSpec, _ db: Database) throws -> ListPage<Flag> {
        let tn = t.nanosecondsSinceEpoch
        var filters: [String] = []
        var filterArguments: StatementArguments = []
        func add(_ column: String, _ value: String?) {
            guard let value else { return }
            filters.append("\(column) = ?")
            _ = filterArguments.append(contentsOf: [value])
        }
        add("area", filter.area)
        add("accountable", filter.accountable)
        add("kind", filter.accountableKind?.rawValue)
        add("rule", filter.rule?.rawValue)
        var subjectFilter: [String] = []
        var subjectArguments: StatementArguments = []
        if let subject = filter.subject {
            subjectFilter.append("subject = ?")
            _ = subjectArguments.append(contentsOf: [subject])
        }
        let keyset = try KeyCursor.decode(page.cursor)
        var keysetFilter: [String] = []
        var keysetArguments: StatementArguments = []
        if keyset.count == 4, let since = Int64(keyset[0]) {
            keysetFilter.append("(since_ns, subject, rule, id) > (?, ?, ?, ?)")
            _ = keysetArguments.append(contentsOf: [since, keyset[1], keyset[2], keyset[3]])
        }
        func fetch(_ state: String, _ stateArguments: StatementArguments,
                   index: String = "") throws -> [(sort: (Int64, String, String, String), record: Data)] {
            let conditions = ["opens_ns <= ?"] + (state.isEmpty ? [] : [state]) + filters + subjectFilter + keysetFilter
            return try Row.fetchAll(db, sql: """
                SELECT since_ns, subject, rule, id, record FROM view_flag \(index) WHERE \(conditions.joined(separator: " AND "))
                ORDER BY since_ns, subject, rule, id LIMIT ?
                """, arguments: [tn] + stateArguments + filterArguments + subjectArguments + keysetArguments + [page.limit + 1])
                .map { (($0["since_ns"], $0["subject"], $0["rule"], $0["id"]), $0["record"]) }
        }
        var rows: [(sort: (Int64, String, String, String), record: StoredOrDerived)]
        if filter.openOnly {
            // Flags resolved only after `t` are few at the present; without the hint SQLite walks
            // the whole flag order index for them (a bound LIMIT hides how few rows are wanted).
            rows = try (fetch("resolved_ns IS NULL", [])
                + fetch("resolved_ns > ?", [tn], index: "INDEXED BY view_flag_resolved")).map { ($0.sort, .stored($0.record)) }
        } else {
            rows = try fetch("", []).map { ($0.sort, .stored($0.record)) }
        }
        let gaps = try Self.gapFlags(at: t, filter, db)
        let cursor = keyset.count == 4 ? Int64(keyset[0]).map { ($0, keyset[1], keyset[2], keyset[3]) } : nil
        rows += gaps.compactMap { flag in
            let sort = (flag.since.nanosecondsSinceEpoch, flag.subject, flag.rule.rawValue, flag.id)
            return cursor.map { sort > $0 } ?? true ? (sort, .derived(flag)) : nil
        }
        rows.sort { $0.sort < $1.sort }
        var items: [Flag] = []
        for row in rows.prefix(page.limit) {
            switch row.record {
            case .stored(let data): if let flag = try Self.decode(data).flag(asOf: t) { items.append(flag) }
            case .derived(let flag): items.append(flag)
            }
        }
        var total: Int
        if filter.subject != nil {
            let state = filter.openOnly ? " AND (resolved_ns IS NULL OR resolved_ns > ?)" : ""
            let stateArguments: StatementArguments = filter.openOnly ? [tn] : []
            let conditions = (["opens_ns <= ?"] + filters + subjectFilter).joined(separator: " AND ")
            total = try Int.fetchOne(db, sql: "SELECT count(*) FROM view_flag WHERE \(conditions)\(state)",
                                     arguments: [tn] + filterArguments + subjectArguments + stateArguments) ?? 0
        } else {
            total = try Self.countFlags(filter.openOnly, t, filters, filterArguments, db)
        }
        total += gaps.count
        let next = rows.count > page.limit ? items.last.map {
            KeyCursor.encode([String($0.since.nanosecondsSinceEpoch), $0.subject, $0.rule.rawValue, $0.id])
        } : nil
        return ListPage(items: items, total: total, nextCursor: next)
    }

    /// Flags at `t` (at or after every event) passing column filters, from the counters: every
    /// flag (or every unresolved one), less those whose deadline has not passed at `t`, plus (for
    /// open flags) those resolved only after `t`.
    static func countFlags(_ openOnly: Bool, _ t: Timestamp, _ filters: [String], _ arguments: StatementArguments,
                           _ db: Database) throws -> Int {
        let tn = t.nanosecondsSinceEpoch
        let where_ = filters.isEmpty ? "" : "WHERE " + filters.joined(separator: " AND ")
        let counted = try Int.fetchOne(db, sql: "SELECT coalesce(sum(\(openOnly ? "n_open" : "n_all")), 0) FROM view_flag_count \(where_)",
                                       arguments: arguments) ?? 0
        let pendingWhere = (["resolved_ns IS NULL", "opens_ns > ?"] + filters).joined(separator: " AND ")
        // The partial indexes keyed by time first: only flags whose deadline is still ahead of `t`
        // (or resolved after it) are visited, never every open flag of an area or agency.
        let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM view_flag INDEXED BY view_flag_pending WHERE \(pendingWhere)",
                                       arguments: [tn] + arguments) ?? 0
        guard openOnly else { return counted - pending }
        let laterWhere = (["resolved_ns > ?", "opens_ns <= ?"] + filters).joined(separator: " AND ")
        let later = try Int.fetchOne(db, sql: "SELECT count(*) FROM view_flag INDEXED BY view_flag_resolved WHERE \(laterWhere)",
                                     arguments: [tn, tn] + arguments) ?? 0
        return counted - pending + later
    }

    /// Flags at an instant before the latest event: every flag that existed then, shown with the
    /// accountability in force then (costs in proportion to the flags before `t`).
    private func pastFlags(_ t: Timestamp, _ filter: FlagFilter, _ db: Database) throws -> [Flag] {
        var sql = "SELECT record FROM view_flag WHERE opens_ns <= ?"
        var arguments: StatementArguments = [t.nanosecondsSinceEpoch]
        if let subject = filter.subject {
            sql += " AND subject = ?"
            _ = arguments.append(contentsOf: [subject])
        }
        sql += " ORDER BY since_ns, subject, rule, id"
        var out: [Flag] = []
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            if let flag = try Self.decode(row["record"]).flag(asOf: t), filter.matches(flag) { out.append(flag) }
        }
        let gaps = try Self.gapFlags(at: t, filter, db)
        return gaps.isEmpty ? out : (out + gaps).sorted(by: Flag.precedes)
    }

    /// A flag row read from `view_flag`, or a flag derived at read time.
    private enum StoredOrDerived {
        case stored(Data)
        case derived(Flag)
    }

    /// The sequence-gap flags at `t` passing `filter`, derived from the sources' stored sequences
    /// (the store keeps no rows for them: a source's gaps are a function of its runs, and during
    /// a catch-up thousands open and close). Costs in proportion to the sources and their gaps.
    static func gapFlags(at t: Timestamp, _ filter: FlagFilter, _ db: Database) throws -> [Flag] {
        if let rule = filter.rule, rule != .sequenceGap { return [] }
        if filter.area != nil { return [] }
        let facts = StoreFacts(db: db)
        var out: [Flag] = []
        for urn in try facts.allSources() {
            if let subject = filter.subject, subject != urn { continue }
            if let accountable = filter.accountable, accountable != urn { continue }
            guard let sequence = try facts.sourceSequence(urn) else { continue }
            for record in sequence.flagRecords() {
                if let flag = record.flag(asOf: t), filter.matches(flag) { out.append(flag) }
            }
        }
        return out
    }

    // MARK: contracts and areas

    public func contractPerformance(_ contractId: String, at instant: ViewInstant) async throws -> ContractPerformance? {
        try await store.asyncRead { db in
            let source = StoreFacts(db: db)
            if instant.knownAt != nil {
                let view = try FoldedView(reader: source, asOf: instant.asOf, knownAt: instant.knownAt, rules: rules)
                return view.contractPerformance(contractId)
            }
            let facts = try source.contractFacts(contractId) ?? FactList()
            let fold = ContractFold(contractId: contractId, facts: facts.facts)
            let rows = try source.referralRows(contractId: contractId)
            let flags = try Row.fetchAll(db, sql: "SELECT record FROM view_flag WHERE subject = ?", arguments: [contractId])
                .map { try Self.decode($0["record"]) }
                .filter { $0.rule == .contractBelowServiceLevel }
            return ContractPerformance.compute(contractId: contractId, contract: fold.versions.isEmpty ? nil : fold, rows: rows,
                                               flags: flags, asOf: instant.asOf, rules: rules)
        }
    }

    public func areaSummary(_ area: String, at instant: ViewInstant) async throws -> AreaSummary? {
        try await store.asyncRead { db in
            guard try Self.isPresent(instant, db) else {
                let view = try FoldedView(reader: StoreFacts(db: db), asOf: instant.asOf, knownAt: instant.knownAt,
                                          rules: rules)
                return view.areaCodes.contains(area) ? view.areaSummary(area) : nil
            }
            return try presentAreaSummary(area, instant.asOf, db)
        }
    }

    private func presentAreaSummary(_ area: String, _ t: Timestamp, _ db: Database) throws -> AreaSummary? {
        var tally = AreaTally()
        var known = false
        for row in try Row.fetchAll(db, sql: "SELECT metric, key, n FROM view_area_count WHERE area = ?", arguments: [area]) {
            known = true
            let metric: String = row["metric"]
            let key: String = row["key"]
            let n: Int = row["n"]
            switch metric {
            case "open": tally.open = n
            case "closed": tally.closed = n
            case "reoffences": tally.reoffences = n
            case "risk": tally.byRisk[key] = n
            case "order": tally.byOrder[key] = n
            default: break
            }
        }
        tally.unallocated = try String.fetchAll(db, sql: """
            SELECT case_id FROM view_case WHERE area = ? AND open = 1 AND allocated = 0 ORDER BY case_id
            """, arguments: [area])
        var contracts: [AreaContract] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT contract_id, provider_id, intervention_type, ended_ns FROM view_contract WHERE area = ? ORDER BY contract_id
            """, arguments: [area]) {
            known = true
            let type: String? = row["intervention_type"]
            guard let provider: String = row["provider_id"], let kind = type.flatMap(InterventionType.init(rawValue:)) else { continue }
            let ended: Int64? = row["ended_ns"]
            contracts.append(AreaContract(contractId: row["contract_id"], providerId: provider, interventionType: kind,
                                          status: ended.map { $0 <= t.nanosecondsSinceEpoch } ?? false ? .ended : .active))
        }
        let source = StoreFacts(db: db)
        let priorities = try source.areaFacts(area).map { facts in
            AccordProjection.areaRecordPriorities(area, facts: facts.facts)
        } ?? []
        if !priorities.isEmpty { known = true }
        guard known else { return nil }
        // Open flags in the area now: unresolved ones whose deadline has passed.
        var byRule: [String: Int] = [:]
        var byAgency: [String: (AgencyKind, Int)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT rule, accountable, kind, n_open FROM view_flag_count WHERE area = ?",
                                    arguments: [area]) {
            let n: Int = row["n_open"]
            guard n != 0, let kind = AgencyKind(rawValue: row["kind"]) else { continue }
            byRule[row["rule"], default: 0] += n
            byAgency[row["accountable"], default: (kind, 0)].1 += n
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT rule, accountable, count(*) AS n FROM view_flag INDEXED BY view_flag_pending
            WHERE resolved_ns IS NULL AND opens_ns > ? AND area = ?
            GROUP BY rule, accountable
            """, arguments: [t.nanosecondsSinceEpoch, area]) {
            let n: Int = row["n"]
            byRule[row["rule"], default: 0] -= n
            if let entry = byAgency[row["accountable"]] { byAgency[row["accountable"]] = (entry.0, entry.1 - n) }
        }
        // Resolved only after t (a contract's period ending later): still open at t.
        for row in try Row.fetchAll(db, sql: """
            SELECT rule, accountable, kind, count(*) AS n FROM view_flag INDEXED BY view_flag_resolved
            WHERE resolved_ns > ? AND opens_ns <= ? AND area = ?
            GROUP BY rule, accountable, kind
            """, arguments: [t.nanosecondsSinceEpoch, t.nanosecondsSinceEpoch, area]) {
            let n: Int = row["n"]
            guard let kind = AgencyKind(rawValue: row["kind"]) else { continue }
            byRule[row["rule"], default: 0] += n
            byAgency[row["accountable"], default: (kind, 0)].1 += n
        }
        return tally.summary(area: area, asOf: t, ruleCounts: byRule, agencyCounts: byAgency, contracts: contracts,
                             priorities: priorities)
    }

    // MARK: digest

    public func digest(at instant: ViewInstant) async throws -> ViewDigestInfo {
        try await store.asyncRead { db in
            let events = try Int.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM journal") ?? 0
            if try Self.isPresent(instant, db) {
                return ViewDigestInfo(digest: try ViewTables.currentRoot(db, rules: rules).hex, events: events)
            }
            let view = try FoldedView(reader: StoreFacts(db: db), asOf: instant.asOf, knownAt: instant.knownAt,
                                      rules: rules)
            return ViewDigestInfo(digest: view.digest.hex, events: events)
        }
    }
}

/// Keyset cursors: the sort key of the last item of a page, as `k:` and tab-separated fields.
enum KeyCursor {
    static func encode(_ fields: [String]) -> String { base64("k:" + fields.joined(separator: "\t")) }

    static func decode(_ cursor: String?) throws(InvalidCursor) -> [String] {
        guard let cursor, !cursor.isEmpty else { return [] }
        guard let text = unbase64(cursor), text.hasPrefix("k:") else { throw InvalidCursor() }
        return text.dropFirst(2).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}
