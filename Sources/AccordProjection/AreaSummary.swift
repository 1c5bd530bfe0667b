import AccordEvents

/// A count for one key (risk level, order type, rule, ...).
public struct KeyCount: Codable, Sendable, Equatable {
    /// The key, e.g. `high` or `community-order`.
    public var key: String
    /// How many.
    public var count: Int
}

/// Open flags for one accountable agency.
public struct AgencyFlagCount: Codable, Sendable, Equatable {
    /// The agency's source URN.
    public var accountable: String
    /// Its kind.
    public var kind: AgencyKind
    /// Open flags.
    public var count: Int
}

/// A contract covering the area.
public struct AreaContract: Codable, Sendable, Equatable {
    /// The contract id.
    public var contractId: String
    /// The provider.
    public var providerId: String
    /// What it buys.
    public var interventionType: InterventionType
    /// Active or ended.
    public var status: ContractStatus
}

/// The latest setting of one local priority.
public struct LocalPriorityEntry: Codable, Sendable, Equatable {
    /// The priority code.
    public var priority: String
    /// The commissioner that set it.
    public var commissionerId: String
    /// When last set.
    public var setAt: Timestamp
    /// The event.
    public var eventId: String
}

/// A commissioner's summary of one area at `asOf`.
public struct AreaSummary: Codable, Sendable, Equatable {
    /// The area code.
    public var area: String
    /// The instant described.
    public var asOf: Timestamp
    /// Open cases currently in the area (after transfers).
    public var casesOpen: Int
    /// Closed cases whose last area was this one.
    public var casesClosed: Int
    /// Open cases by current risk level.
    public var openCasesByRiskLevel: [KeyCount]
    /// Open cases by order type.
    public var openCasesByOrderType: [KeyCount]
    /// Open cases with no practitioner allocated.
    public var unallocatedCases: [String]
    /// Open flags in the area by rule.
    public var openFlagsByRule: [KeyCount]
    /// Open flags in the area by accountable agency.
    public var openFlagsByAgency: [AgencyFlagCount]
    /// Contracts covering the area.
    public var contracts: [AreaContract]
    /// Local priorities set for the area (latest setting of each).
    public var localPriorities: [LocalPriorityEntry]
    /// Proven reoffences recorded for cases currently in the area.
    public var provenReoffences: Int
}

extension ProjectionState {
    func computeAreaSummary(_ area: String, asOf: Timestamp, knownAt: Timestamp?, allFlags: [Flag]? = nil) -> AreaSummary {
        var open = 0
        var closed = 0
        var byRisk: [String: Int] = [:]
        var byOrder: [String: Int] = [:]
        var unallocated: [String] = []
        var reoffences = 0
        for caseId in caseLogs.keys.sorted() {
            guard let fold = caseFold(caseId, asOf: asOf, knownAt: knownAt), fold.area == area else { continue }
            reoffences += fold.reoffences.count
            if fold.closed != nil {
                closed += 1
                continue
            }
            open += 1
            if let risk = fold.risk.last?.riskLevel { byRisk[risk.rawValue, default: 0] += 1 }
            if let order = fold.opened?.data.orderType { byOrder[order.rawValue, default: 0] += 1 }
            if fold.practitioner == nil { unallocated.append(caseId) }
        }
        let flags = (allFlags ?? computeFlags(asOf: asOf, knownAt: knownAt)).filter { $0.open && $0.area == area }
        var byRule: [String: Int] = [:]
        var byAgency: [String: (AgencyKind, Int)] = [:]
        for flag in flags {
            byRule[flag.rule.rawValue, default: 0] += 1
            byAgency[flag.accountable, default: (flag.accountableKind, 0)].1 += 1
        }
        var contracts: [AreaContract] = []
        for contractId in contractLogs.keys.sorted() {
            guard let fold = contractFold(contractId, asOf: asOf, knownAt: knownAt), let terms = fold.currentTerms,
                  terms.area == area else { continue }
            var ended = fold.ended != nil
            if let over = terms.periodEnd.adding(days: 1).map({ Timestamp(startOf: $0) }), over <= asOf { ended = true }
            contracts.append(AreaContract(contractId: contractId, providerId: terms.providerId,
                                          interventionType: terms.interventionType, status: ended ? .ended : .active))
        }
        var priorities: [String: LocalPriorityEntry] = [:]
        for recorded in areaLogs[area]?.visible(asOf: asOf, knownAt: knownAt) ?? [] {
            guard case .commissioning(.localPrioritySet(let d)) = recorded.event.payload else { continue }
            priorities[d.priority] = LocalPriorityEntry(priority: d.priority, commissionerId: d.commissionerId,
                                                        setAt: recorded.event.time, eventId: recorded.event.idString)
        }
        func counts(_ d: [String: Int]) -> [KeyCount] { d.sorted { $0.key < $1.key }.map { KeyCount(key: $0.key, count: $0.value) } }
        return AreaSummary(
            area: area, asOf: asOf, casesOpen: open, casesClosed: closed,
            openCasesByRiskLevel: counts(byRisk), openCasesByOrderType: counts(byOrder), unallocatedCases: unallocated,
            openFlagsByRule: counts(byRule),
            openFlagsByAgency: byAgency.sorted { $0.key < $1.key }.map { AgencyFlagCount(accountable: $0.key, kind: $0.value.0, count: $0.value.1) },
            contracts: contracts,
            localPriorities: priorities.values.sorted { $0.priority < $1.priority },
            provenReoffences: reoffences)
    }
}
