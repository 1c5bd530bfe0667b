import AccordEvents
import AccordIntegrity
import AccordProjection
import Foundation
import GRDB

/// Writes a batch's `ViewChanges` into the view tables and keeps the digest tree in step.
enum ViewTables {
    static func write(_ changes: ViewChanges, _ db: Database, tree: inout ViewTree) throws {
        let putFact = try db.cachedStatement(sql: "INSERT OR REPLACE INTO view_fact (case_id, event_id, fact) VALUES (?, ?, ?)")
        for fact in changes.caseFacts {
            let subject = fact.payload.subjectId
            try putFact.execute(arguments: [subject, Data(uuidBytes(fact.key.id)), Data(FactCoding.bytes(fact, subject: subject))])
        }
        if !changes.removedCaseFacts.isEmpty {
            let deleteFact = try db.cachedStatement(sql: "DELETE FROM view_fact WHERE case_id = ? AND event_id = ?")
            for removed in changes.removedCaseFacts {
                try deleteFact.execute(arguments: [removed.caseId, Data(uuidBytes(removed.eventId))])
            }
        }
        if !changes.removedStates.isEmpty {
            let deleteState = try db.cachedStatement(sql: "DELETE FROM view_state WHERE kind = ? AND id = ?")
            for subject in changes.removedStates {
                switch subject {
                case .caseId: continue
                case .contract(let id): try deleteState.execute(arguments: [StateKind.contract.rawValue, id])
                case .area(let id): try deleteState.execute(arguments: [StateKind.area.rawValue, id])
                case .source(let urn): try deleteState.execute(arguments: [StateKind.source.rawValue, urn])
                }
            }
        }
        let putState = try db.cachedStatement(sql: "INSERT OR REPLACE INTO view_state (kind, id, state) VALUES (?, ?, ?)")
        for (id, bytes) in changes.contractStates { try putState.execute(arguments: [StateKind.contract.rawValue, id, Data(bytes)]) }
        for (id, bytes) in changes.areaStates { try putState.execute(arguments: [StateKind.area.rawValue, id, Data(bytes)]) }
        for (urn, bytes) in changes.sourceStates { try putState.execute(arguments: [StateKind.source.rawValue, urn, Data(bytes)]) }
        try writeFlags(changes.flags, db)
        try writeReferrals(changes.referrals, db)
        try writeSummaries(changes.summaries, db)
        try writeContracts(changes.contracts, db)
        let dirty = try db.cachedStatement(sql: "INSERT OR IGNORE INTO view_dirty (key) VALUES (?)")
        for subject in changes.dirty { try dirty.execute(arguments: [subject.description]) }
    }

    /// The subjects whose digest leaves are stale.
    static func dirtySubjects(_ db: Database) throws -> [SubjectKey] {
        try String.fetchAll(db, sql: "SELECT key FROM view_dirty").compactMap(SubjectKey.init)
    }

    // MARK: flags

