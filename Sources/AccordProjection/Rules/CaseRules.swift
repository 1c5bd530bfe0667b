import AccordEvents

/// The unknown probation office, accountable when no probation event about a case is in the view.
let unknownProbationURN = "urn:accord:probation:unknown"

/// Looks up a contract's fold by id (nil: not awarded in the view).
typealias ContractLookup = (String) -> ContractFold?

extension CaseFold {
    /// Every flag about the case (rules 1–6 of `docs/accountability-rules.md`), sorted by id.
    func flagRecords(rules: ProjectionRules, contracts: ContractLookup) -> [FlagRecord] {
        var out: [FlagRecord] = []
        caseUnallocated(rules, into: &out)
        for referralId in referralOrder {
            guard let r = referrals[referralId] else { continue }
            activityWithoutReferral(r, into: &out)
            guard let referral = r.referral else { continue }
            let contract = contracts(referral.data.contractId)
            let terms = contract?.terms(at: referral.stamp.at)
            referralUnanswered(r, referral.stamp, terms, rules, into: &out)
            interventionNotStarted(r, referral.stamp, terms, rules, into: &out)
            riskNotCleared(r, referral.stamp, contract, rules, into: &out)
        }
        enforcementDecisionOverdue(rules, into: &out)
        out.sort { $0.id < $1.id }
        return out
    }

    // MARK: accountability periods

    private func id(_ rule: FlagRule, _ key: String) -> String { "\(rule.rawValue)|\(caseId)|\(key)" }

    /// Periods of probation accountability (the office holding the case) from `since` until `end`.
    func probationPeriods(since: Timestamp, end: Timestamp?) -> [AccountabilityPeriod] {
        func period(_ t: Timestamp) -> AccountabilityPeriod {
            AccountabilityPeriod(from: t, accountable: office(at: t)?.urn ?? unknownProbationURN,
                                 accountableKind: .probation, area: area(at: t))
        }
        var out = [period(since)]
        for t in responsibilityChanges(after: since, before: end) {
            let next = period(t)
            if let last = out.last, last.accountable == next.accountable, last.area == next.area { continue }
            out.append(next)
        }
        return out
    }

    /// Periods of a provider's accountability (fixed provider; the area follows the case).
    func providerPeriods(_ provider: String, since: Timestamp, end: Timestamp?) -> [AccountabilityPeriod] {
        var out = [AccountabilityPeriod(from: since, accountable: provider, accountableKind: .interventions, area: area(at: since))]
        for t in responsibilityChanges(after: since, before: end) {
            let a = area(at: t)
            if out.last?.area == a { continue }
            out.append(AccountabilityPeriod(from: t, accountable: provider, accountableKind: .interventions, area: a))
        }
        return out
    }

    /// A deadline obligation: flagged when not resolved by `deadline`; the flag exists only after it.
    private func deadlineFlag(_ rule: FlagRule, key: String, start: Stamp, days: Int, resolution: (Stamp, FlagResolution)?,
                              periods: (Timestamp, Timestamp?) -> [AccountabilityPeriod], details: String,
                              resolutionText: (Stamp, FlagResolution) -> String, referralId: String? = nil,
                              contractId: String? = nil, extraCauses: [FlagEventRef] = []) -> FlagRecord? {
        guard let deadline = start.at.addingDays(days) else { return nil }
        if let (stamp, _) = resolution, stamp.at <= deadline { return nil }
        let resolvedAt = resolution?.0.at
        return FlagRecord(id: id(rule, key), rule: rule, subject: caseId, subjectKind: .caseId, referralId: referralId,
                          contractId: contractId, since: deadline, inclusive: false, resolvedAt: resolvedAt,
                          resolution: resolution?.1, periods: periods(deadline, resolvedAt),
                          causes: [start.ref] + extraCauses, resolvingEventId: resolution?.0.eventId, details: details,
                          resolutionDetails: resolution.map { resolutionText($0.0, $0.1) })
    }

    /// The case's closure. Closure is final: it resolves every obligation open at its time, and
    /// an obligation that would start after it is resolved by it before it starts (so never flagged).
    private var closure: Stamp? { closed?.stamp }

    // MARK: 1. case-unallocated

