import AccordEvents

extension ContractPerformance {
    /// A contract's terms, performance and payment by results at `asOf`, from its fold (nil when
    /// not awarded in the view), the rows of the referrals made under it and its flags; nil when
    /// neither the contract nor any referral under it is in the view at `asOf`. Rows and flags may
    /// hold everything known: only what happened by `asOf` counts.
    public static func compute(contractId: String, contract: ContractFold?, rows: [ReferralRow], flags: [FlagRecord],
                        asOf: Timestamp, rules: ProjectionRules) -> ContractPerformance? {
        let visibleRows = rows.filter { $0.referredAt <= asOf }.sorted { ($0.caseId, $0.referralId) < ($1.caseId, $1.referralId) }
        let awarded = contract.flatMap { c in c.awardedAt.map { $0 <= asOf } ?? false ? c : nil }
        guard awarded != nil || !visibleRows.isEmpty else { return nil }
        let terms = awarded?.terms(at: asOf)
        let minimum = rules.minimumOutcomesForRate
        func seen(_ t: Timestamp?) -> Timestamp? { t.flatMap { $0 <= asOf ? $0 : nil } }

        var c = ContractCounts(referrals: 0, accepted: 0, declined: 0, pending: 0, started: 0, startedWithinLimit: 0,
                               completed: 0, endedEarly: 0, answered: 0, answeredWithinLimit: 0, responseDue: 0, startDue: 0)
        var respondDays: [Double] = []
        var startDays: [Double] = []
        var completedCases: Set<String> = []
        for row in visibleRows {
            c.referrals += 1
            let accepted = seen(row.acceptedAt)
            let declined = seen(row.declinedAt)
            if accepted != nil { c.accepted += 1 }
            if declined != nil { c.declined += 1 }
            if let answered = seen(row.answered?.at) {
                c.answered += 1
                c.responseDue += 1
                respondDays.append(answered.days(since: row.referredAt))
                if let deadline = row.responseDeadline, answered <= deadline { c.answeredWithinLimit += 1 }
            } else {
                c.pending += 1
                if let deadline = row.responseDeadline, asOf > deadline { c.responseDue += 1 }
            }
            if let started = seen(row.startedAt) {
                c.started += 1
                c.startDue += 1
                startDays.append(started.days(since: row.referredAt))
                if let deadline = row.startDeadline, started <= deadline { c.startedWithinLimit += 1 }
            } else if accepted != nil, declined == nil, let deadline = row.startDeadline, asOf > deadline {
                c.startDue += 1
            }
            if let outcome = row.outcome, outcome.at <= asOf {
                if outcome.completed {
                    c.completed += 1
                    completedCases.insert(row.caseId)
                } else {
                    c.endedEarly += 1
                }
            }
        }
        func ratio(_ n: Int, _ d: Int) -> Double? { d > 0 ? Double(n) / Double(d) : nil }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        let rates = ContractRates(responseWithinLimit: ratio(c.answeredWithinLimit, c.responseDue),
                                  startWithinLimit: ratio(c.startedWithinLimit, c.startDue),
                                  completion: ratio(c.completed, c.completed + c.endedEarly))

        // Proven reoffences within the contract period among referred cases.
        var reoffences = 0
        var reoffendingCases: Set<String> = []
        var counted: Set<String> = []
        for row in visibleRows where counted.insert(row.caseId).inserted {
            for mark in row.reoffences where mark.at <= asOf
                && terms.map({ $0.periodStart <= mark.offenceDate && mark.offenceDate <= $0.periodEnd }) ?? true {
                reoffences += 1
                reoffendingCases.insert(row.caseId)
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

        let endedAt = awarded?.endedAt.flatMap { $0 <= asOf ? $0 : nil }
        let status: ContractStatus = terms == nil ? .unknown : (endedAt == nil ? .active : .ended)
        let open = flags.compactMap { $0.flag(asOf: asOf) }.filter(\.open).sorted(by: Flag.precedes)
        return ContractPerformance(
            contractId: contractId, asOf: asOf, status: status, terms: terms, awardedAt: awarded?.awardedAt,
            commissionerSource: awarded?.commissionerSource, endedAt: endedAt,
            endReason: endedAt == nil ? nil : awarded?.endReason,
            variations: (awarded?.variations ?? []).filter { $0.at <= asOf }, counts: c, rates: rates,
            averageDaysToRespond: mean(respondDays), averageDaysToStart: mean(startDays),
            provenReoffences: reoffences, casesWithProvenReoffence: reoffendingCases.count,
            serviceLevels: levels, payment: payment, openFlags: open)
    }
}
