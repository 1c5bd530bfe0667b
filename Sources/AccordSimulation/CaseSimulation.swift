import AccordEvents
import Foundation

/// What every case simulation reads: the configuration, the contracts and the calendar.
struct WorldContext: Sendable {
    let config: SimulationConfig
    let contracts: [SimulatedContract]
    let period: Period
    /// Contracts by area and intervention type.
    let byAreaType: [String: [InterventionType: [SimulatedContract]]]
    let officeWeights: [Double]

    init(config: SimulationConfig, contracts: [SimulatedContract], period: Period) {
        self.config = config
        self.contracts = contracts
        self.period = period
        var map: [String: [InterventionType: [SimulatedContract]]] = [:]
        for c in contracts { map[c.area, default: [:]][c.interventionType, default: []].append(c) }
        byAreaType = map
        officeWeights = config.probationOffices.map(\.weight)
    }

    func commissioner(for area: String) -> String {
        config.commissioners.first { $0.areas.contains(area) }?.id ?? config.commissioners.first?.id ?? "pcc"
    }
}

/// One referral of a case and what became of it.
struct ReferralRecord {
    let referralId: String
    let contract: SimulatedContract
    let referredAt: Int64
    let dueEnd: Int64
    var respondedAt: Int64?
    var declined = false
    var acceptedAt: Int64?
    var startedAt: Int64?
    var riskNotCleared: Bool
}

/// An unacceptable absence or curfew violation that needs an enforcement decision.
struct Failure {
    let sec: Int64
    let eventId: UUID
    let referralId: String
    let kind: ComplianceFailureKind
}

/// Simulates one case from opening to closing (or the end of the period).
struct CaseSimulation {
    let index: Int
    let caseId: String
    let world: WorldContext
    var rng: SplitMix64
    var ids: IdSource
    var out: [Pending] = []
    var tally = Tally()
    var referrals: [ReferralRecord] = []
    var failures: [Failure] = []

    var period: Period { world.period }
    var thresholds: FlagThresholds { world.config.thresholds }

    // Case facts.
    let openSec: Int64
    let office: ProbationOffice
    let area: String
    let orderType: OrderType
    var risk: RiskLevel
    let requirements: [Requirement]
    let expectedEnd: CalendarDate
    /// Probability of missing any one appointment.
    let missRate: Double
    /// Share of misses that are acceptable.
    let acceptableShare: Double
    /// Where the case moves, and when, if it is transferred.
    var transfer: (sec: Int64, office: ProbationOffice, area: String)?

