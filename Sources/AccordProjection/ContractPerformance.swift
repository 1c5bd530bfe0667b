import AccordEvents

/// Whether a contract is in force at `asOf`.
public enum ContractStatus: String, Codable, Sendable, Equatable {
    /// Awarded and not ended (by event or by its period).
    case active
    /// Ended by a contract-ended event or past its period end.
    case ended
    /// Named by referrals but not awarded in the view.
    case unknown
}

/// Whether a service level is met at `asOf`.
public enum ServiceLevelState: String, Codable, Sendable, Equatable {
    /// The rate is at or above its target.
    case met
    /// The rate is below its target.
    case missed
    /// Fewer than `minimumOutcomesForRate` cases to judge.
    case insufficientData = "insufficient-data"
}

/// One service level's target, actual rate and state.
public struct ServiceLevelStatus: Codable, Sendable, Equatable {
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
public struct ContractCounts: Codable, Sendable, Equatable {
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
public struct ContractRates: Codable, Sendable, Equatable {
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
public struct PaymentByResultsStatement: Codable, Sendable, Equatable {
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
public struct ContractPerformance: Codable, Sendable, Equatable {
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

extension ProjectionState {
    func computeContractPerformance(_ contractId: String, asOf: Timestamp, knownAt: Timestamp?) -> ContractPerformance? {
        let contract = contractFold(contractId, asOf: asOf, knownAt: knownAt)
        let referrals = referrals(underContract: contractId, asOf: asOf, knownAt: knownAt)
        guard contract != nil || !referrals.isEmpty else { return nil }
        let terms = contract?.currentTerms
        let minimum = rules.minimumOutcomesForRate

        var c = ContractCounts(referrals: 0, accepted: 0, declined: 0, pending: 0, started: 0, startedWithinLimit: 0,
                               completed: 0, endedEarly: 0, answered: 0, answeredWithinLimit: 0, responseDue: 0, startDue: 0)
        var respondDays: [Double] = []
        var startDays: [Double] = []
        var completedCases: Set<String> = []
        for (fold, r) in referrals {
            let l = r.lifecycle
            guard let referredAt = l.referredAt else { continue }
            let t = contract?.terms(at: referredAt)
            let responseLimit = t?.serviceLevels.referralResponseDays ?? rules.referralResponseDays
            let startLimit = t?.serviceLevels.startWithinDays ?? rules.startWithinDays
            c.referrals += 1
            if l.acceptedAt != nil { c.accepted += 1 }
            if l.declinedAt != nil { c.declined += 1 }
            if let answered = r.answeredAt {
                c.answered += 1
                c.responseDue += 1
                respondDays.append(answered.days(since: referredAt))
                if let deadline = referredAt.addingDays(responseLimit), answered <= deadline { c.answeredWithinLimit += 1 }
            } else {
                c.pending += 1
                if let deadline = referredAt.addingDays(responseLimit), asOf > deadline { c.responseDue += 1 }
            }
            let startDeadline = referredAt.addingDays(startLimit)
            if let started = l.startedAt {
                c.started += 1
                c.startDue += 1
                startDays.append(started.days(since: referredAt))
                if let startDeadline, started <= startDeadline { c.startedWithinLimit += 1 }
            } else if l.acceptedAt != nil, l.declinedAt == nil, let startDeadline, asOf > startDeadline {
                c.startDue += 1
            }
            if let done = l.completedAt, l.endedEarlyAt.map({ done <= $0 }) ?? true {
                c.completed += 1
                completedCases.insert(fold.caseId)
            } else if l.endedEarlyAt != nil {
                c.endedEarly += 1
            }
        }
        func ratio(_ n: Int, _ d: Int) -> Double? { d > 0 ? Double(n) / Double(d) : nil }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let rates = ContractRates(responseWithinLimit: ratio(c.answeredWithinLimit, c.responseDue),
                                  startWithinLimit: ratio(c.startedWithinLimit, c.startDue),
                                  completion: ratio(c.completed, c.completed + c.endedEarly))

        // Reoffences within the contract period among referred cases.
        var reoffences = 0
        var reoffendingCases: Set<String> = []
        var seenCases: Set<String> = []
        for (fold, _) in referrals where seenCases.insert(fold.caseId).inserted {
            for o in fold.reoffences where terms.map({ $0.periodStart <= o.offenceDate && o.offenceDate <= $0.periodEnd }) ?? true {
                reoffences += 1
                reoffendingCases.insert(fold.caseId)
            }
        }

        func level(_ name: String, _ days: Int?, _ target: Double, _ n: Int, _ d: Int) -> ServiceLevelStatus {
            let actual = ratio(n, d)
            let state: ServiceLevelState = d < minimum ? .insufficientData : ((actual ?? 0) >= target ? .met : .missed)
            return ServiceLevelStatus(name: name, limitDays: days, target: target, actual: actual, basis: d, state: state)
        }
        let levels = [
            level("referral-response", terms?.serviceLevels.referralResponseDays ?? rules.referralResponseDays,
                  rules.minimumResponseRate, c.answeredWithinLimit, c.responseDue),
            level("start", terms?.serviceLevels.startWithinDays ?? rules.startWithinDays,
                  rules.minimumStartRate, c.startedWithinLimit, c.startDue),
            level("completion", nil, terms?.serviceLevels.minimumCompletionRate ?? rules.minimumCompletionRate,
                  c.completed, c.completed + c.endedEarly),
        ]

        var payment: PaymentByResultsStatement?
        if let terms {
            let price = Double(terms.price.amountMinor)
            let share = terms.paymentByResults.outcomePaymentShare
            let rate: Double?
            let basis: String
            switch terms.paymentByResults.outcomeMetric {
            case .completion:
                rate = rates.completion
                basis = "\(c.completed) of \(c.completed + c.endedEarly) outcomes completed"
            case .noProvenReoffence:
                let clean = completedCases.subtracting(reoffendingCases).count
                rate = ratio(clean, completedCases.count)
                basis = "\(clean) of \(completedCases.count) completed cases with no proven reoffence in the contract period"
            }
            let fixed = minorUnits(price * (1 - share))
            let outcome = minorUnits(price * share * (rate ?? 0))
            let (total, overflow) = fixed.addingReportingOverflow(outcome)
            payment = PaymentByResultsStatement(
                currency: terms.price.currency, priceMinor: terms.price.amountMinor, outcomePaymentShare: share,
                outcomeMetric: terms.paymentByResults.outcomeMetric, outcomeRate: rate, outcomeBasis: basis,
                fixedPaymentMinor: fixed, outcomePaymentMinor: outcome, maximumOutcomePaymentMinor: minorUnits(price * share),
                totalPaymentMinor: overflow ? Int.max : total)
        }

        var status: ContractStatus = terms == nil ? .unknown : .active
        var endedAt = contract?.ended?.at
        var endReason = contract?.ended?.reason
        if let terms, let periodOver = terms.periodEnd.adding(days: 1).map({ Timestamp(startOf: $0) }),
           periodOver <= asOf, endedAt.map({ periodOver < $0 }) ?? true {
            endedAt = periodOver
            endReason = "contract period ended \(terms.periodEnd)"
        }
        if terms != nil, endedAt != nil { status = .ended }

        let flags = contractFlags(contractId, asOf: asOf, knownAt: knownAt).filter(\.open).sorted(by: Flag.precedes)
        return ContractPerformance(
            contractId: contractId, asOf: asOf, status: status, terms: terms, awardedAt: contract?.awardedAt,
            commissionerSource: contract?.commissionerSource, endedAt: endedAt,
            endReason: endReason,
            variations: contract?.variations ?? [], counts: c, rates: rates,
            averageDaysToRespond: mean(respondDays), averageDaysToStart: mean(startDays),
            provenReoffences: reoffences, casesWithProvenReoffence: reoffendingCases.count,
            serviceLevels: levels, payment: payment, openFlags: flags)
    }
}