    private func caseUnallocated(_ rules: ProjectionRules, into out: inout [FlagRecord]) {
        // Obligations: the opening, then each transfer to another office that names no practitioner.
        var obligations: [(start: Stamp, key: String, receiving: EventSource?)] = []
        if let opened { obligations.append((opened.stamp, "opened", nil)) }
        var current = offices.first?.office
        for t in transfers {
            guard let receiving = t.to, receiving != current else { continue }
            current = receiving
            if t.data.newPractitionerId == nil { obligations.append((t.stamp, "transfer-\(t.stamp.eventId)", receiving)) }
        }
        for (n, obligation) in obligations.enumerated() {
            let start = obligation.start
            let isOpening = obligation.key == "opened"
            var candidates: [(Stamp, FlagResolution)] = []
            if let allocation = allocations.first(where: { isOpening || $0.at >= start.at }) { candidates.append((allocation, .allocated)) }
            if let closure { candidates.append((closure, .caseClosed)) }
            if n + 1 < obligations.count { candidates.append((obligations[n + 1].start, .transferred)) }
            let resolution = candidates.min { $0.0.at < $1.0.at }
            let details = isOpening
                ? "Case \(caseId) opened at \(start.at) has no practitioner allocated within \(rules.unallocatedDays) days"
                : "Case \(caseId) transferred at \(start.at) to \(obligation.receiving?.urn ?? "another office") has no practitioner allocated by the receiving office within \(rules.unallocatedDays) days"
            if let flag = deadlineFlag(.caseUnallocated, key: obligation.key, start: start, days: rules.unallocatedDays,
                                       resolution: resolution, periods: probationPeriods, details: details,
                                       resolutionText: { stamp, how in
                                           switch how {
                                           case .allocated: "; allocated at \(stamp.at)"
                                           case .caseClosed: "; case closed at \(stamp.at) before allocation"
                                           default: "; transferred on at \(stamp.at) before allocation"
                                           }
                                       }) {
                out.append(flag)
            }
        }
    }

    // MARK: 2. referral-unanswered

    private func defaultsNote(_ terms: ContractTerms?, _ contractId: String, _ days: Int) -> String {
        terms == nil ? " (contract \(contractId) is not awarded in the view at the referral; the default of \(days) days applies)" : ""
    }

    private func referralUnanswered(_ r: ReferralFold, _ referral: Stamp, _ terms: ContractTerms?, _ rules: ProjectionRules,
                                    into out: inout [FlagRecord]) {
        let days = terms?.serviceLevels.referralResponseDays ?? rules.referralResponseDays
        let contractId = r.contractId ?? "?"
        var candidates: [(Stamp, FlagResolution)] = []
        if let answer = earliestStamp(r.answered, r.completed, r.endedEarly?.stamp) { candidates.append((answer, .answered)) }
        if let closure { candidates.append((closure, .caseClosed)) }
        let resolution = candidates.min { $0.0.at < $1.0.at }
        let provider = r.provider
        let details = "Referral \(r.referralId) to \(r.providerId) at \(referral.at) not accepted or declined within \(days) days"
            + defaultsNote(terms, contractId, days)
        if let flag = deadlineFlag(.referralUnanswered, key: r.referralId, start: referral, days: days, resolution: resolution,
                                   periods: { providerPeriods(provider, since: $0, end: $1) }, details: details,
                                   resolutionText: { stamp, how in
                                       how == .answered ? "; answered at \(stamp.at)" : "; case closed at \(stamp.at) before an answer"
                                   }, referralId: r.referralId, contractId: r.contractId) {
            out.append(flag)
        }
    }

    // MARK: 3. intervention-not-started

