import AccordEvents

/// A referral as contract performance counts it: one row per referral made under a contract.
/// Derived from the case; contract performance and service-level flags are computed from these rows.
public struct ReferralRow: Sendable, Hashable {
    /// The case.
    public var caseId: String
    /// The referral.
    public var referralId: String
    /// The contract referred under.
    public var contractId: String
    /// The provider named.
    public var providerId: String
    /// When referred.
    public var referredAt: Timestamp
    /// The referral event.
    public var referralEventId: String
    /// Response deadline (referral + the response days in force at the referral).
    public var responseDeadline: Timestamp?
    /// Start deadline (referral + the start days in force at the referral).
    public var startDeadline: Timestamp?
    /// First answer (accepted, declined, started, completed or ended early) by the named provider.
    public var answered: FlagEventRef?
    /// Accepted.
    public var acceptedAt: Timestamp?
    /// Declined.
    public var declinedAt: Timestamp?
    /// Started.
    public var startedAt: Timestamp?
    /// The outcome: completed (true) or ended early (false), with its event.
    public var outcome: ReferralOutcome?
    /// Proven reoffences of the case: offence date and when recorded.
    public var reoffences: [ReoffenceMark]
}

/// A referral's outcome.
public struct ReferralOutcome: Sendable, Hashable {
    /// When.
    public var at: Timestamp
    /// Completed (true) or ended early (false).
    public var completed: Bool
    /// The event.
    public var eventId: String
}

/// A proven reoffence as contract payment counts it.
public struct ReoffenceMark: Sendable, Hashable {
    /// When the offence was committed.
    public var offenceDate: CalendarDate
    /// When recorded (event time).
    public var at: Timestamp
}

/// What an area summary counts of one case.
public struct CaseSummary: Sendable, Hashable {
    /// Current area.
    public var area: String?
    /// Open or closed.
    public var open: Bool
    /// Current risk level.
    public var riskLevel: RiskLevel?
    /// Order type.
    public var orderType: OrderType?
    /// Whether a practitioner is allocated.
    public var allocated: Bool
    /// Proven reoffences recorded.
    public var reoffences: Int
    /// The office holding the case.
    public var probationSource: String?
}

/// What the view indexes of one case after each batch: its flags, referral rows and summary.
public struct CaseIndexed: Sendable, Hashable {
    /// Every flag about the case, sorted by id.
    public var flags: [FlagRecord]
    /// One row per referral under a contract.
    public var referrals: [ReferralRow]
    /// What the area summary counts.
    public var summary: CaseSummary
}

/// Everything the view derives from one case's facts.
public struct CaseDerived: Sendable, Hashable {
    /// The case's record, flags included.
    public var record: CaseRecord
    /// One row per referral under a contract.
    public var referrals: [ReferralRow]
    /// What the area summary counts.
    public var summary: CaseSummary
}

extension CaseFold {
    /// The case's flags, referral rows and summary.
    func indexed(rules: ProjectionRules, contracts: ContractLookup) -> CaseIndexed {
        let flags = flagRecords(rules: rules, contracts: contracts)
        var marks: [ReoffenceMark] = []
        for o in reoffences { marks.append(ReoffenceMark(offenceDate: o.data.offenceDate, at: o.stamp.at)) }
        var rows: [ReferralRow] = []
        for referralId in referralOrder {
            guard let r = referrals[referralId], let referral = r.referral else { continue }
            let terms = contracts(referral.data.contractId)?.terms(at: referral.stamp.at)
            let responseDays = terms?.serviceLevels.referralResponseDays ?? rules.referralResponseDays
            let startDays = terms?.serviceLevels.startWithinDays ?? rules.startWithinDays
            var outcome: ReferralOutcome?
            if let c = r.completed, r.endedEarly.map({ c.at <= $0.stamp.at }) ?? true {
                outcome = ReferralOutcome(at: c.at, completed: true, eventId: c.eventId)
            } else if let e = r.endedEarly {
                outcome = ReferralOutcome(at: e.stamp.at, completed: false, eventId: e.stamp.eventId)
            }
            rows.append(ReferralRow(
                caseId: caseId, referralId: referralId, contractId: referral.data.contractId, providerId: r.providerId,
                referredAt: referral.stamp.at, referralEventId: referral.stamp.eventId,
                responseDeadline: referral.stamp.at.addingDays(responseDays), startDeadline: referral.stamp.at.addingDays(startDays),
                answered: earliestStamp(r.answered, r.completed, r.endedEarly?.stamp)?.ref, acceptedAt: r.accepted?.at,
                declinedAt: r.declined?.stamp.at, startedAt: r.started?.at, outcome: outcome, reoffences: marks))
        }
        let summary = CaseSummary(area: area, open: closed == nil, riskLevel: risk.last?.level,
                                  orderType: opened?.data.orderType, allocated: practitioner != nil,
                                  reoffences: reoffences.count, probationSource: probationSource?.urn)
        return CaseIndexed(flags: flags, referrals: rows, summary: summary)
    }

    /// Derives the case's record, flags, referral rows and summary.
    func derive(rules: ProjectionRules, contracts: ContractLookup) -> CaseDerived {
        let indexed = indexed(rules: rules, contracts: contracts)
        return CaseDerived(record: record(flags: indexed.flags), referrals: indexed.referrals, summary: indexed.summary)
    }
}

/// Derives a case from its facts (canonical order) with the given contracts (by id; nil: not
/// awarded in the view): its record, flags, referral rows and summary.
public func deriveCase(_ caseId: String, facts: [Fact], contracts: [String: ContractFold],
                       rules: ProjectionRules) -> CaseDerived {
    CaseFold(caseId: caseId, facts: facts).derive(rules: rules) { contracts[$0] }
}
