import AccordEvents

/// A service level with a deadline: nil when it was met in time or is not yet due at `asOf`;
/// otherwise breached since the deadline and resolved at `resolution`, if any.
func deadlineBreach(from start: Timestamp, days: Int, resolution: Timestamp?,
                    asOf: Timestamp) -> (since: Timestamp, resolvedAt: Timestamp?)? {
    guard let deadline = start.addingDays(days), asOf > deadline else { return nil }
    if let resolution, resolution <= deadline { return nil }
    return (deadline, resolution)
}

private let unknownProbation = "urn:accord:probation:unknown"

extension ProjectionState {
    // MARK: case rules

    /// Every flag about one case at `asOf` (rules 1–6), unsorted.
    func caseFlags(_ fold: CaseFold, asOf: Timestamp, knownAt: Timestamp?) -> [Flag] {
        var flags: [Flag] = []
        let caseId = fold.caseId
        let area = fold.area
        let closedAt = fold.closed?.at
        let closedId = fold.closed?.eventId
        let probation = fold.probationSource?.urn ?? unknownProbation

        func make(_ rule: FlagRule, key: String, accountable: String, kind: AgencyKind, since: Timestamp,
                  resolvedAt: Timestamp?, details: String, eventIds: [String], referralId: String? = nil,
                  contractId: String? = nil) -> Flag {
            Flag(id: "\(rule.rawValue)|\(caseId)|\(key)", rule: rule, subject: caseId, subjectKind: .caseId,
                 referralId: referralId, contractId: contractId, accountable: accountable, accountableKind: kind,
                 area: area, since: since, resolvedAt: resolvedAt, open: resolvedAt == nil, details: details,
                 eventIds: eventIds)
        }

        // 1. case-unallocated
        if let opened = fold.opened {
            let allocation = fold.allocations.first
            let resolution = earliest(allocation?.at, closedAt)
            if let breach = deadlineBreach(from: opened.at, days: rules.unallocatedDays, resolution: resolution, asOf: asOf) {
                var ids = [opened.eventId]
                var details = "Case \(caseId) opened \(opened.at) has no practitioner allocated within \(rules.unallocatedDays) days"
                if let r = breach.resolvedAt {
                    if let allocation, allocation.at == r {
                        ids.append(allocation.eventId)
                        details += "; allocated at \(r)"
                    } else if let closedId {
                        ids.append(closedId)
                        details += "; case closed at \(r) before allocation"
                    }
                }
                flags.append(make(.caseUnallocated, key: "opened", accountable: opened.source.urn, kind: .probation,
                                  since: breach.since, resolvedAt: breach.resolvedAt, details: details, eventIds: ids))
            }
        }

        // Per referral: 2, 3, 5, 6.
        for referralId in fold.referralOrder {
            guard let r = fold.referrals[referralId] else { continue }
            let l = r.lifecycle
            // 5. activity-without-referral
            if let firstActivity = r.firstActivityAt, let activityId = r.firstActivityEventId {
                if l.referredAt.map({ $0 > firstActivity }) ?? true {
                    var ids = [activityId]
                    var details = "Provider \(l.providerId) reported activity on referral \(referralId) at \(firstActivity)"
                    if let referredAt = l.referredAt, let refId = r.referralEventId {
                        ids.append(refId)
                        details += " before probation referred it (referred at \(referredAt))"
                    } else {
                        details += " but no referral for it is in the view"
                    }
                    flags.append(make(.activityWithoutReferral, key: referralId, accountable: l.provider, kind: .interventions,
                                      since: firstActivity, resolvedAt: l.referredAt, details: details, eventIds: ids,
                                      referralId: referralId, contractId: l.contractId))
                }
            }
            guard let referredAt = l.referredAt, let referralEventId = r.referralEventId else { continue }
            let contract = l.contractId.flatMap { contractFold($0, asOf: asOf, knownAt: knownAt) }
            let terms = contract?.terms(at: referredAt)
            let contractName = l.contractId ?? "?"
            func defaultsNote(_ days: Int) -> String {
                terms == nil ? " (contract \(contractName) is not awarded in the view; the default of \(days) days applies)" : ""
            }
            let finished = r.finishedAt
            let closedAfterReferral = closedAt.flatMap { $0 >= referredAt ? $0 : nil }

            // 2. referral-unanswered
            let responseDays = terms?.serviceLevels.referralResponseDays ?? rules.referralResponseDays
            let answer = r.answeredAt
            let responseEnd = earliest(answer, finished, closedAfterReferral)
            if let breach = deadlineBreach(from: referredAt, days: responseDays, resolution: responseEnd, asOf: asOf) {
                var details = "Referral \(referralId) to \(l.providerId) at \(referredAt) not accepted or declined within \(responseDays) days" + defaultsNote(responseDays)
                var ids = [referralEventId]
                if let resolved = breach.resolvedAt {
                    if let answer, answer == resolved {
                        details += "; answered at \(resolved)"
                    } else {
                        details += "; no longer needed from \(resolved)"
                    }
                    if let last = lastEventId(of: r, at: resolved) ?? (closedAt == resolved ? closedId : nil) { ids.append(last) }
                }
                flags.append(make(.referralUnanswered, key: referralId, accountable: l.provider, kind: .interventions,
                                  since: breach.since, resolvedAt: breach.resolvedAt, details: details, eventIds: ids,
                                  referralId: referralId, contractId: l.contractId))
            }

            // 3. intervention-not-started
            let startDays = terms?.serviceLevels.startWithinDays ?? rules.startWithinDays
            let declinedWithoutStart = l.declinedAt != nil && l.startedAt == nil
            if (l.acceptedAt != nil || l.startedAt != nil) && !declinedWithoutStart {
                let startEnd = earliest(l.startedAt, l.completedAt, l.endedEarlyAt, closedAfterReferral)
                if let breach = deadlineBreach(from: referredAt, days: startDays, resolution: startEnd, asOf: asOf) {
                    var details = "Intervention for referral \(referralId) (referred \(referredAt)) not started by \(l.providerId) within \(startDays) days" + defaultsNote(startDays)
                    var ids = [referralEventId]
                    if let resolved = breach.resolvedAt {
                        details += l.startedAt == resolved ? "; started at \(resolved)" : "; no longer needed from \(resolved)"
                        if let last = lastEventId(of: r, at: resolved) ?? (closedAt == resolved ? closedId : nil) { ids.append(last) }
                    }
                    flags.append(make(.interventionNotStarted, key: referralId, accountable: l.provider, kind: .interventions,
                                      since: breach.since, resolvedAt: breach.resolvedAt, details: details, eventIds: ids,
                                      referralId: referralId, contractId: l.contractId))
                }
            }

            // 6. risk-not-cleared
            if fold.riskLevel(at: referredAt) != nil {
                let end = earliest(finished, closedAfterReferral)
                func maxRisk(_ t: Timestamp) -> RiskLevel { contract?.terms(at: t)?.maxRiskLevel ?? rules.defaultMaxRiskLevel }
                func breached(_ t: Timestamp) -> Bool {
                    guard let risk = fold.riskLevel(at: t) else { return false }
                    return risk > maxRisk(t)
                }
                var points: [(Timestamp, Bool)] = [(referredAt, breached(referredAt))]
                var changes: [Timestamp] = fold.risk.map(\.at)
                if let contract { changes += contract.versions.map(\.at) }
                for t in changes.sorted() where t > referredAt && end.map({ t < $0 }) ?? true {
                    points.append((t, breached(t)))
                }
                if let end { points.append((max(end, referredAt), false)) }
                for (n, episode) in episodes(of: points).enumerated() {
                    let risk = fold.riskLevel(at: episode.start) ?? .low
                    let cleared = maxRisk(episode.start)
                    var details = "Case at \(risk.rawValue) risk referred (\(referralId)) to \(l.providerId) under contract \(contractName), cleared only up to \(cleared.rawValue)"
                    if contract == nil { details += " (contract not awarded in the view; default clearance applies)" }
                    if let resolved = episode.end { details += "; cleared at \(resolved)" }
                    var ids = [referralEventId]
                    if episode.start > referredAt, let riskEvent = fold.risk.last(where: { $0.at <= episode.start })?.eventId {
                        ids.append(riskEvent)
                    }
                    flags.append(make(.riskNotCleared, key: "\(referralId)|\(n + 1)", accountable: l.referredBy ?? probation,
                                      kind: .probation, since: episode.start, resolvedAt: episode.end, details: details,
                                      eventIds: ids, referralId: referralId, contractId: l.contractId))
                }
            }
        }

        // 4. enforcement-decision-overdue
        var linked: [String: EnforcementTrigger] = [:]  // provider event id → failure that names it
        for trigger in fold.triggers where trigger.kind == .complianceFailure {
            if let failure = fold.failures.first(where: { $0.eventId == trigger.eventId }), let related = failure.relatedEventId {
                linked[related] = trigger
            }
        }
        var providerTimeForFailure: [String: (Timestamp, String)] = [:]  // failure event id → provider report
        for trigger in fold.triggers where trigger.kind != .complianceFailure {
            if let failure = linked[trigger.eventId] { providerTimeForFailure[failure.eventId] = (trigger.at, trigger.eventId) }
        }
        for trigger in fold.triggers {
            if trigger.kind != .complianceFailure, linked[trigger.eventId] != nil { continue }
            var start = trigger.at
            var ids = [trigger.eventId]
            if let report = providerTimeForFailure[trigger.eventId] {
                start = min(start, report.0)
                ids.insert(report.1, at: 0)
            }
            let action = fold.actions.first { a in
                if let failureId = trigger.failureId, a.failureIds.contains(failureId) { return true }
                return a.failureIds.isEmpty && a.at >= start
            }
            let closedAfter = closedAt.flatMap { $0 >= start ? $0 : nil }
            let resolution = earliest(action?.at, closedAfter)
            if let breach = deadlineBreach(from: start, days: rules.enforcementDecisionDays, resolution: resolution, asOf: asOf) {
                var details = "No enforcement decision within \(rules.enforcementDecisionDays) days of \(trigger.label) at \(start)"
                if let resolved = breach.resolvedAt {
                    if let action, action.at == resolved {
                        details += "; \(action.action.rawValue) at \(resolved)"
                        ids.append(action.eventId)
                    } else if let closedId {
                        details += "; case closed at \(resolved)"
                        ids.append(closedId)
                    }
                }
                if fold.probationSource == nil { details += " (no probation event for the case is in the view)" }
                flags.append(make(.enforcementDecisionOverdue, key: trigger.failureId ?? trigger.eventId, accountable: probation,
                                  kind: .probation, since: breach.since, resolvedAt: breach.resolvedAt, details: details,
                                  eventIds: ids, referralId: trigger.referralId))
            }
        }
        return flags
    }