    private func interventionNotStarted(_ r: ReferralFold, _ referral: Stamp, _ terms: ContractTerms?, _ rules: ProjectionRules,
                                        into out: inout [FlagRecord]) {
        guard let accepted = r.accepted else { return }
        let days = terms?.serviceLevels.startWithinDays ?? rules.startWithinDays
        guard let deadline = referral.at.addingDays(days) else { return }
        var candidates: [(Stamp, FlagResolution)] = []
        if let s = r.started { candidates.append((s, .started)) }
        if let e = earliestStamp(r.completed, r.endedEarly?.stamp) { candidates.append((e, .ended)) }
        if let d = r.declined?.stamp, d.at >= accepted.at { candidates.append((d, .declined)) }
        if let closure { candidates.append((closure, .caseClosed)) }
        let resolution = candidates.min { $0.0.at < $1.0.at }
        // The obligation exists once the provider accepted: a late acceptance opens the flag at
        // the acceptance, never backdated to the deadline.
        let late = accepted.at > deadline
        let since = late ? accepted.at : deadline
        if let resolution {
            if resolution.0.at < accepted.at { return }
            if late ? resolution.0.at <= since : resolution.0.at <= deadline { return }
        }
        let provider = r.provider
        let contractId = r.contractId ?? "?"
        var details = "Intervention for referral \(r.referralId) (referred \(referral.at)) not started by \(r.providerId) within \(days) days"
            + defaultsNote(terms, contractId, days)
        if late { details += "; accepted only at \(accepted.at), after the start deadline" }
        let resolvedAt = resolution?.0.at
        out.append(FlagRecord(
            id: id(.interventionNotStarted, r.referralId), rule: .interventionNotStarted, subject: caseId, subjectKind: .caseId,
            referralId: r.referralId, contractId: r.contractId, since: since, inclusive: late,
            resolvedAt: resolvedAt, resolution: resolution?.1, periods: providerPeriods(provider, since: since, end: resolvedAt),
            causes: [referral.ref, accepted.ref], resolvingEventId: resolution?.0.eventId, details: details,
            resolutionDetails: resolution.map { stamp, how in
                switch how {
                case .started: "; started at \(stamp.at)"
                case .declined: "; declined after acceptance at \(stamp.at)"
                case .ended: "; ended at \(stamp.at) without a recorded start"
                default: "; case closed at \(stamp.at) before a start"
                }
            }))
    }

    // MARK: 4. enforcement-decision-overdue

    private func enforcementDecisionOverdue(_ rules: ProjectionRules, into out: inout [FlagRecord]) {
        for incident in incidents {
            let start = incident.start
            let decision = actions.first { action in
                guard action.stamp.at >= start.at else { return false }
                if action.data.failureIds.isEmpty { return true }
                return incident.failures.contains { f in f.stamp.at <= action.stamp.at && action.data.failureIds.contains(f.id) }
            }
            var candidates: [(Stamp, FlagResolution)] = []
            if let decision { candidates.append((decision.stamp, .decisionTaken)) }
            if let closure { candidates.append((closure, .caseClosed)) }
            let resolution = candidates.min { $0.0.at < $1.0.at }
            var details = "No enforcement decision within \(rules.enforcementDecisionDays) days of \(incident.label) at \(start.at)"
            if offices.isEmpty { details += " (no probation event for the case is in the view)" }
            let actionName = decision?.data.action.rawValue ?? "decision"
            let extra = incident.failures.filter { $0.stamp.id != start.id }.map(\.stamp.ref)
            if let flag = deadlineFlag(.enforcementDecisionOverdue, key: incident.key, start: start,
                                       days: rules.enforcementDecisionDays, resolution: resolution,
                                       periods: probationPeriods, details: details,
                                       resolutionText: { stamp, how in
                                           how == .decisionTaken ? "; \(actionName) at \(stamp.at)"
                                               : "; case closed at \(stamp.at) with no enforcement decision"
                                       }, referralId: incident.referralId, extraCauses: extra) {
                out.append(flag)
            }
        }
    }

    // MARK: 5. activity-without-referral

