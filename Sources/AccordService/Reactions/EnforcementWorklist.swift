import AccordEvents
import AccordProjection

/// An incident on a case this probation office holds that still awaits an enforcement decision.
public struct EnforcementWorkItem: Sendable, Hashable, Codable {
    /// The case.
    public var caseId: String
    /// What started it: `curfew-violation-detected`, `appointment-missed` or `compliance-failure-recorded`.
    public var event: String
    /// The event that started it (what a compliance failure's `relatedEventId` points at).
    public var eventId: String
    /// When it was reported: that event's time, from which the decision days count.
    public var occurredAt: String
    /// The provider that reported it; absent for a compliance failure probation recorded itself.
    public var providerId: String?
    /// The referral it happened under, if known.
    public var referralId: String?
    /// A short description, e.g. `No enforcement decision within 7 days of curfew violation CV-7 at …`.
    public var summary: String
    /// When the decision is due: `occurredAt` plus the rules' `enforcementDecisionDays`.
    public var decideBy: String
    /// Whether the decision is overdue: the view shows an open `enforcement-decision-overdue` flag for it.
    public var overdue: Bool
}

/// The probation service's enforcement worklist: the incidents (`docs/accountability-rules.md`,
/// rule 4) on cases this office holds that still await its decision, oldest first. Derived from
/// the projection's `enforcement-decision-overdue` obligations (`AccordProjection.Worklist`), so it
/// lists exactly the incidents the view would charge to this office: reports by the provider the
/// referral was made to and compliance failures, until a decision (an enforcement action with no
/// failure ids, or naming one of the incident's failures) or the case's closure, following
/// transfers of the case to and from this office.
public final class EnforcementWorklist: ReactionModel {
    /// Days allowed for an enforcement decision under the partnership's default rules.
    public static let decisionDays = ProjectionRules.defaults.enforcementDecisionDays

    /// This probation agency.
    public let source: EventSource
    private let view: ReactionView

    /// Creates an empty worklist for the probation agency `source`, with the partnership's rules,
    /// its view kept in a store file at `storePath` (any file there is replaced), or in a
    /// temporary directory when nil.
    public init(source: EventSource, rules: ProjectionRules = .defaults, storePath: String? = nil) throws {
        self.source = source
        view = try ReactionView(rules: rules, storePath: storePath)
    }

    /// Applies events in one pass of the projection (idempotent by event id).
    public func apply(_ events: [IncomingEvent]) throws {
        try view.apply(events)
    }

    /// The incidents awaiting this office's decision at `asOf` (as known now), oldest first.
    public func items(asOf: Timestamp) throws -> [EnforcementWorkItem] {
        try view.read { snapshot in
            let records = try snapshot.flagRecords(rule: .enforcementDecisionOverdue, unresolvedAt: asOf)
            let pending = Worklist.pending(records, rule: .enforcementDecisionOverdue, agency: source.urn, asOf: asOf)
            return try pending.compactMap { obligation -> EnforcementWorkItem? in
                let caseId = obligation.record.subject
                guard let start = obligation.startedBy else { return nil }
                // The event that started the incident, from the case's facts.
                let facts = try snapshot.facts.caseFacts(caseId)
                let fact = facts?.visible(asOf: start.at, knownAt: nil).first { $0.eventId == start.eventId }
                let provider = fact.flatMap { $0.source.kind == .interventions ? $0.source.agencyId : nil }
                return EnforcementWorkItem(
                    caseId: caseId, event: fact?.payload.kind.name ?? "", eventId: start.eventId,
                    occurredAt: start.at.rfc3339, providerId: provider, referralId: obligation.record.referralId,
                    summary: obligation.record.details, decideBy: obligation.dueBy.rfc3339, overdue: obligation.overdue)
            }
        }
    }
}
