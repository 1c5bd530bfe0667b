import AccordEvents
import AccordProjection
import Foundation

/// Plays the whole simulated period: the world's set-up, every case and the stray provider activity.
struct Planner {
    let config: SimulationConfig
    let contracts: [SimulatedContract]
    let period: Period
    var pending: [Pending] = []
    var tally = Tally()
    var caseIds: [String] = []
    var caseOpenSecs: [Int64] = []
    var caseAreas: [String] = []
    var caseOffices: [String] = []

    init(config: SimulationConfig, contracts: [SimulatedContract]) {
        self.config = config
        self.contracts = contracts
        self.period = Period(config)
    }

    mutating func run() -> SimulationPlan {
        pending.reserveCapacity(config.cases * 45 + contracts.count + 16)
        planCommissioning()
        let ids = makeCaseIds()
        let world = WorldContext(config: config, contracts: contracts, period: period)
        for (i, caseId) in ids.enumerated() {
            var simulation = CaseSimulation(index: i, caseId: caseId, world: world)
            simulation.run()
            caseOpenSecs.append(simulation.openSec)
            caseAreas.append(simulation.area)
            caseOffices.append(simulation.office.id)
            pending.append(contentsOf: simulation.out)
            tally.merge(simulation.tally)
        }
        caseIds = ids
        planActivityWithoutReferral()

        // Keep the period only, then sort by time, stable by generation order.
        let end = period.endSec
        var order = Array(pending.indices.filter { pending[$0].sec < end && pending[$0].sec >= period.startSec })
        order.sort { (pending[$0].sec, $0) < (pending[$1].sec, $1) }
        var submissions: [Submission] = []
        submissions.reserveCapacity(order.count)
        for i in order {
            let p = pending[i]
            submissions.append(Submission(agency: p.agency, agencyId: p.agencyId, time: period.timestamp(p.sec),
                                          data: p.payload, id: p.id, correlationId: p.correlationId,
                                          causationId: p.causationId))
        }
        let summary = SimulationSummary(submissions: submissions, cases: ids.count, contracts: contracts,
                                        tally: tally, thresholds: config.thresholds)
        return SimulationPlan(submissions: submissions, summary: summary)
    }

    /// Distinct pseudonymous case references `X` + six digits.
    private func makeCaseIds() -> [String] {
        var rng = SplitMix64.stream(seed: config.seed, 2)
        var seen = Set<Int>()
        var out: [String] = []
        out.reserveCapacity(config.cases)
        while out.count < config.cases {
            let n = rng.int(100_000...999_999)
            if seen.insert(n).inserted { out.append("X" + String(n)) }
        }
        return out
    }

    private mutating func planCommissioning() {
        var rng = SplitMix64.stream(seed: config.seed, 1)
        var ids = IdSource(seed: config.seed, stream: 1)
        let startDay = period.startSec
        let periodEnd = config.start.adding(days: 2 * 365 - 1) ?? config.start
        for contract in contracts {
            let t = startDay + 9 * Period.hour + Int64(contract.index) * 120 + Int64(rng.int(0...59))
            let payload = ContractAwarded(
                contractId: contract.contractId, commissionerId: contract.commissionerId,
                providerId: contract.providerId, interventionType: contract.interventionType, area: contract.area,
                periodStart: config.start, periodEnd: periodEnd, price: contract.price,
                paymentByResults: contract.paymentByResults, serviceLevels: contract.serviceLevels,
                maxRiskLevel: contract.maxRiskLevel).payload
            pending.append(Pending(sec: t, agency: .commissioner, agencyId: contract.commissionerId, payload: payload,
                                   id: ids.next(), correlationId: contract.contractId))
        }
        for commissioner in config.commissioners {
            for area in commissioner.areas {
                var priorities = Domain.priorities
                for _ in 0..<rng.int(1...2) {
                    let priority = priorities.remove(at: rng.int(0...(priorities.count - 1)))
                    let t = period.office(after: startDay, days: 1...14, &rng)
                    pending.append(Pending(sec: t, agency: .commissioner, agencyId: commissioner.id,
                                           payload: LocalPrioritySet(area: area, commissionerId: commissioner.id,
                                                                     priority: priority).payload,
                                           id: ids.next(), correlationId: area))
                }
            }
        }
        // Mid-period price variation of the busiest kind of contract (curfew monitoring), when the period allows.
        if config.days >= 60, let varied = contracts.first(where: { $0.interventionType == .curfewMonitoring }) {
            let t = period.office(after: startDay, days: (config.days / 2)...(config.days / 2 + 7), &rng)
            let price = Money(amountMinor: varied.price.amountMinor / 100 * 112)
            pending.append(Pending(sec: t, agency: .commissioner, agencyId: varied.commissionerId,
                                   payload: ContractVaried(contractId: varied.contractId,
                                                           reason: "Demand higher than forecast", price: price).payload,
                                   id: ids.next(), correlationId: varied.contractId))
            tally.variedContracts += 1
        }
    }

