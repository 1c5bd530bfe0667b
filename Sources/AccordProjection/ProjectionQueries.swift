import AccordEvents

/// The read side of the accountability view. Every query is a pure function of the state,
/// `asOf` (events with a later time are not part of the view) and `knownAt` (when given,
/// only events recorded at or before it, i.e. "what the view showed at knownAt").
extension ProjectionState {
    /// One case's whole picture, or nil when no event about it is in the view.
    public func caseView(_ caseId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> CaseView? {
        guard let fold = caseFold(caseId, asOf: asOf, knownAt: knownAt) else { return nil }
        return makeCaseView(fold, asOf: asOf, knownAt: knownAt)
    }

    func makeCaseView(_ fold: CaseFold, asOf: Timestamp, knownAt: Timestamp?) -> CaseView {
        let order = fold.opened.map {
            OrderSummary(orderType: $0.data.orderType, requirements: $0.data.requirements, startDate: $0.data.startDate,
                         expectedEndDate: $0.data.expectedEndDate, openingArea: $0.data.area, openedAt: $0.at,
                         openedBy: $0.source.urn)
        }
        let openFlags = caseFlags(fold, asOf: asOf, knownAt: knownAt).filter(\.open).sorted(by: Flag.precedes)
        return CaseView(
            caseId: fold.caseId, asOf: asOf, status: fold.closed == nil ? .open : .closed,
            outcome: fold.closed?.outcome, closedAt: fold.closed?.at, order: order, area: fold.area,
            probationSource: fold.probationSource?.urn, practitioner: fold.practitioner,
            riskLevel: fold.risk.last?.riskLevel, riskHistory: fold.risk, interventions: fold.lifecycles,
            complianceFailures: fold.failures, enforcementActions: fold.actions, provenReoffences: fold.reoffences,
            transfers: fold.transfers, openFlags: openFlags, eventCount: fold.events.count, lastEventAt: fold.lastEventAt)
    }

    /// The merged cross-agency timeline of a case: every event about it in canonical order
    /// (event time, source URN, sequence, id). Empty when none is in the view.
    public func timeline(_ caseId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> [TimelineEntry] {
        (caseLogs[caseId]?.visible(asOf: asOf, knownAt: knownAt) ?? []).map(TimelineEntry.init)
    }

    /// Accountability flags at `asOf` that pass `filter`, sorted by (since, subject, rule, id).
    /// Flags resolved at or before `asOf` are listed with `resolvedAt` unless `filter.openOnly`.
    public func flags(asOf: Timestamp, knownAt: Timestamp? = nil, filter: FlagFilter = .all) -> [Flag] {
        if let subject = filter.subject {
            // Narrow to the one subject when possible.
            var candidates: [Flag] = []
            if let fold = caseFold(subject, asOf: asOf, knownAt: knownAt) {
                candidates += caseFlags(fold, asOf: asOf, knownAt: knownAt)
            }
            if contractLogs[subject] != nil || contractCases[subject] != nil {
                candidates += contractFlags(subject, asOf: asOf, knownAt: knownAt)
            }
            if subject.hasPrefix("urn:") {
                candidates += sequenceGapFlags(asOf: asOf, knownAt: knownAt)
            }
            return candidates.filter(filter.matches).sorted(by: Flag.precedes)
        }
        return computeFlags(asOf: asOf, knownAt: knownAt).filter(filter.matches)
    }

    /// Every flag, sorted.
    func computeFlags(asOf: Timestamp, knownAt: Timestamp?) -> [Flag] {
        var all: [Flag] = []
        for caseId in caseLogs.keys {
            if let fold = caseFold(caseId, asOf: asOf, knownAt: knownAt) {
                all += caseFlags(fold, asOf: asOf, knownAt: knownAt)
            }
        }
        for contractId in allContractIds() {
            all += contractFlags(contractId, asOf: asOf, knownAt: knownAt)
        }
        all += sequenceGapFlags(asOf: asOf, knownAt: knownAt)
        return all.sorted(by: Flag.precedes)
    }

    /// A contract's terms, performance and payment by results, or nil when neither the
    /// contract nor any referral under it is in the view.
    public func contractPerformance(_ contractId: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> ContractPerformance? {
        computeContractPerformance(contractId, asOf: asOf, knownAt: knownAt)
    }

    /// A commissioner's summary of an area (all zeros for an area with nothing in the view).
    public func areaSummary(_ area: String, asOf: Timestamp, knownAt: Timestamp? = nil) -> AreaSummary {
        computeAreaSummary(area, asOf: asOf, knownAt: knownAt)
    }

    /// Case ids with at least one event in the view, sorted; for paging, those after `after`, at most `limit`.
    public func caseIds(asOf: Timestamp, knownAt: Timestamp? = nil, after: String? = nil, limit: Int? = nil) -> [String] {
        page(caseLogs.keys.sorted(), after: after, limit: limit) { caseLogs[$0]?.hasVisible(asOf: asOf, knownAt: knownAt) ?? false }
    }

    /// Contract ids in the view (awarded, or named by a referral in the view), sorted and paged like `caseIds`.
    public func contractIds(asOf: Timestamp, knownAt: Timestamp? = nil, after: String? = nil, limit: Int? = nil) -> [String] {
        page(allContractIds(), after: after, limit: limit) { id in
            if contractLogs[id]?.hasVisible(asOf: asOf, knownAt: knownAt) ?? false { return true }
            return !referrals(underContract: id, asOf: asOf, knownAt: knownAt).isEmpty
        }
    }

    /// Every area code in the view: cases' current areas, contracts' areas and areas with local priorities, sorted.
    public func areas(asOf: Timestamp, knownAt: Timestamp? = nil) -> [String] {
        var out: Set<String> = []
        for caseId in caseLogs.keys {
            if let area = caseFold(caseId, asOf: asOf, knownAt: knownAt)?.area { out.insert(area) }
        }
        for contractId in contractLogs.keys {
            if let area = contractFold(contractId, asOf: asOf, knownAt: knownAt)?.currentTerms?.area { out.insert(area) }
        }
        for (area, log) in areaLogs where log.hasVisible(asOf: asOf, knownAt: knownAt) { out.insert(area) }
        return out.sorted()
    }

    private func page(_ sorted: [String], after: String?, limit: Int?, include: (String) -> Bool) -> [String] {
        var out: [String] = []
        let cap = limit.map { max(0, $0) } ?? Int.max
        for id in sorted where after.map({ id > $0 }) ?? true {
            if out.count >= cap { break }
            if include(id) { out.append(id) }
        }
        return out
    }
}