    init(index: Int, caseId: String, world: WorldContext) {
        self.index = index
        self.caseId = caseId
        self.world = world
        var rng = SplitMix64.stream(seed: world.config.seed, 1_000 + UInt64(index))
        ids = IdSource(seed: world.config.seed, stream: 1_000 + UInt64(index))
        let config = world.config
        let period = world.period

        // Opening: any weekday of the period, office hours.
        var openDay = period.startSec + Int64(rng.int(0...(max(0, config.days - 1)))) * Period.day
        while period.weekday(openDay) >= 5 { openDay += Period.day }
        openSec = openDay + 9 * Period.hour + Int64(rng.int(0...479)) * 60
        office = config.probationOffices[rng.weighted(world.officeWeights)]
        area = rng.pick(office.areas)
        orderType = [OrderType.communityOrder, .suspendedSentenceOrder, .licence][rng.weighted([0.5, 0.2, 0.3])]
        let riskWeights: [Double] = orderType == .licence ? [0.18, 0.47, 0.27, 0.08] : [0.36, 0.46, 0.15, 0.03]
        risk = [RiskLevel.low, .medium, .high, .veryHigh][rng.weighted(riskWeights)]

        var reqs: [Requirement] = []
        let months: Int
        switch orderType {
        case .communityOrder, .suspendedSentenceOrder:
            months = orderType == .communityOrder ? [6, 12, 12, 12, 18, 24][rng.int(0...5)] : [12, 12, 18, 24][rng.int(0...3)]
            if rng.chance(0.6) { reqs.append(.unpaidWork(hours: Double(rng.int(4...30) * 10))) }
            if rng.chance(0.22) {
                reqs.append(.curfew(hoursPerDay: Double([8, 10, 12][rng.int(0...2)]), duration: .months(rng.int(2...6))))
            }
            if rng.chance(0.2) { reqs.append(.drugTreatment) }
            if rng.chance(0.14) { reqs.append(.alcoholTreatment) }
            if rng.chance(0.2) { reqs.append(.accreditedProgramme(programme: rng.pick(Domain.programmes).0)) }
            if reqs.isEmpty { reqs.append(.unpaidWork(hours: Double(rng.int(4...15) * 10))) }
        case .licence:
            months = rng.int(6...18)
            if rng.chance(0.3) {
                let until = period.date(openSec).adding(days: rng.int(60...180)) ?? period.date(openSec)
                reqs.append(.curfew(hoursPerDay: 12, duration: rng.chance(0.5) ? .months(rng.int(2...6)) : .until(until)))
            }
            if rng.chance(0.22) { reqs.append(.drugTreatment) }
            if rng.chance(0.15) { reqs.append(.accreditedProgramme(programme: rng.pick(Domain.programmes).0)) }
        }
        requirements = reqs
        let startDate = period.date(openSec)
        expectedEnd = (CaseSimulation.adding(months: months, to: startDate)).adding(days: -1) ?? startDate

        let engagement = rng.weighted([0.7, 0.2, 0.1])
        missRate = [0.03, 0.08, 0.2][engagement]
        acceptableShare = [0.5, 0.4, 0.25][engagement]

        let transferSec = period.office(after: openSec, days: 45...200, &rng)
        if rng.chance(0.04), transferSec < period.sec(of: expectedEnd) - 14 * Period.day {
            let sec = transferSec
            let home = office, homeArea = area
            let sameOffice = home.areas.filter { $0 != homeArea }
            let others = config.probationOffices.filter { $0.id != home.id }
            if !sameOffice.isEmpty && (others.isEmpty || rng.chance(0.7)) {
                transfer = (sec, home, rng.pick(sameOffice))
            } else if !others.isEmpty {
                let to = rng.pick(others)
                transfer = (sec, to, rng.pick(to.areas))
            }
        }
        self.rng = rng
    }

    static func adding(months: Int, to date: CalendarDate) -> CalendarDate {
        let total = date.month - 1 + months
        let year = date.year + total / 12
        let month = total % 12 + 1
        let day = min(date.day, CalendarDate.daysIn(month: month, year: year))
        return CalendarDate(year: year, month: month, day: day) ?? date
    }

    /// The probation office holding the case at `sec`.
    func probationId(at sec: Int64) -> String {
        if let transfer, sec >= transfer.sec { return transfer.office.id }
        return office.id
    }

    @discardableResult
    mutating func emitProbation(_ sec: Int64, _ payload: EventPayload, correlation: String? = nil,
                                causation: UUID? = nil) -> UUID {
        let id = ids.next()
        out.append(Pending(sec: sec, agency: .probation, agencyId: probationId(at: sec), payload: payload, id: id,
                           correlationId: correlation ?? caseId, causationId: causation))
        return id
    }

    @discardableResult
    mutating func emitProvider(_ sec: Int64, _ r: Int, _ payload: EventPayload, causation: UUID? = nil,
                               terminal: Bool = false) -> UUID {
        let id = ids.next()
        let record = referrals[r]
        out.append(Pending(sec: sec, agency: .interventions, agencyId: record.contract.providerId, payload: payload,
                           id: id, correlationId: record.referralId, causationId: causation, referral: r,
                           terminal: terminal))
        return id
    }

    // MARK: - the case