    private static func writeFlags(_ flags: [String: Change<FlagRecord>], _ db: Database) throws {
        guard !flags.isEmpty else { return }
        let delete = try db.cachedStatement(sql: "DELETE FROM view_flag WHERE id = ?")
        let put = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO view_flag (id, rule, subject, since_ns, opens_ns, resolved_ns, accountable, kind, area, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var counts: [FlagCountKey: (open: Int, all: Int)] = [:]
        for (id, change) in flags {
            if let old = change.old {
                counts[FlagCountKey(old), default: (0, 0)].all -= 1
                if old.resolvedAt == nil { counts[FlagCountKey(old), default: (0, 0)].open -= 1 }
            }
            guard let new = change.new else {
                try delete.execute(arguments: [id])
                continue
            }
            counts[FlagCountKey(new), default: (0, 0)].all += 1
            if new.resolvedAt == nil { counts[FlagCountKey(new), default: (0, 0)].open += 1 }
            let period = new.currentPeriod
            try put.execute(arguments: [
                id, new.rule.rawValue, new.subject, new.since.nanosecondsSinceEpoch, new.opensNanoseconds,
                new.resolvedAt?.nanosecondsSinceEpoch, period.accountable, period.accountableKind.rawValue, period.area ?? "",
                Data(RecordCoding.encode(new)),
            ])
        }
        let bump = try db.cachedStatement(sql: """
            INSERT INTO view_flag_count (area, rule, accountable, kind, n_open, n_all) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(area, rule, accountable) DO UPDATE SET n_open = n_open + excluded.n_open, n_all = n_all + excluded.n_all
            """)
        for (key, delta) in counts where delta.open != 0 || delta.all != 0 {
            try bump.execute(arguments: [key.area, key.rule, key.accountable, key.kind, delta.open, delta.all])
        }
        try db.execute(sql: "DELETE FROM view_flag_count WHERE n_all = 0")
    }

    struct FlagCountKey: Hashable {
        let area: String
        let rule: String
        let accountable: String
        let kind: String

        init(_ f: FlagRecord) {
            let p = f.currentPeriod
            area = p.area ?? ""
            rule = f.rule.rawValue
            accountable = p.accountable
            kind = p.accountableKind.rawValue
        }
    }

    // MARK: referral rows, summaries, contracts

    private static func writeReferrals(_ referrals: [ReferralKey: Change<ReferralRow>], _ db: Database) throws {
        guard !referrals.isEmpty else { return }
        let delete = try db.cachedStatement(sql: "DELETE FROM view_referral WHERE contract_id = ? AND case_id = ? AND referral_id = ?")
        let put = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO view_referral (contract_id, case_id, referral_id, row) VALUES (?, ?, ?, ?)
            """)
        for (key, change) in referrals {
            if let old = change.old, old.contractId != change.new?.contractId {
                try delete.execute(arguments: [old.contractId, key.caseId, key.referralId])
            }
            if let new = change.new {
                try put.execute(arguments: [new.contractId, key.caseId, key.referralId, Data(RecordCoding.encode(new))])
            }
        }
    }

    /// Area counter metrics a case summary contributes to.
    static func contributions(_ s: CaseSummary) -> [(metric: String, key: String, n: Int)] {
        guard s.area != nil else { return [] }
        var out: [(String, String, Int)] = [(s.open ? "open" : "closed", "", 1)]
        if s.reoffences > 0 { out.append(("reoffences", "", s.reoffences)) }
        if s.open {
            if let risk = s.riskLevel { out.append(("risk", risk.rawValue, 1)) }
            if let order = s.orderType { out.append(("order", order.rawValue, 1)) }
            if !s.allocated { out.append(("unallocated", "", 1)) }
        }
        return out
    }

    private static func writeSummaries(_ summaries: [String: Change<CaseSummary>], _ db: Database) throws {
        guard !summaries.isEmpty else { return }
        let put = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO view_case (case_id, area, open, risk, order_type, allocated, reoffences, office)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let delete = try db.cachedStatement(sql: "DELETE FROM view_case WHERE case_id = ?")
        var deltas: [String: [String: [String: Int]]] = [:]  // area → metric → key → delta
        for (caseId, change) in summaries {
            if let old = change.old, let area = old.area {
                for c in contributions(old) { deltas[area, default: [:]][c.metric, default: [:]][c.key, default: 0] -= c.n }
            }
            if let new = change.new {
                if let area = new.area {
                    for c in contributions(new) { deltas[area, default: [:]][c.metric, default: [:]][c.key, default: 0] += c.n }
                }
                try put.execute(arguments: [caseId, new.area, new.open ? 1 : 0, new.riskLevel?.rawValue, new.orderType?.rawValue,
                                            new.allocated ? 1 : 0, new.reoffences, new.probationSource])
            } else {
                try delete.execute(arguments: [caseId])
            }
        }
        let bump = try db.cachedStatement(sql: """
            INSERT INTO view_area_count (area, metric, key, n) VALUES (?, ?, ?, ?)
            ON CONFLICT(area, metric, key) DO UPDATE SET n = n + excluded.n
            """)
        for (area, metrics) in deltas {
            for (metric, keys) in metrics {
                for (key, delta) in keys where delta != 0 { try bump.execute(arguments: [area, metric, key, delta]) }
            }
        }
        try db.execute(sql: "DELETE FROM view_area_count WHERE n = 0")
    }

    private static func writeContracts(_ contracts: [String: ContractSummary?], _ db: Database) throws {
        guard !contracts.isEmpty else { return }
        let put = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO view_contract (contract_id, area, provider_id, intervention_type, ended_ns) VALUES (?, ?, ?, ?, ?)
            """)
        let delete = try db.cachedStatement(sql: "DELETE FROM view_contract WHERE contract_id = ?")
        for (id, summary) in contracts {
            if let summary {
                try put.execute(arguments: [id, summary.area, summary.providerId, summary.interventionType?.rawValue,
                                            summary.endedAt?.nanosecondsSinceEpoch])
            } else {
                try delete.execute(arguments: [id])
            }
        }
    }

    // MARK: digest