    private func activityWithoutReferral(_ r: ReferralFold, into out: inout [FlagRecord]) {
        // One flag per acting provider, from its first activity on the referral id, unless the
        // referral id was referred to it at or before then; resolved by the first referral naming
        // it after that (`referred`) or by the case's closure, whichever comes first.
        func flag(_ providerId: String, _ first: Stamp) {
            var candidates: [(Stamp, FlagResolution)] = []
            if let referral = r.referral(naming: providerId) {
                if referral.at <= first.at { return }
                candidates.append((referral, .referred))
            }
            if let closure { candidates.append((closure, .caseClosed)) }
            let resolution = candidates.min { $0.0.at < $1.0.at }
            if let resolution, resolution.0.at <= first.at { return }
            let provider = providerURNString(providerId)
            let resolvedAt = resolution?.0.at
            out.append(FlagRecord(
                id: id(.activityWithoutReferral, "\(r.referralId)|\(providerId)"), rule: .activityWithoutReferral,
                subject: caseId, subjectKind: .caseId, referralId: r.referralId, contractId: r.contractId,
                since: first.at, inclusive: true, resolvedAt: resolvedAt, resolution: resolution?.1,
                periods: providerPeriods(provider, since: first.at, end: resolvedAt), causes: [first.ref],
                resolvingEventId: resolution?.0.eventId,
                details: "Provider \(providerId) reported activity on referral \(r.referralId) at \(first.at) without a referral addressed to it",
                resolutionDetails: resolution.map { stamp, how in
                    how == .referred ? "; referred at \(stamp.at)" : "; case closed at \(stamp.at) with no referral to it"
                }))
        }
        if let first = r.firstActivity { flag(r.providerId, first) }
        for actor in r.strayOrder {
            if let first = r.strays[actor] { flag(actor, first) }
        }
    }

    // MARK: 6. risk-not-cleared

    private func riskNotCleared(_ r: ReferralFold, _ referral: Stamp, _ contract: ContractFold?, _ rules: ProjectionRules,
                                into out: inout [FlagRecord]) {
        var ends: [(Stamp, FlagResolution)] = []
        if let finished = r.finished { ends.append((finished, .referralEnded)) }
        if let closure { ends.append((closure, .caseClosed)) }
        let end = ends.min { $0.0.at < $1.0.at }
        func maxRisk(_ t: Timestamp) -> RiskLevel { contract?.terms(at: t)?.maxRiskLevel ?? rules.defaultMaxRiskLevel }
        func breached(_ t: Timestamp) -> Bool {
            guard let risk = riskLevel(at: t) else { return false }
            return risk > maxRisk(t)
        }
        // Instants where the condition can change, with the event that changes it.
        var changes: [(at: Timestamp, eventId: String)] = risk.map { ($0.stamp.at, $0.stamp.eventId) }
        if let contract { changes += contract.versions.map { ($0.at, $0.eventId) } }
        changes.sort { $0.at < $1.at }
        var points: [(Timestamp, Bool)] = [(referral.at, breached(referral.at))]
        var pointEvents: [Timestamp: String] = [:]
        for c in changes where c.at > referral.at && end.map({ c.at < $0.0.at }) ?? true {
            points.append((c.at, breached(c.at)))
            pointEvents[c.at] = c.eventId
        }
        if let end { points.append((max(end.0.at, referral.at), false)) }
        let contractName = r.contractId ?? "?"
        for (n, episode) in episodes(of: points).enumerated() {
            let risk = riskLevel(at: episode.start) ?? .low
            let cleared = maxRisk(episode.start)
            var details = "Case at \(risk.rawValue) risk referred (\(r.referralId)) to \(r.providerId) under contract \(contractName), cleared only up to \(cleared.rawValue)"
            if contract?.terms(at: episode.start) == nil { details += " (contract not awarded in the view; default clearance applies)" }
            var causes = [referral.ref]
            if episode.start > referral.at, let e = pointEvents[episode.start] { causes.append(FlagEventRef(eventId: e, at: episode.start)) }
            var resolution: FlagResolution?
            var resolving: String?
            if let endAt = episode.end {
                if let end, end.0.at <= endAt {
                    resolution = end.1
                    resolving = end.0.eventId
                } else {
                    resolution = .cleared
                    resolving = pointEvents[endAt]
                }
            }
            out.append(FlagRecord(
                id: id(.riskNotCleared, "\(r.referralId)|\(n + 1)"), rule: .riskNotCleared, subject: caseId, subjectKind: .caseId,
                referralId: r.referralId, contractId: r.contractId, since: episode.start, inclusive: true,
                resolvedAt: episode.end, resolution: resolution, periods: probationPeriods(since: episode.start, end: episode.end),
                causes: causes, resolvingEventId: resolving, details: details,
                resolutionDetails: episode.end.map { t in
                    switch resolution {
                    case .cleared: "; cleared at \(t)"
                    case .caseClosed: "; case closed at \(t)"
                    default: "; referral ended at \(t)"
                    }
                }))
        }
    }
}