    /// The id of the referral's lifecycle event (answer, start or finish) at exactly `t`, if any.
    private func lastEventId(of r: ReferralFold, at t: Timestamp) -> String? {
        r.milestones.first { $0.at == t }?.eventId
    }

    // MARK: contract rule

    /// The referrals made under a contract that are part of the view.
    func referrals(underContract contractId: String, asOf: Timestamp, knownAt: Timestamp?) -> [(caseFold: CaseFold, referral: ReferralFold)] {
        var out: [(CaseFold, ReferralFold)] = []
        for caseId in (contractCases[contractId] ?? []).sorted() {
            guard let fold = caseFold(caseId, asOf: asOf, knownAt: knownAt) else { continue }
            for referralId in fold.referralOrder {
                if let r = fold.referrals[referralId], r.lifecycle.contractId == contractId, r.lifecycle.referredAt != nil {
                    out.append((fold, r))
                }
            }
        }
        return out
    }

    /// Rule 8 for one contract.
    func contractFlags(_ contractId: String, asOf: Timestamp, knownAt: Timestamp?) -> [Flag] {
        let contract = contractFold(contractId, asOf: asOf, knownAt: knownAt)
        let referrals = referrals(underContract: contractId, asOf: asOf, knownAt: knownAt)
        guard contract != nil || !referrals.isEmpty else { return [] }
        let terms = contract?.currentTerms
        let provider = terms.map { providerURN($0.providerId) } ?? referrals.first.map { $0.referral.lifecycle.provider } ?? providerURN("unknown")
        let note = terms == nil ? " (contract not awarded in the view; default service levels apply)" : ""
        var flags: [Flag] = []
        let minimum = rules.minimumOutcomesForRate

        func make(_ key: String, _ episode: Episode, _ details: String, _ ids: [String]) -> Flag {
            Flag(id: "\(FlagRule.contractBelowServiceLevel.rawValue)|\(contractId)|\(key)", rule: .contractBelowServiceLevel,
                 subject: contractId, subjectKind: .contractId, referralId: nil, contractId: contractId,
                 accountable: provider, accountableKind: .interventions, area: terms?.area, since: episode.start,
                 resolvedAt: episode.end, open: episode.end == nil, details: details, eventIds: ids)
        }

        // Completion rate over outcomes, in time order.
        var outcomes: [(Timestamp, String, Bool, String)] = []  // time, referral id, completed, event id
        for (_, r) in referrals {
            let l = r.lifecycle
            if let c = l.completedAt, l.endedEarlyAt.map({ c <= $0 }) ?? true {
                outcomes.append((c, l.referralId, true, l.eventIds.last ?? ""))
            } else if let e = l.endedEarlyAt {
                outcomes.append((e, l.referralId, false, l.eventIds.last ?? ""))
            }
        }
        outcomes.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var completed = 0
        var points: [(Timestamp, Bool)] = []
        for (n, outcome) in outcomes.enumerated() {
            if outcome.2 { completed += 1 }
            let target = contract?.terms(at: outcome.0)?.serviceLevels.minimumCompletionRate ?? rules.minimumCompletionRate
            points.append((outcome.0, n + 1 >= minimum && Double(completed) / Double(n + 1) < target))
        }
        for (n, episode) in episodes(of: points).enumerated() {
            let total = outcomes.count
            let rate = total > 0 ? Double(completed) / Double(total) : 0
            let target = terms?.serviceLevels.minimumCompletionRate ?? rules.minimumCompletionRate
            var details = "Completion rate below the minimum \(percent(target)); now \(completed) of \(total) outcomes completed (\(percent(rate)))" + note
            if let end = episode.end { details += "; back at or above the minimum from \(end)" }
            flags.append(make("completion|\(n + 1)", episode, details, []))
        }

        // Response rate over referrals whose response was due.
        var dues: [(Timestamp, String, Bool)] = []  // when counted, referral id, answered within limit
        for (_, r) in referrals {
            guard let referredAt = r.lifecycle.referredAt else { continue }
            let days = contract?.terms(at: referredAt)?.serviceLevels.referralResponseDays ?? rules.referralResponseDays
            guard let deadline = referredAt.addingDays(days) else { continue }
            if let answered = r.answeredAt, answered <= deadline {
                dues.append((answered, r.lifecycle.referralId, true))
            } else if asOf > deadline {
                dues.append((deadline, r.lifecycle.referralId, false))
            }
        }
        dues.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var within = 0
        var responsePoints: [(Timestamp, Bool)] = []
        for (n, due) in dues.enumerated() {
            if due.2 { within += 1 }
            responsePoints.append((due.0, n + 1 >= minimum && Double(within) / Double(n + 1) < rules.minimumResponseRate))
        }
        for (n, episode) in episodes(of: responsePoints).enumerated() {
            let rate = dues.isEmpty ? 0 : Double(within) / Double(dues.count)
            var details = "Referral response rate below the minimum \(percent(rules.minimumResponseRate)); now \(within) of \(dues.count) due referrals answered in time (\(percent(rate)))" + note
            if let end = episode.end { details += "; back at or above the minimum from \(end)" }
            flags.append(make("response|\(n + 1)", episode, details, []))
        }
        return flags
    }

