import AccordEvents

/// The accountability rules; raw values are stable API strings.
public enum FlagRule: String, Codable, Sendable, CaseIterable, Comparable {
    /// A case opened with no practitioner allocated within `unallocatedDays`.
    case caseUnallocated = "case-unallocated"
    /// A referral not accepted or declined within the contract's response days.
    case referralUnanswered = "referral-unanswered"
    /// An accepted referral whose intervention did not start within the contract's start days.
    case interventionNotStarted = "intervention-not-started"
    /// A curfew violation, unacceptable absence or compliance failure with no enforcement decision in time.
    case enforcementDecisionOverdue = "enforcement-decision-overdue"
    /// Provider activity for a referral that is not in the view.
    case activityWithoutReferral = "activity-without-referral"
    /// A case referred to a provider not cleared for its risk level.
    case riskNotCleared = "risk-not-cleared"
    /// Missing sequence numbers from a source.
    case sequenceGap = "sequence-gap"
    /// A contract whose completion or response rate is below its service level.
    case contractBelowServiceLevel = "contract-below-service-level"

    /// Orders by raw value.
    public static func < (lhs: FlagRule, rhs: FlagRule) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A declared service level that was breached, the agency accountable for it, since when,
/// and when (if at all, at or before `asOf`) it was put right.
public struct Flag: Codable, Sendable, Hashable {
    /// Stable identifier: `<rule>|<subject>|<detail key>`.
    public var id: String
    /// The rule breached.
    public var rule: FlagRule
    /// What the flag is about: a case id, contract id or source URN.
    public var subject: String
    /// What `subject` identifies: `caseId`, `contractId`, or `area` (unused), or nil for a source URN.
    public var subjectKind: SubjectKind?
    /// The referral concerned, when the rule is about one.
    public var referralId: String?
    /// The contract concerned, when known.
    public var contractId: String?
    /// The accountable agency's source URN.
    public var accountable: String
    /// The accountable agency's kind.
    public var accountableKind: AgencyKind
    /// The area (the case's current area or the contract's area), when known.
    public var area: String?
    /// The instant the service level was breached.
    public var since: Timestamp
    /// The instant it was put right, when that happened at or before `asOf`.
    public var resolvedAt: Timestamp?
    /// Whether the flag is still open at `asOf`.
    public var open: Bool
    /// How it was put right, once resolved: `allocated`, `answered`, `started`, `decision-taken`,
    /// `referred`, `cleared` or `recovered` when the obligation was met; otherwise what ended it
    /// (`case-closed`, `contract-ended`, `declined`, `ended`, `referral-ended`, `transferred`).
    public var resolution: FlagResolution?
    /// Human-readable explanation.
    public var details: String
    /// Ids of the events involved (the cause first, the resolving event last).
    public var eventIds: [String]
    /// Who was accountable, and in which area, from `since` up to this view (several periods
    /// when the case was transferred while the flag was open).
    public var accountability: [AccountabilityPeriod]

    /// Creates a flag.
    public init(id: String, rule: FlagRule, subject: String, subjectKind: SubjectKind?, referralId: String?,
                contractId: String?, accountable: String, accountableKind: AgencyKind, area: String?,
                since: Timestamp, resolvedAt: Timestamp?, open: Bool, resolution: FlagResolution?, details: String,
                eventIds: [String], accountability: [AccountabilityPeriod]) {
        self.id = id
        self.rule = rule
        self.subject = subject
        self.subjectKind = subjectKind
        self.referralId = referralId
        self.contractId = contractId
        self.accountable = accountable
        self.accountableKind = accountableKind
        self.area = area
        self.since = since
        self.resolvedAt = resolvedAt
        self.open = open
        self.resolution = resolution
        self.details = details
        self.eventIds = eventIds
        self.accountability = accountability
    }

    /// Sort order of flag lists: since, subject, rule, id.
    public static func precedes(_ a: Flag, _ b: Flag) -> Bool {
        if a.since != b.since { return a.since < b.since }
        if a.subject != b.subject { return a.subject < b.subject }
        if a.rule != b.rule { return a.rule < b.rule }
        return a.id < b.id
    }
}

/// Which flags a query returns. Every set criterion must match.
public struct FlagFilter: Codable, Sendable, Hashable {
    /// Only flags whose accountable agency is of this kind.
    public var accountableKind: AgencyKind?
    /// Only flags whose accountable agency has this source URN.
    public var accountable: String?
    /// Only flags in this area.
    public var area: String?
    /// Only flags of this rule.
    public var rule: FlagRule?
    /// Only flags about this subject.
    public var subject: String?
    /// Only flags still open at `asOf`.
    public var openOnly: Bool

    /// Creates a filter; the defaults match every flag.
    public init(accountableKind: AgencyKind? = nil, accountable: String? = nil, area: String? = nil,
                rule: FlagRule? = nil, subject: String? = nil, openOnly: Bool = false) {
        self.accountableKind = accountableKind
        self.accountable = accountable
        self.area = area
        self.rule = rule
        self.subject = subject
        self.openOnly = openOnly
    }

    /// Matches every flag.
    public static let all = FlagFilter()
    /// Matches open flags only.
    public static let openOnly = FlagFilter(openOnly: true)

    /// Whether the flag passes the filter.
    public func matches(_ flag: Flag) -> Bool {
        if let accountableKind, flag.accountableKind != accountableKind { return false }
        if let accountable, flag.accountable != accountable { return false }
        if let area, flag.area != area { return false }
        if let rule, flag.rule != rule { return false }
        if let subject, flag.subject != subject { return false }
        if openOnly, !flag.open { return false }
        return true
    }
}
