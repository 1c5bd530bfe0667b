import AccordEvents
import AccordProjection

/// A referral waiting for this provider's answer.
public struct ReferralWorkItem: Sendable, Hashable, Codable {
    /// The referral.
    public var referralId: String
    /// The case referred.
    public var caseId: String
    /// The contract the referral is made under.
    public var contractId: String
    /// What is asked for.
    public var interventionType: String
    /// The probation agency that referred (its source URN).
    public var referredBy: String
    /// When the referral was made (the referral event's time).
    public var referredAt: String
    /// The date the intervention is due by.
    public var dueBy: String
    /// When the provider must answer: the referral's time plus the response days of the contract
    /// terms in force at the referral, or of the rules file when the contract is not known then
    /// (the `referral-unanswered` deadline, `docs/accountability-rules.md`).
    public var respondBy: String
    /// Response days used for `respondBy`.
    public var responseDays: Int
    /// Whether `responseDays` comes from the contract (false: the rules file's default).
    public var contractKnown: Bool
    /// Whether the answer is overdue: the view shows an open `referral-unanswered` flag for it.
    public var overdue: Bool
}

/// The interventions service's worklist: referrals addressed to this provider that still await
/// its answer, oldest first. Derived from the projection's `referral-unanswered` obligations
/// (`AccordProjection.Worklist`), so a referral is listed exactly while the view's rule says the
/// provider still owes an answer: until it accepts, declines, starts or finishes the work, or the
/// case closes; and it is overdue exactly when the view shows the flag open.
public final class ReferralWorklist: ReactionModel {
    /// Response days used when the contract is not known from the commissioning topic.
    public static let defaultResponseDays = ProjectionRules.defaults.referralResponseDays

    /// This provider.
    public let source: EventSource
    private let view: ReactionView

    /// Creates an empty worklist for the provider `source`, with the partnership's rules, its
    /// view kept in a store file at `storePath` (any file there is replaced), or in a temporary
    /// directory when nil.
    public init(source: EventSource, rules: ProjectionRules = .defaults, storePath: String? = nil) throws {
        self.source = source
        view = try ReactionView(rules: rules, storePath: storePath)
    }

    /// Applies events in one pass of the projection (idempotent by event id).
    public func apply(_ events: [IncomingEvent]) throws {
        try view.apply(events)
    }

    /// The referrals awaiting this provider's answer at `asOf` (as known now), oldest first.
    public func items(asOf: Timestamp) throws -> [ReferralWorkItem] {
        try view.read { snapshot in
            let records = try snapshot.flagRecords(rule: .referralUnanswered, unresolvedAt: asOf)
            let pending = Worklist.pending(records, rule: .referralUnanswered, agency: source.urn, asOf: asOf)
            return try pending.compactMap { obligation -> ReferralWorkItem? in
                let caseId = obligation.record.subject
                // The referral event that started the obligation, from the case's facts.
                guard let start = obligation.startedBy, let referralId = obligation.record.referralId,
                      let facts = try snapshot.facts.caseFacts(caseId),
                      let fact = facts.visible(asOf: start.at, knownAt: nil).first(where: { $0.eventId == start.eventId }),
                      case .probation(.interventionReferred(let referral)) = fact.payload else { return nil }
                let contract = try snapshot.facts.contractFacts(referral.contractId)
                    .map { ContractFold(contractId: referral.contractId, facts: $0.visible(asOf: fact.time, knownAt: nil)) }
                let days = Int((obligation.dueBy.secondsSinceEpoch - fact.time.secondsSinceEpoch) / 86_400)
                return ReferralWorkItem(
                    referralId: referralId, caseId: caseId, contractId: referral.contractId,
                    interventionType: referral.interventionType.rawValue, referredBy: fact.source.urn,
                    referredAt: fact.time.rfc3339, dueBy: referral.dueBy.description,
                    respondBy: obligation.dueBy.rfc3339, responseDays: days, contractKnown: contract?.awardedAt != nil,
                    overdue: obligation.overdue)
            }
        }
    }
}
