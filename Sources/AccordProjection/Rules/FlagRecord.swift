import AccordEvents

/// How a flag was resolved. `allocated`, `answered`, `started`, `decision-taken`, `referred`,
/// `cleared` and `recovered` mean the obligation was met (late); every other value names what
/// ended it instead, so a flag closed without the action it asked for never looks as if the
/// obligation had been met (`docs/accountability-rules.md`).
public enum FlagResolution: String, Codable, Sendable, Hashable, CaseIterable {
    /// A practitioner was allocated (case-unallocated).
    case allocated
    /// A later transfer handed the case on before anyone was allocated (case-unallocated).
    case transferred
    /// The provider accepted, declined or started (referral-unanswered).
    case answered
    /// The intervention started (intervention-not-started).
    case started
    /// The provider declined after accepting (intervention-not-started).
    case declined
    /// The intervention was completed or ended early without a recorded start (intervention-not-started).
    case ended
    /// Probation took an enforcement decision (enforcement-decision-overdue).
    case decisionTaken = "decision-taken"
    /// Probation made the referral the activity was for (activity-without-referral).
    case referred
    /// The risk fell, or the provider's clearance rose, to within clearance (risk-not-cleared).
    case cleared
    /// The referral ended: declined, completed or ended early (risk-not-cleared).
    case referralEnded = "referral-ended"
    /// The contract's rate is back at or above its service level (contract-below-service-level).
    case recovered
    /// The contract ended while the rate was below its level (contract-below-service-level).
    case contractEnded = "contract-ended"
    /// The case was closed before the obligation was met.
    case caseClosed = "case-closed"

    /// Whether the resolution means the obligation itself was met.
    public var obligationMet: Bool {
        switch self {
        case .allocated, .answered, .started, .decisionTaken, .referred, .cleared, .recovered: true
        default: false
        }
    }
}

/// Who was accountable for a flag, and in which area, from an instant on.
public struct AccountabilityPeriod: Codable, Sendable, Hashable {
    /// From when.
    public var from: Timestamp
    /// The accountable agency's source URN.
    public var accountable: String
    /// Its kind.
    public var accountableKind: AgencyKind
    /// The area (the case's area at the time, or the contract's), when known.
    public var area: String?

    /// Creates a period.
    public init(from: Timestamp, accountable: String, accountableKind: AgencyKind, area: String?) {
        self.from = from
        self.accountable = accountable
        self.accountableKind = accountableKind
        self.area = area
    }
}

/// An event a flag refers to, with its event time (shown only in views at or after it).
public struct FlagEventRef: Codable, Sendable, Hashable {
    /// The event id.
    public var eventId: String
    /// Its event time.
    public var at: Timestamp

    /// Creates a reference.
    public init(eventId: String, at: Timestamp) {
        self.eventId = eventId
        self.at = at
    }
}

/// A flag as the view records it from everything known: when it opens, who is accountable when,
/// and when and how it is resolved. Independent of `asOf`: `flag(asOf:)` shows it as it stood at
/// any instant. The rules are causal — a flag's state at an instant depends only on events at or
/// before it — so rendering this record at `asOf` gives exactly the flag a view built from the
/// events up to `asOf` shows (tested).
public struct FlagRecord: Codable, Sendable, Hashable {
    /// Stable identifier: `<rule>|<subject>|<detail key>` (`docs/accountability-rules.md`).
    public var id: String
    /// The rule breached.
    public var rule: FlagRule
    /// A case id, contract id or source URN.
    public var subject: String
    /// What `subject` identifies (nil for a source URN).
    public var subjectKind: SubjectKind?
    /// The referral concerned, if any.
    public var referralId: String?
    /// The contract concerned, if known.
    public var contractId: String?
    /// The instant the service level was breached.
    public var since: Timestamp
    /// True when the flag exists from `since` itself (an event caused it); false when it exists
    /// only after `since` (a deadline that passed: an action at the deadline is in time).
    public var inclusive: Bool
    /// When it was put right, if ever (may be later than `since` only).
    public var resolvedAt: Timestamp?
    /// How it was put right.
    public var resolution: FlagResolution?
    /// Who was accountable from `since` on; the first period starts at `since`.
    public var periods: [AccountabilityPeriod]
    /// The events that caused it, with their times.
    public var causes: [FlagEventRef]
    /// The event that resolved it, if an event did.
    public var resolvingEventId: String?
    /// What happened, independent of time.
    public var details: String
    /// Appended to `details` once the flag is resolved.
    public var resolutionDetails: String?

    /// Creates a record.
    public init(id: String, rule: FlagRule, subject: String, subjectKind: SubjectKind?, referralId: String? = nil,
                contractId: String? = nil, since: Timestamp, inclusive: Bool, resolvedAt: Timestamp? = nil,
                resolution: FlagResolution? = nil, periods: [AccountabilityPeriod], causes: [FlagEventRef],
                resolvingEventId: String? = nil, details: String, resolutionDetails: String? = nil) {
        self.id = id
        self.rule = rule
        self.subject = subject
        self.subjectKind = subjectKind
        self.referralId = referralId
        self.contractId = contractId
        self.since = since
        self.inclusive = inclusive
        self.resolvedAt = resolvedAt
        self.resolution = resolution
        self.periods = periods
        self.causes = causes
        self.resolvingEventId = resolvingEventId
        self.details = details
        self.resolutionDetails = resolutionDetails
    }

    /// Whether the flag exists at `t`.
    @inline(__always)
    public func exists(at t: Timestamp) -> Bool { inclusive ? since <= t : since < t }

    /// Whether the flag exists and is unresolved at `t`.
    @inline(__always)
    public func isOpen(at t: Timestamp) -> Bool { exists(at: t) && (resolvedAt.map { $0 > t } ?? true) }

    /// The accountability period in force at `t` (the first one before `since`).
    public func period(at t: Timestamp) -> AccountabilityPeriod {
        var found = periods[0]
        for p in periods.dropFirst() {
            if p.from > t { break }
            found = p
        }
        return found
    }

    /// The instant whose accountability a view at `asOf` shows: `asOf` while open, else the resolution.
    func accountabilityInstant(asOf: Timestamp) -> Timestamp {
        if let resolvedAt, resolvedAt <= asOf { return resolvedAt }
        return asOf
    }

    /// The flag as a view at `asOf` shows it, or nil when it does not exist yet.
    public func flag(asOf: Timestamp) -> Flag? {
        guard exists(at: asOf) else { return nil }
        let resolved = resolvedAt.flatMap { $0 <= asOf ? $0 : nil }
        let u = resolved ?? asOf
        let current = period(at: u)
        var ids: [String] = []
        ids.reserveCapacity(causes.count + 1)
        for cause in causes where cause.at <= asOf { ids.append(cause.eventId) }
        var text = details
        if resolved != nil {
            if let resolvingEventId { ids.append(resolvingEventId) }
            if let resolutionDetails { text += resolutionDetails }
        }
        var history: [AccountabilityPeriod] = []
        for p in periods where p.from <= u || history.isEmpty { history.append(p) }
        return Flag(id: id, rule: rule, subject: subject, subjectKind: subjectKind, referralId: referralId,
                    contractId: contractId, accountable: current.accountable, accountableKind: current.accountableKind,
                    area: current.area, since: since, resolvedAt: resolved, open: resolved == nil,
                    resolution: resolved == nil ? nil : resolution, details: text, eventIds: ids,
                    accountability: history)
    }
}