    mutating func run() {
        let openedId = emitProbation(openSec, CaseOpened(
            caseId: caseId, orderType: orderType, requirements: requirements, startDate: period.date(openSec),
            expectedEndDate: expectedEnd, area: area, riskLevel: risk).payload)

        // Allocation: mostly within days, sometimes late, rarely not at all.
        let allocation = rng.weighted([0.9, 0.08, 0.02])
        var allocatedAt: Int64?
        if allocation < 2 {
            let t = allocation == 0
                ? period.office(after: openSec, days: 0...3, &rng)
                : period.office(after: openSec, days: (thresholds.unallocatedAfterDays + 1)...(thresholds.unallocatedAfterDays + 20), &rng)
            allocatedAt = t
            emitProbation(t, practitioner(area: area), causation: openedId)
        }
        let threshold = Int64(thresholds.unallocatedAfterDays) * Period.day
        if openSec + threshold < period.endSec, allocatedAt.map({ $0 - openSec > threshold }) ?? true {
            tally.flags[.caseUnallocated, default: 0] += 1
        }

        // Terminated cases (out of scope, death) end at a random point.
        var cutoff: Int64?
        var cutoffReason = "Case terminated by probation"
        var closeOutcome = CaseOutcome.completed
        if rng.chance(0.015) {
            cutoff = period.office(after: openSec, days: 30...300, &rng)
            closeOutcome = .terminated
        }

        // Referrals, one per requirement.
        let referFrom = allocatedAt ?? openSec
        for requirement in requirements {
            var referSec = rng.chance(0.85)
                ? period.office(after: referFrom, days: 0...5, &rng)
                : period.office(after: referFrom, days: 6...20, &rng)
            var excluded: Set<Int> = []
            for _ in 0..<2 {
                guard let contract = chooseContract(requirement.interventionType, excluding: excluded) else { break }
                let r = refer(requirement, contract, at: referSec)
                guard let declinedAt = referrals[r].declined ? referrals[r].respondedAt : nil else { break }
                excluded.insert(contract.index)
                referSec = period.office(after: declinedAt, days: 1...5, &rng)
            }
        }

        // Risk reassessments.
        var reviewSec = openSec
        for _ in 0..<(rng.chance(0.3) ? rng.int(1...2) : 0) {
            reviewSec = period.office(after: reviewSec, days: 30...150, &rng)
            let up = risk == .low ? true : risk == .veryHigh ? false : rng.chance(missRate > 0.1 ? 0.6 : 0.35)
            let levels: [RiskLevel] = [.low, .medium, .high, .veryHigh]
            risk = levels[risk.rank + (up ? 1 : -1)]
            emitProbation(reviewSec, RiskReassessed(caseId: caseId, riskLevel: risk,
                                                    reason: rng.pick(Domain.reassessmentReasons)).payload)
        }

        // Enforcement of unacceptable absences and curfew violations.
        failures.sort { $0.sec < $1.sec }
        var decisions = 0
        for (n, failure) in failures.enumerated() {
            if let c = cutoff, failure.sec >= c { break }
            let decisionLimit = Int64(thresholds.enforcementDecisionDays) * Period.day
            var decidedAt: Int64?
            if rng.chance(0.97) {
                let recorded = period.office(after: failure.sec, days: 0...2, &rng)
                let failureId = "CF-\(caseId)-\(n + 1)"
                let recordId = emitProbation(recorded, ComplianceFailureRecorded(
                    caseId: caseId, failureId: failureId, kind: failure.kind, referralId: failure.referralId,
                    relatedEventId: failure.eventId).payload, correlation: failure.referralId, causation: failure.eventId)
                let timing = rng.weighted([0.9, 0.08, 0.02])
                if timing < 2 {
                    var t: Int64
                    if timing == 0 {
                        let latest = max(recorded + 2 * Period.hour, failure.sec + decisionLimit - 2 * Period.day)
                        t = recorded + 2 * Period.hour + Int64(rng.int(0...Int(max(0, latest - recorded - 2 * Period.hour))))
                        t = period.businessHours(t, after: recorded)
                    } else {
                        t = period.office(after: failure.sec + decisionLimit, days: 1...20, &rng)
                    }
                    decidedAt = t
                    decisions += 1
                    let action = enforcementAction(decisionNumber: decisions)
                    emitProbation(t, EnforcementActionTaken(caseId: caseId, action: action,
                                                            failureIds: [failureId]).payload,
                                  correlation: failure.referralId, causation: recordId)
                    switch action {
                    case .warning: break
                    case .breach:
                        if rng.chance(0.35) {
                            let revoked = period.office(after: t, days: 14...42, &rng)
                            if cutoff.map({ revoked < $0 }) ?? true {
                                cutoff = revoked
                                cutoffReason = "Order revoked by the court"
                                closeOutcome = .revoked
                            }
                        }
                    case .recall:
                        let recalled = t + Period.hour
                        if cutoff.map({ recalled < $0 }) ?? true {
                            cutoff = recalled
                            cutoffReason = "Recalled to custody"
                            closeOutcome = .revoked
                        }
                    }
                }
            }
            let deadline = failure.sec + decisionLimit
            if deadline < min(period.endSec, cutoff ?? .max), decidedAt.map({ $0 - failure.sec > decisionLimit }) ?? true {
                tally.flags[.enforcementDecisionOverdue, default: 0] += 1
            }
        }

        // Cut everything after a revocation, recall or termination; end open interventions early.
        if let cutoff {
            out.removeAll { $0.sec > cutoff }
            var hasTerminal = Set<Int>()
            for p in out where p.terminal { hasTerminal.insert(p.referral) }
            for r in referrals.indices where !hasTerminal.contains(r) {
                guard let accepted = referrals[r].acceptedAt, accepted <= cutoff else { continue }
                let t = period.daytime(after: cutoff, days: 1...5, &rng)
                emitProvider(t, r, InterventionEndedEarly(caseId: caseId, referralId: referrals[r].referralId,
                                                          providerId: referrals[r].contract.providerId,
                                                          reason: cutoffReason).payload, terminal: true)
            }
        }

        // Transfer, if it happens while the case is open.
        let lastActivity = out.map(\.sec).max() ?? openSec
        var closeSec: Int64
        if let cutoff {
            closeSec = period.office(after: max(cutoff, lastActivity), days: 1...5, &rng)
        } else {
            let expectedEndSec = period.sec(of: expectedEnd)
            closeSec = max(period.office(after: expectedEndSec - 1, days: 0...2, &rng),
                           period.office(after: lastActivity, days: 2...7, &rng))
        }
        if let move = transfer {
            if cutoff.map({ move.sec < $0 }) ?? true {
                let withPractitioner = rng.chance(0.75)
                let newPractitioner = withPractitioner ? practitionerId(area: move.area) : nil
                let moveId = ids.next()
                out.append(Pending(sec: move.sec, agency: .probation, agencyId: office.id,
                                   payload: CaseTransferred(caseId: caseId, fromArea: area, toArea: move.area,
                                                            newPractitionerId: newPractitioner,
                                                            toProbationId: move.office.id).payload,
                                   id: moveId, correlationId: caseId))
                if !withPractitioner {
                    let t = period.office(after: move.sec, days: rng.chance(0.85) ? 1...4 : 7...12, &rng)
                    emitProbation(t, practitioner(area: move.area), causation: moveId)
                }
            } else {
                transfer = nil
            }
        }
        emitProbation(closeSec, CaseClosed(caseId: caseId, outcome: closeOutcome).payload)

        planReoffence(until: closeSec)
        countOutcomes()
    }

