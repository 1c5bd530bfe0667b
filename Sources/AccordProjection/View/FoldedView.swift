import AccordEvents
import AccordIntegrity

/// The whole view at (`asOf`, `knownAt`), folded from every subject's facts visible then: the
/// reference meaning of every query. The live store answers the common questions from its indexes
/// instead; tests check both agree. Costs in proportion to the history before `asOf`.
public struct FoldedView: Sendable {
    /// The instant described.
    public let asOf: Timestamp
    /// Only events recorded by then, if set.
    public let knownAt: Timestamp?
    /// The rules.
    public let rules: ProjectionRules
    /// Each case's derivation from its visible facts.
    public private(set) var cases: [String: CaseDerived] = [:]
    /// Each case's visible facts.
    public private(set) var caseFacts: [String: [Fact]] = [:]
    /// Each contract in the view.
    public private(set) var contracts: [String: FoldedContract] = [:]
    /// Each source's sequence record.
    public private(set) var sources: [String: SourceRecord] = [:]
    /// Each area's record.
    public private(set) var areas: [String: AreaRecord] = [:]

    /// A contract of a folded view.
    public struct FoldedContract: Sendable {
        /// The fold (nil when not awarded in the view).
        public var fold: ContractFold?
        /// Referral rows under it.
        public var rows: [ReferralRow]
        /// Its record.
        public var record: ContractRecord
    }

    /// Folds the view from `reader`.
    public init(reader: some ViewFactsReader, asOf: Timestamp, knownAt: Timestamp?, rules: ProjectionRules) throws {
        self.asOf = asOf
        self.knownAt = knownAt
        self.rules = rules
        var contractFolds: [String: ContractFold] = [:]
        var contractIds = Set(try reader.allContractIds())
        for id in contractIds {
            let facts = (try reader.contractFacts(id) ?? FactList()).visible(asOf: asOf, knownAt: knownAt)
            if !facts.isEmpty { contractFolds[id] = ContractFold(contractId: id, facts: facts) }
        }
        var rowsByContract: [String: [ReferralRow]] = [:]
        for caseId in try reader.allCaseIds() {
            let facts = (try reader.caseFacts(caseId) ?? FactList()).visible(asOf: asOf, knownAt: knownAt)
            guard !facts.isEmpty else { continue }
            let derived = CaseFold(caseId: caseId, facts: facts).derive(rules: rules) { id in
                contractFolds[id].flatMap { $0.versions.isEmpty ? nil : $0 }
            }
            cases[caseId] = derived
            caseFacts[caseId] = facts
            for row in derived.referrals {
                rowsByContract[row.contractId, default: []].append(row)
                contractIds.insert(row.contractId)
            }
        }
        for id in contractIds {
            let rows = rowsByContract[id] ?? []
            let fold = contractFolds[id]
            guard fold != nil || !rows.isEmpty else { continue }
            var series = ContractSeries()
            for row in rows { series.update(from: nil, to: row) }
            let base = fold ?? ContractFold(contractId: id, facts: [])
            let record = base.record(series: series, fallbackProvider: rows.map(\.providerId).min(),
                                     referenced: !rows.isEmpty, rules: rules)
            contracts[id] = FoldedContract(fold: fold.flatMap { $0.versions.isEmpty ? nil : $0 }, rows: rows, record: record)
        }
        for urn in try reader.allSources() {
            guard let source = EventSource(urn: urn) else { continue }
            var sequence = SourceSequence(source: source)
            for e in try reader.sourceEvents(urn, knownAt: knownAt) {
                sequence.insert(sequence: e.sequence, at: e.time, eventId: e.eventId)
            }
            if !sequence.ranges.isEmpty { sources[urn] = sequence.record }
        }
        for area in try reader.allAreaIds() {
            let facts = (try reader.areaFacts(area) ?? FactList()).visible(asOf: asOf, knownAt: knownAt)
            if !facts.isEmpty { areas[area] = areaRecord(area, facts: facts) }
        }
    }