    // MARK: sequence gaps

    /// Rule 7: gaps in each source's sequence numbers, as recorded up to min(`asOf`, `knownAt`).
    func sequenceGapFlags(asOf: Timestamp, knownAt: Timestamp?) -> [Flag] {
        let cutoff = knownAt.map { min($0, asOf) } ?? asOf
        var flags: [Flag] = []
        for (source, log) in sourceLogs {
            let urn = source.urn
            struct Gap {
                let lo: Int64
                let hi: Int64
                let since: Timestamp
                let afterEventId: String
                var missing: [ClosedRange<Int64>]
                var resolvedAt: Timestamp?
                var resolvingEventId: String?
            }
            var gaps: [Gap] = []
            var open: [Int] = []
            var highest: Int64 = 0
            for entry in log.entries {
                if entry.recordedAt > cutoff { break }
                let s = entry.sequence
                guard s >= 1 else { continue }
                if s > highest {
                    if s - highest > 1 {
                        gaps.append(Gap(lo: highest + 1, hi: s - 1, since: entry.time,
                                        afterEventId: entry.id.uuidString.lowercased(), missing: [(highest + 1)...(s - 1)]))
                        open.append(gaps.count - 1)
                    }
                    highest = s
                    continue
                }
                for (position, index) in open.enumerated() {
                    guard let r = gaps[index].missing.firstIndex(where: { $0.contains(s) }) else { continue }
                    let range = gaps[index].missing[r]
                    var pieces: [ClosedRange<Int64>] = []
                    if range.lowerBound < s { pieces.append(range.lowerBound...(s - 1)) }
                    if s < range.upperBound { pieces.append((s + 1)...range.upperBound) }
                    gaps[index].missing.replaceSubrange(r...r, with: pieces)
                    if gaps[index].missing.isEmpty {
                        gaps[index].resolvedAt = max(entry.recordedAt, gaps[index].since)
                        gaps[index].resolvingEventId = entry.id.uuidString.lowercased()
                        open.remove(at: position)
                    }
                    break
                }
            }
            for gap in gaps {
                let text = gap.lo == gap.hi ? "\(gap.lo)" : "\(gap.lo)–\(gap.hi)"
                var details = "Source \(urn) skipped sequence number(s) \(text) before the event at \(gap.since)"
                if gap.resolvedAt == nil {
                    let still = gap.missing.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)–\($0.upperBound)" }
                    details += "; still missing: \(still.joined(separator: ", "))"
                } else {
                    details += "; all received by \(gap.resolvedAt.map(\.rfc3339) ?? "")"
                }
                flags.append(Flag(id: "\(FlagRule.sequenceGap.rawValue)|\(urn)|\(gap.lo)", rule: .sequenceGap, subject: urn,
                                  subjectKind: nil, referralId: nil, contractId: nil, accountable: urn,
                                  accountableKind: source.kind, area: nil, since: gap.since, resolvedAt: gap.resolvedAt,
                                  open: gap.resolvedAt == nil, details: details,
                                  eventIds: [gap.afterEventId] + (gap.resolvingEventId.map { [$0] } ?? [])))
            }
        }
        return flags
    }

    /// Every contract id in the view (awarded or named by a referral), sorted.
    func allContractIds() -> [String] {
        Set(contractLogs.keys).union(contractCases.keys).sorted()
    }
}

/// A rate as a whole-or-one-decimal percentage, e.g. `66.7%`.
func percent(_ rate: Double) -> String {
    guard rate.isFinite else { return "n/a" }
    let tenths = (rate * 1000).rounded(.toNearestOrEven) / 10
    return tenths == tenths.rounded() ? "\(Int(tenths))%" : "\(tenths)%"
}