    private mutating func practitioner(area: String) -> EventPayload {
        PractitionerAllocated(caseId: caseId, practitionerId: practitionerId(area: area),
                              team: "\(area)-team-\(rng.int(1...6))").payload
    }

    private mutating func practitionerId(area: String) -> String {
        let areaIndex = world.config.probationOffices.flatMap(\.areas).firstIndex(of: area) ?? 0
        return "PR-" + pad((areaIndex + 1) * 1000 + rng.int(1...80), 4)
    }

    private mutating func enforcementAction(decisionNumber n: Int) -> EnforcementAction {
        let escalate: EnforcementAction = orderType == .licence ? .recall : .breach
        switch n {
        case 1: return .warning
        case 2: return rng.chance(orderType == .licence ? 0.3 : 0.35) ? escalate : .warning
        default: return escalate
        }
    }

    /// Picks the contract probation refers to: a cleared one by preference, now and then (or when
    /// none is cleared) one that is not cleared for the case's risk.
    private mutating func chooseContract(_ type: InterventionType, excluding: Set<Int>) -> SimulatedContract? {
        let candidates = (world.byAreaType[area]?[type] ?? []).filter { !excluding.contains($0.index) }
        guard !candidates.isEmpty else { return nil }
        let cleared = candidates.filter { $0.maxRiskLevel >= risk }
        let uncleared = candidates.filter { $0.maxRiskLevel < risk }
        if cleared.isEmpty || (!uncleared.isEmpty && rng.chance(0.07)) {
            return rng.pick(uncleared)
        }
        return cleared[rng.weighted(cleared.map(\.preference))]
    }