    /// Provider events about referrals probation had not made; every second one is referred a few days later.
    private mutating func planActivityWithoutReferral() {
        guard !caseIds.isEmpty, !contracts.isEmpty else { return }
        var rng = SplitMix64.stream(seed: config.seed, 3)
        var ids = IdSource(seed: config.seed, stream: 3)
        for k in 0..<config.activitiesWithoutReferral {
            let c = rng.int(0...(caseIds.count - 1))
            let caseId = caseIds[c]
            let area = caseAreas[c]
            let candidates = contracts.filter { $0.area == area }
            let contract = candidates.isEmpty ? rng.pick(contracts) : rng.pick(candidates)
            let referralId = "REF-\(caseId)-U\(k + 1)"
            let t = period.daytime(after: caseOpenSecs[c], days: 3...40, &rng)
            let payload: EventPayload
            switch contract.interventionType {
            case .unpaidWork:
                payload = UnpaidWorkHoursLogged(caseId: caseId, referralId: referralId, providerId: contract.providerId,
                                                hours: 7, date: period.date(t)).payload
            case .drugTreatment, .alcoholTreatment:
                payload = TreatmentSessionRecorded(caseId: caseId, referralId: referralId,
                                                   providerId: contract.providerId, sessionType: "one-to-one").payload
            case .curfewMonitoring, .accreditedProgramme:
                payload = AppointmentAttended(caseId: caseId, referralId: referralId, providerId: contract.providerId,
                                              appointmentId: "AP-\(caseId)-U\(k + 1)").payload
            }
            pending.append(Pending(sec: t, agency: .interventions, agencyId: contract.providerId, payload: payload,
                                   id: ids.next(), correlationId: referralId))
            if t < period.endSec { tally.flags[.activityWithoutReferral, default: 0] += 1 }
            // Every second one is put right: probation makes the referral a few days later.
            if k % 2 == 1 {
                let referredAt = period.daytime(after: t, days: 2...6, &rng)
                pending.append(Pending(sec: referredAt, agency: .probation, agencyId: caseOffices[c],
                                       payload: InterventionReferred(caseId: caseId, referralId: referralId,
                                                                     contractId: contract.contractId, providerId: contract.providerId,
                                                                     interventionType: contract.interventionType,
                                                                     dueBy: period.date(referredAt + 28 * Period.day)).payload,
                                       id: ids.next(), correlationId: referralId))
            }
        }
    }
}

/// Counters gathered while planning, for the summary.
struct Tally: Sendable {
    var referrals = 0
    var flags: [FlagRule: Int] = [:]
    var completedByContract: [Int: Int] = [:]
    var endedEarlyByContract: [Int: Int] = [:]
    var variedContracts = 0

    mutating func merge(_ other: Tally) {
        referrals += other.referrals
        for (k, v) in other.flags { flags[k, default: 0] += v }
        for (k, v) in other.completedByContract { completedByContract[k, default: 0] += v }
        for (k, v) in other.endedEarlyByContract { endedEarlyByContract[k, default: 0] += v }
        variedContracts += other.variedContracts
    }
}