    /// Every flag record of the view.
    public var flagRecords: [FlagRecord] {
        var out: [FlagRecord] = []
        for d in cases.values { out += d.record.flags }
        for c in contracts.values { out += c.record.flags }
        for s in sources.values { out += s.flags }
        return out
    }

    /// Flags at `asOf` passing `filter`, sorted by (since, subject, rule, id).
    public func flags(_ filter: FlagFilter = .all) -> [Flag] {
        flagRecords.compactMap { $0.flag(asOf: asOf) }.filter(filter.matches).sorted(by: Flag.precedes)
    }

    /// One case at `asOf`.
    public func caseView(_ caseId: String) -> CaseView? { cases[caseId]?.record.view(asOf: asOf) }

    /// A case's merged timeline.
    public func timeline(_ caseId: String) -> [TimelineEntry] { (caseFacts[caseId] ?? []).map(TimelineEntry.init) }

    /// One contract's performance at `asOf`.
    public func contractPerformance(_ contractId: String) -> ContractPerformance? {
        guard let c = contracts[contractId] else { return nil }
        return ContractPerformance.compute(contractId: contractId, contract: c.fold, rows: c.rows, flags: c.record.flags,
                                           asOf: asOf, rules: rules)
    }

    /// Area codes in the view: cases' current areas, contracts' areas and areas with priorities.
    public var areaCodes: [String] {
        var out = Set<String>()
        for d in cases.values { if let a = d.record.area { out.insert(a) } }
        for c in contracts.values { if let a = c.fold?.terms(at: asOf)?.area { out.insert(a) } }
        for (area, record) in areas where !record.localPriorities.isEmpty { out.insert(area) }
        return out.sorted()
    }

    /// A commissioner's summary of an area at `asOf`.
    public func areaSummary(_ area: String) -> AreaSummary {
        var tally = AreaTally()
        for id in cases.keys.sorted() {
            guard let d = cases[id], d.record.area == area else { continue }
            tally.add(d.summary, caseId: id)
        }
        let open = flags(FlagFilter(area: area, openOnly: true))
        var contractRows: [AreaContract] = []
        for id in contracts.keys.sorted() {
            guard let fold = contracts[id]?.fold, let terms = fold.terms(at: asOf), terms.area == area else { continue }
            let ended = fold.endedAt.map { $0 <= asOf } ?? false
            contractRows.append(AreaContract(contractId: id, providerId: terms.providerId,
                                             interventionType: terms.interventionType, status: ended ? .ended : .active))
        }
        return tally.summary(area: area, asOf: asOf, openFlags: open, contracts: contractRows,
                             priorities: areas[area]?.localPriorities ?? [])
    }

    /// Every subject's leaf, for the view digest.
    public var leaves: [(key: String, leaf: Hash256)] {
        var out: [(String, Hash256)] = []
        for (id, d) in cases {
            let key = SubjectKey.caseId(id).description
            out.append((key, ViewTree.leaf(key: key, canonicalJSON: SubjectCanonical.bytes(d.record))))
        }
        for (id, c) in contracts {
            let key = SubjectKey.contract(id).description
            out.append((key, ViewTree.leaf(key: key, canonicalJSON: SubjectCanonical.bytes(c.record))))
        }
        for (urn, s) in sources {
            let key = SubjectKey.source(urn).description
            out.append((key, ViewTree.leaf(key: key, canonicalJSON: SubjectCanonical.bytes(s))))
        }
        for (area, a) in areas {
            let key = SubjectKey.area(area).description
            out.append((key, ViewTree.leaf(key: key, canonicalJSON: SubjectCanonical.bytes(a))))
        }
        return out
    }

    /// The view digest (Merkle root) of this view.
    public var digest: Hash256 {
        var tree = ViewTree()
        var buckets: [Int: [(key: String, leaf: Hash256)]] = [:]
        for entry in leaves { buckets[ViewTree.bucket(of: entry.key), default: []].append(entry) }
        for (bucket, entries) in buckets { tree.setBucket(bucket, leaves: entries) }
        return tree.root()
    }
}