    /// Makes a referral and plays the provider's answer, start and delivery. Returns its index.
    private mutating func refer(_ requirement: Requirement, _ contract: SimulatedContract, at referSec: Int64) -> Int {
        let n = referrals.count + 1
        let referralId = "REF-\(caseId)-\(n)"
        let levels = contract.serviceLevels
        let dueBy = period.date(referSec).adding(days: levels.startWithinDays) ?? period.date(referSec)
        let notCleared = risk > contract.maxRiskLevel
        referrals.append(ReferralRecord(referralId: referralId, contract: contract, referredAt: referSec,
                                        dueEnd: period.sec(of: dueBy) + Period.day, riskNotCleared: notCleared))
        let r = referrals.count - 1
        tally.referrals += 1
        if notCleared { tally.flags[.riskNotCleared, default: 0] += 1 }
        let referralEvent = emitProbation(referSec, InterventionReferred(
            caseId: caseId, referralId: referralId, contractId: contract.contractId, providerId: contract.providerId,
            interventionType: contract.interventionType, dueBy: dueBy).payload, correlation: referralId)

        // The provider's answer.
        let under = contract.underperforming
        let neverAnswered = under ? 0.04 : 0.012
        let declineRate = notCleared ? 0.55 : 0.035
        let answer = rng.weighted([neverAnswered, declineRate, max(0, 1 - neverAnswered - declineRate)])
        let responseLimit = Int64(levels.referralResponseDays) * Period.day
        var respondedAt: Int64?
        if answer > 0 {
            var t: Int64
            if rng.chance(under ? 0.6 : 0.93) {
                let window = max(Period.hour, responseLimit - 2 * Period.hour)
                t = referSec + 30 * 60 + Int64(rng.int(0...Int(window)))
                t = period.businessHours(t, after: referSec)
            } else {
                t = period.daytime(after: referSec + responseLimit, days: 1...10, &rng)
            }
            respondedAt = t
            referrals[r].respondedAt = t
            if answer == 1 {
                referrals[r].declined = true
                let reason = notCleared ? "Provider is not cleared for \(risk.rawValue) risk cases"
                    : rng.pick(Domain.declineReasons)
                emitProvider(t, r, ReferralDeclined(caseId: caseId, referralId: referralId,
                                                    providerId: contract.providerId, reason: reason).payload,
                             causation: referralEvent)
            } else {
                referrals[r].acceptedAt = t
                let acceptedId = emitProvider(t, r, ReferralAccepted(caseId: caseId, referralId: referralId,
                                                                     providerId: contract.providerId).payload,
                                              causation: referralEvent)
                start(r, requirement, acceptedAt: t, acceptedId: acceptedId)
            }
        }
        if referSec + responseLimit < period.endSec, respondedAt.map({ $0 - referSec > responseLimit }) ?? true {
            tally.flags[.referralUnanswered, default: 0] += 1
        }
        return r
    }

