import AccordEvents

/// Whether a contract is in force at `asOf`.
public enum ContractStatus: String, Codable, Sendable, Hashable {
    /// Awarded and not ended (by event or by its period).
    case active
    /// Ended by a contract-ended event or past its period end.
    case ended
    /// Named by referrals but not awarded in the view.
    case unknown
}

/// Whether a service level is met at `asOf`.
public enum ServiceLevelState: String, Codable, Sendable, Hashable {
    /// The rate is at or above its target.
    case met
    /// The rate is below its target.
    case missed
    /// Fewer than `minimumOutcomesForRate` cases to judge.
    case insufficientData = "insufficient-data"
}

/// One service level's target, actual rate and state.
public struct ServiceLevelStatus: Codable, Sendable, Hashable {
    /// `referral-response`, `start` or `completion`.
    public var name: String
    /// The day limit, for response and start.
    public var limitDays: Int?
    /// The minimum rate.
    public var target: Double
    /// The actual rate (nil with no cases).
    public var actual: Double?
    /// How many cases the rate is over.
    public var basis: Int
    /// Met, missed or insufficient data.
    public var state: ServiceLevelState
}

/// Counts of a contract's referrals at `asOf`.
public struct ContractCounts: Codable, Sendable, Hashable {
    /// Referrals made under the contract.
    public var referrals: Int
    /// Accepted.
    public var accepted: Int
    /// Declined.
    public var declined: Int
    /// Neither answered nor started.
    public var pending: Int
    /// Started.
    public var started: Int
    /// Started within the start limit from referral.
    public var startedWithinLimit: Int
    /// Completed.
    public var completed: Int
    /// Ended early.
    public var endedEarly: Int
    /// Answered (accepted, declined or started).
    public var answered: Int
    /// Answered within the response limit.
    public var answeredWithinLimit: Int
    /// Referrals whose response was due (answered, or past the limit).
    public var responseDue: Int
    /// Accepted referrals whose start was due (started, or past the limit).
    public var startDue: Int
}

/// A contract's rates at `asOf` (nil where the denominator is zero).
public struct ContractRates: Codable, Sendable, Hashable {
    /// answeredWithinLimit / responseDue.
    public var responseWithinLimit: Double?
    /// startedWithinLimit / startDue.
    public var startWithinLimit: Double?
    /// completed / (completed + endedEarly).
    public var completion: Double?
}

/// Payment by results for a contract at `asOf`, in minor units of `currency`.
///
/// - fixed part = price × (1 − outcomePaymentShare)
/// - outcome part = price × outcomePaymentShare × outcome rate, where the outcome rate is the
///   completion rate (completed / (completed + ended early)) for metric `completion`, and for
///   `no-proven-reoffence` the share of cases with a completed referral under the contract that
///   have no proven reoffence committed within the contract period. With no outcome yet the
///   rate is nil and the outcome part 0.
/// - total = fixed part + outcome part
///
/// Each part is rounded half-to-even to a whole minor unit; the price is the current price
/// (after variations).
public struct PaymentByResultsStatement: Codable, Sendable, Hashable {
    /// Currency of every amount.
    public var currency: Currency
    /// The contract price.
    public var priceMinor: Int
    /// Share of the price paid on the outcome.
    public var outcomePaymentShare: Double
    /// The outcome metric.
    public var outcomeMetric: OutcomeMetric
    /// The outcome rate used (nil: no outcome yet).
    public var outcomeRate: Double?
    /// How the outcome rate was counted, e.g. `3 of 4 outcomes completed`.
    public var outcomeBasis: String
    /// price × (1 − share), rounded half-even.
    public var fixedPaymentMinor: Int
    /// price × share × rate, rounded half-even.
    public var outcomePaymentMinor: Int
    /// price × share, the most the outcome part can earn.
    public var maximumOutcomePaymentMinor: Int
    /// fixed + outcome.
    public var totalPaymentMinor: Int
}

/// A contract's terms, delivery performance, service-level state and payment by results at `asOf`.
public struct ContractPerformance: Codable, Sendable, Hashable {
    /// The contract id.
    public var contractId: String
    /// The instant described.
    public var asOf: Timestamp
    /// Active, ended or unknown.
    public var status: ContractStatus
    /// Current terms (nil when not awarded in the view).
    public var terms: ContractTerms?
    /// When awarded.
    public var awardedAt: Timestamp?
    /// The commissioner's source URN.
    public var commissionerSource: String?
    /// When ended, by event or by period end (start of the day after).
    public var endedAt: Timestamp?
    /// Why it ended.
    public var endReason: String?
    /// Variations, oldest first.
    public var variations: [ContractVariationEntry]
    /// Referral counts.
    public var counts: ContractCounts
    /// Rates.
    public var rates: ContractRates
    /// Mean days from referral to first answer.
    public var averageDaysToRespond: Double?
    /// Mean days from referral to start.
    public var averageDaysToStart: Double?
    /// Proven reoffences committed within the contract period by cases referred under it.
    public var provenReoffences: Int
    /// Distinct referred cases with such a reoffence.
    public var casesWithProvenReoffence: Int
    /// Each service level's state.
    public var serviceLevels: [ServiceLevelStatus]
    /// Payment by results (nil when not awarded in the view).
    public var payment: PaymentByResultsStatement?
    /// Open flags about the contract.
    public var openFlags: [Flag]
}