    /// Writes computed leaves (nil: subject gone), forgets the stale marks, updates buckets and tree.
    static func writeLeaves(_ leaves: [SubjectKey: Hash256?], _ db: Database, tree: inout ViewTree) throws {
        guard !leaves.isEmpty else { return }
        let put = try db.cachedStatement(sql: "INSERT OR REPLACE INTO view_leaf (key, bucket, leaf) VALUES (?, ?, ?)")
        let delete = try db.cachedStatement(sql: "DELETE FROM view_leaf WHERE key = ?")
        let clean = try db.cachedStatement(sql: "DELETE FROM view_dirty WHERE key = ?")
        var buckets: Set<Int> = []
        for (subject, leaf) in leaves {
            let key = subject.description
            buckets.insert(ViewTree.bucket(of: key))
            if let leaf {
                try put.execute(arguments: [key, ViewTree.bucket(of: key), Data(leaf.bytes)])
            } else {
                try delete.execute(arguments: [key])
            }
            try clean.execute(arguments: [key])
        }
        let read = try db.cachedStatement(sql: "SELECT key, leaf FROM view_leaf WHERE bucket = ?")
        let putBucket = try db.cachedStatement(sql: "INSERT OR REPLACE INTO view_bucket (bucket, hash) VALUES (?, ?)")
        for bucket in buckets {
            var entries: [(key: String, leaf: Hash256)] = []
            for row in try Row.fetchAll(read, arguments: [bucket]) {
                let data: Data = row["leaf"]
                guard let leaf = Hash256(bytes: data) else { throw StoreError("view leaf \(row["key"] as String) is not 32 bytes") }
                entries.append((row["key"], leaf))
            }
            let hash = tree.setBucket(bucket, leaves: entries)
            try putBucket.execute(arguments: [bucket, Data(hash.bytes)])
        }
    }

    /// Every subject's leaf as the view is now, without writing: the stored leaves, with those of
    /// the subjects changed since the last digest refresh computed from their records in `db`.
    static func currentLeaves(_ db: Database, rules: ProjectionRules) throws -> [String: Hash256] {
        var out: [String: Hash256] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, leaf FROM view_leaf") {
            let data: Data = row["leaf"]
            guard let leaf = Hash256(bytes: data) else { throw StoreError("view leaf \(row["key"] as String) is not 32 bytes") }
            out[row["key"]] = leaf
        }
        let dirty = try dirtySubjects(db)
        guard !dirty.isEmpty else { return out }
        var engine = ProjectionEngine(rules: rules, caseCapacity: 64)
        for (subject, leaf) in try engine.leaves(for: dirty, from: StoreFacts(db: db)) {
            out[subject.description] = leaf
        }
        return out
    }

    /// The root of the view as it is now, without writing: the stored tree with the leaves of the
    /// subjects changed since the last digest refresh computed from their records in `db`.
    static func currentRoot(_ db: Database, rules: ProjectionRules) throws -> Hash256 {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM view_meta WHERE key = 'view_digest'").flatMap(Hash256.init(hex:))
        let dirty = try dirtySubjects(db)
        if dirty.isEmpty { return stored ?? ViewTree.emptyRoot }
        var engine = ProjectionEngine(rules: rules, caseCapacity: 64)
        let leaves = try engine.leaves(for: dirty, from: StoreFacts(db: db))
        var changed: [Int: [String: Hash256?]] = [:]
        for (subject, leaf) in leaves {
            let key = subject.description
            changed[ViewTree.bucket(of: key), default: [:]][key] = .some(leaf)
        }
        var hashes: [Int: Hash256] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT bucket, hash FROM view_bucket") {
            let data: Data = row["hash"]
            if let hash = Hash256(bytes: data) { hashes[row["bucket"]] = hash }
        }
        var tree = ViewTree(bucketHashes: hashes)
        let read = try db.cachedStatement(sql: "SELECT key, leaf FROM view_leaf WHERE bucket = ?")
        for (bucket, replaced) in changed {
            var entries: [String: Hash256] = [:]
            for row in try Row.fetchAll(read, arguments: [bucket]) {
                let data: Data = row["leaf"]
                guard let leaf = Hash256(bytes: data) else { throw StoreError("view leaf \(row["key"] as String) is not 32 bytes") }
                entries[row["key"]] = leaf
            }
            for (key, leaf) in replaced { entries[key] = leaf }
            tree.setBucket(bucket, leaves: entries.map { ($0.key, $0.value) })
        }
        return tree.root()
    }
}