    /// Starts (on time, late or never) and delivers an accepted referral.
    private mutating func start(_ r: Int, _ requirement: Requirement, acceptedAt: Int64, acceptedId: UUID) {
        let record = referrals[r]
        let under = record.contract.underperforming
        let timing = rng.weighted([under ? 0.7 : 0.91, under ? 0.25 : 0.075, under ? 0.05 : 0.015])
        var startSec: Int64?
        switch timing {
        case 0:
            let latest = max(acceptedAt + Period.hour, record.dueEnd - 2 * Period.hour)
            let t = acceptedAt + Period.hour + Int64(rng.int(0...Int(latest - acceptedAt - Period.hour)))
            startSec = period.businessHours(t, after: acceptedAt)
        case 1:
            startSec = period.daytime(after: max(record.dueEnd, acceptedAt), days: 1...21, &rng)
        default:
            let t = period.daytime(after: max(record.dueEnd, acceptedAt), days: 20...45, &rng)
            emitProvider(t, r, InterventionEndedEarly(caseId: caseId, referralId: record.referralId,
                                                      providerId: record.contract.providerId,
                                                      reason: "Did not attend the induction").payload,
                         causation: acceptedId, terminal: true)
        }
        if record.dueEnd < period.endSec, startSec.map({ $0 > record.dueEnd }) ?? true {
            tally.flags[.interventionNotStarted, default: 0] += 1
        }
        guard let startSec else { return }
        referrals[r].startedAt = startSec
        let startedId = emitProvider(startSec, r, InterventionStarted(caseId: caseId, referralId: record.referralId,
                                                                       providerId: record.contract.providerId).payload,
                                     causation: acceptedId)
        deliver(r, requirement, from: startSec, startedId: startedId)
    }

    // MARK: - delivery

    private mutating func deliver(_ r: Int, _ requirement: Requirement, from startSec: Int64, startedId: UUID) {
        let record = referrals[r]
        let type = record.contract.interventionType
        var earlyRate = Domain.endedEarlyRate(type)
        if record.contract.underperforming { earlyRate += 0.45 }
        let endsEarly = rng.chance(earlyRate)
        let caseId = caseId, referralId = record.referralId, providerId = record.contract.providerId
        let expectedEndSec = period.sec(of: expectedEnd)

        var sessions: Int
        var interval: Int64 = 7 * Period.day
        var hoursLeft = 0.0
        switch requirement {
        case .unpaidWork(let hours):
            hoursLeft = hours
            sessions = Int((hours / 6.5).rounded(.up))
            let available = max(Period.day * 21, (expectedEndSec - startSec) * 8 / 10)
            interval = min(7 * Period.day, max(3 * Period.day, available / Int64(max(1, sessions))))
        case .curfew(_, let duration):
            let endSec: Int64
            switch duration {
            case .months(let m): endSec = period.sec(of: CaseSimulation.adding(months: m, to: period.date(startSec)))
            case .until(let date): endSec = max(period.sec(of: date), startSec + 14 * Period.day)
            }
            sessions = max(1, Int((endSec - startSec) / (7 * Period.day)))
        case .drugTreatment: sessions = rng.int(12...26)
        case .alcoholTreatment: sessions = rng.int(8...16)
        case .accreditedProgramme(let programme):
            sessions = Domain.programmes.first { $0.0 == programme }?.1 ?? 20
        }
        let earlyAt = endsEarly ? max(1, sessions * rng.int(20...80) / 100) : Int.max

        var day = period.dayStart(startSec)
        var k = 0
        var last = startSec
        while k < sessions && k < 500 {
            k += 1
            day += interval
            if k >= earlyAt {
                let t = period.daytime(after: day, days: 0...2, &rng)
                emitProvider(t, r, InterventionEndedEarly(caseId: caseId, referralId: referralId, providerId: providerId,
                                                          reason: rng.pick(Domain.endedEarlyReasons(type))).payload,
                             causation: startedId, terminal: true)
                return
            }
            if type == .curfewMonitoring {
                // A week of monitoring: now and then a violation detected at night.
                if rng.chance(missRate * 0.5) {
                    let detected = day + 19 * Period.hour + Int64(rng.int(0...(11 * 60))) * 60
                    let minutes = [rng.int(5...30), rng.int(31...120), rng.int(121...480)][rng.weighted([0.5, 0.35, 0.15])]
                    let t = detected + Int64(rng.int(10...120)) * 60
                    let id = emitProvider(t, r, CurfewViolationDetected(
                        caseId: caseId, referralId: referralId, providerId: providerId,
                        violationId: "CV-\(caseId)-\(r + 1)-\(k)", detectedAt: period.timestamp(detected),
                        durationMinutes: minutes).payload)
                    failures.append(Failure(sec: t, eventId: id, referralId: referralId, kind: .curfewViolation))
                    last = t
                }
                continue
            }
            let t = period.daytime(after: day, days: 0...0, &rng)
            last = t
            let appointmentId = "AP-\(caseId)-\(r + 1)-\(k)"
            if rng.chance(missRate) {
                let acceptable = rng.chance(acceptableShare)
                let id = emitProvider(t, r, AppointmentMissed(
                    caseId: caseId, referralId: referralId, providerId: providerId, appointmentId: appointmentId,
                    acceptable: acceptable,
                    reason: rng.pick(acceptable ? Domain.acceptableAbsences : Domain.unacceptableAbsences)).payload)
                if !acceptable {
                    failures.append(Failure(sec: t, eventId: id, referralId: referralId, kind: .missedAppointment))
                }
                if type == .unpaidWork { sessions += 1 }
                continue
            }
            switch type {
            case .unpaidWork:
                let hours = min(hoursLeft, [7, 7, 7, 6, 5, 3.5][rng.int(0...5)])
                hoursLeft -= hours
                emitProvider(t, r, UnpaidWorkHoursLogged(caseId: caseId, referralId: referralId, providerId: providerId,
                                                         hours: hours, date: period.date(t)).payload)
                if hoursLeft > 0 && k >= sessions { sessions += 1 }
                if hoursLeft <= 0 { k = sessions }
            case .drugTreatment, .alcoholTreatment:
                let kinds = type == .drugTreatment ? ["one-to-one", "group", "drug-test"] : ["one-to-one", "group", "breath-test"]
                let weights: [Double] = type == .drugTreatment ? [0.5, 0.3, 0.2] : [0.55, 0.35, 0.1]
                emitProvider(t, r, TreatmentSessionRecorded(caseId: caseId, referralId: referralId,
                                                            providerId: providerId,
                                                            sessionType: kinds[rng.weighted(weights)]).payload)
            case .accreditedProgramme, .curfewMonitoring:
                emitProvider(t, r, AppointmentAttended(caseId: caseId, referralId: referralId, providerId: providerId,
                                                       appointmentId: appointmentId).payload)
            }
        }
        let t = period.daytime(after: max(last, day), days: 1...3, &rng)
        emitProvider(t, r, InterventionCompleted(caseId: caseId, referralId: referralId, providerId: providerId).payload,
                     causation: startedId, terminal: true)
    }