/// Counts of an area's cases, shared by the folded view and the store's counters.
public struct AreaTally: Sendable, Hashable {
    /// Open cases.
    public var open = 0
    /// Closed cases.
    public var closed = 0
    /// Open cases by risk level.
    public var byRisk: [String: Int] = [:]
    /// Open cases by order type.
    public var byOrder: [String: Int] = [:]
    /// Open unallocated cases.
    public var unallocated: [String] = []
    /// Proven reoffences.
    public var reoffences = 0

    /// An empty tally.
    public init() {}

    /// Counts one case.
    public mutating func add(_ s: CaseSummary, caseId: String) {
        reoffences += s.reoffences
        guard s.open else {
            closed += 1
            return
        }
        open += 1
        if let risk = s.riskLevel { byRisk[risk.rawValue, default: 0] += 1 }
        if let order = s.orderType { byOrder[order.rawValue, default: 0] += 1 }
        if !s.allocated { unallocated.append(caseId) }
    }

    /// The summary with these counts and the area's open flags.
    public func summary(area: String, asOf: Timestamp, openFlags: [Flag], contracts: [AreaContract],
                        priorities: [LocalPriorityEntry]) -> AreaSummary {
        var byRule: [String: Int] = [:]
        var byAgency: [String: (AgencyKind, Int)] = [:]
        for flag in openFlags {
            byRule[flag.rule.rawValue, default: 0] += 1
            byAgency[flag.accountable, default: (flag.accountableKind, 0)].1 += 1
        }
        return summary(area: area, asOf: asOf, ruleCounts: byRule, agencyCounts: byAgency, contracts: contracts,
                       priorities: priorities)
    }

    /// The summary with these counts and counts of the area's open flags by rule and by agency.
    public func summary(area: String, asOf: Timestamp, ruleCounts byRule: [String: Int],
                        agencyCounts byAgency: [String: (AgencyKind, Int)], contracts: [AreaContract],
                        priorities: [LocalPriorityEntry]) -> AreaSummary {
        func counts(_ d: [String: Int]) -> [KeyCount] {
            d.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { KeyCount(key: $0.key, count: $0.value) }
        }
        return AreaSummary(
            area: area, asOf: asOf, casesOpen: open, casesClosed: closed, openCasesByRiskLevel: counts(byRisk),
            openCasesByOrderType: counts(byOrder), unallocatedCases: unallocated.sorted(), openFlagsByRule: counts(byRule),
            openFlagsByAgency: byAgency.filter { $0.value.1 != 0 }.sorted { $0.key < $1.key }.map {
                AgencyFlagCount(accountable: $0.key, kind: $0.value.0, count: $0.value.1)
            },
            contracts: contracts, localPriorities: priorities.filter { $0.setAt <= asOf }, provenReoffences: reoffences)
    }
}

/// The whole accountability view at one instant: every case, flag, contract and area.
public struct ViewSnapshot: Codable, Sendable, Hashable {
    /// The instant described.
    public var asOf: Timestamp
    /// The knowledge cut-off, if any.
    public var knownAt: Timestamp?
    /// Every case view, by case id.
    public var cases: [CaseView]
    /// Every flag (open and resolved), sorted.
    public var flags: [Flag]
    /// Every contract's performance, by contract id.
    public var contracts: [ContractPerformance]
    /// Every area's summary, by area code.
    public var areas: [AreaSummary]
}

extension FoldedView {
    /// Every case, flag, contract and area of the view.
    public var snapshot: ViewSnapshot {
        ViewSnapshot(asOf: asOf, knownAt: knownAt,
                     cases: cases.keys.sorted().compactMap(caseView),
                     flags: flags(),
                     contracts: contracts.keys.sorted().compactMap(contractPerformance),
                     areas: areaCodes.map(areaSummary))
    }
}