    // MARK: - outcomes

    private mutating func planReoffence(until closeSec: Int64) {
        let base = missRate > 0.2 ? 0.26 : missRate > 0.1 ? 0.13 : 0.05
        let factor = risk >= .high ? 1.3 : 1.0
        guard rng.chance(base * factor) else { return }
        let span = max(Period.day, closeSec - openSec)
        let offence = openSec + 7 * Period.day + Int64(rng.int(0...Int(span / Period.day))) * Period.day
        let proven = offence + Int64(rng.int(21...150)) * Period.day
        let published = period.office(after: proven, days: 1...7, &rng)
        let id = ids.next()
        out.append(Pending(sec: published, agency: .commissioner, agencyId: world.commissioner(for: area),
                           payload: ProvenReoffenceRecorded(caseId: caseId, offenceDate: period.date(offence),
                                                            provenDate: period.date(proven),
                                                            offenceCategory: rng.pick(Domain.offenceCategories)).payload,
                           id: id, correlationId: caseId))
    }

    /// Counts completions and early endings per contract within the period.
    private mutating func countOutcomes() {
        for p in out where p.terminal && p.sec < period.endSec && p.referral >= 0 {
            let contract = referrals[p.referral].contract.index
            if case .interventions(.interventionCompleted) = p.payload {
                tally.completedByContract[contract, default: 0] += 1
            } else {
                tally.endedEarlyByContract[contract, default: 0] += 1
            }
        }
    }
}
