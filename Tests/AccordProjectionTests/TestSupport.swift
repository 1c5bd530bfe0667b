import AccordEvents
import AccordProjection
import Foundation
import Testing

/// 2025-03-03T09:00:00Z, day 0 of every scenario.
let t0 = EventSamples.defaultStart

/// Day `d` (fractional) after `t0`.
func day(_ d: Double) -> Timestamp {
    t0.adding(seconds: Int64((d * 86_400).rounded())) ?? t0
}

let probationSource = EventSamples.probationSource
let providerSource = EventSamples.interventionsSource  // urn:accord:interventions:ace-payback
let commissionerSource = EventSamples.commissionerSource
let probationURN = "urn:accord:probation:nps-london"
let providerURN = "urn:accord:interventions:ace-payback"

/// Builds events with per-source sequence numbers 1, 2, 3 … (no gaps) and deterministic ids.
final class Feed {
    private var sequences: [EventSource: Int64] = [:]
    private var counter: Int64 = 0
    private let salt: String

    init(salt: String = "feed") { self.salt = salt }

    func event(_ payload: EventPayload, at time: Timestamp, source: EventSource? = nil, sequence: Int64? = nil) -> AccordEvent {
        let src = source ?? EventSamples.source(for: payload.kind.owner)
        let seq = sequence ?? (sequences[src, default: 0] + 1)
        sequences[src] = max(seq, sequences[src, default: 0])
        counter += 1
        return AccordEvent(id: EventSamples.deterministicId(salt, src.urn, counter), source: src, time: time,
                           sequence: seq, payload: payload)
    }

    // probation
    func opened(_ caseId: String = "X000001", at: Timestamp = t0, risk: RiskLevel = .medium, area: String = "london-north",
                order: OrderType = .communityOrder, requirements: [Requirement] = [.unpaidWork(hours: 100)]) -> AccordEvent {
        event(CaseOpened(caseId: caseId, orderType: order, requirements: requirements,
                         startDate: at.utcDate, expectedEndDate: at.utcDate.adding(days: 365) ?? at.utcDate,
                         area: area, riskLevel: risk).payload, at: at)
    }
    func allocated(_ caseId: String = "X000001", at: Timestamp, practitioner: String = "PR-1", team: String = "north-team-1") -> AccordEvent {
        event(PractitionerAllocated(caseId: caseId, practitionerId: practitioner, team: team).payload, at: at)
    }
    func risk(_ level: RiskLevel, caseId: String = "X000001", at: Timestamp) -> AccordEvent {
        event(RiskReassessed(caseId: caseId, riskLevel: level, reason: "Reviewed").payload, at: at)
    }
    func referred(_ caseId: String = "X000001", _ referralId: String = "REF-1", contract: String = "CT-0001",
                  provider: String = "ace-payback", type: InterventionType = .unpaidWork, at: Timestamp) -> AccordEvent {
        event(InterventionReferred(caseId: caseId, referralId: referralId, contractId: contract, providerId: provider,
                                   interventionType: type, dueBy: at.utcDate.adding(days: 14) ?? at.utcDate).payload, at: at)
    }
    func failure(_ failureId: String, caseId: String = "X000001", kind: ComplianceFailureKind = .missedAppointment,
                 referralId: String? = "REF-1", related: UUID? = nil, at: Timestamp) -> AccordEvent {
        event(ComplianceFailureRecorded(caseId: caseId, failureId: failureId, kind: kind, referralId: referralId,
                                        relatedEventId: related).payload, at: at)
    }
    func action(_ action: EnforcementAction = .warning, caseId: String = "X000001", failures: [String] = [], at: Timestamp) -> AccordEvent {
        event(EnforcementActionTaken(caseId: caseId, action: action, failureIds: failures).payload, at: at)
    }
    func transferred(_ caseId: String = "X000001", from: String, to: String, practitioner: String? = nil, at: Timestamp) -> AccordEvent {
        event(CaseTransferred(caseId: caseId, fromArea: from, toArea: to, newPractitionerId: practitioner).payload, at: at)
    }
    func closed(_ caseId: String = "X000001", _ outcome: CaseOutcome = .completed, at: Timestamp) -> AccordEvent {
        event(CaseClosed(caseId: caseId, outcome: outcome).payload, at: at)
    }

    // interventions
    func accepted(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(ReferralAccepted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    func declined(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(ReferralDeclined(caseId: caseId, referralId: referralId, providerId: "ace-payback", reason: "No capacity").payload, at: at)
    }
    func started(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionStarted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    func attended(_ caseId: String = "X000001", _ referralId: String = "REF-1", appointment: String = "AP-1", at: Timestamp) -> AccordEvent {
        event(AppointmentAttended(caseId: caseId, referralId: referralId, providerId: "ace-payback", appointmentId: appointment).payload, at: at)
    }
    func missed(_ caseId: String = "X000001", _ referralId: String = "REF-1", appointment: String = "AP-2",
                acceptable: Bool, at: Timestamp) -> AccordEvent {
        event(AppointmentMissed(caseId: caseId, referralId: referralId, providerId: "ace-payback", appointmentId: appointment,
                                acceptable: acceptable, reason: acceptable ? "Evidenced illness" : "No reason given").payload, at: at)
    }
    func hours(_ caseId: String = "X000001", _ referralId: String = "REF-1", _ hours: Double, at: Timestamp) -> AccordEvent {
        event(UnpaidWorkHoursLogged(caseId: caseId, referralId: referralId, providerId: "ace-payback", hours: hours,
                                    date: at.utcDate).payload, at: at)
    }
    func violation(_ caseId: String = "X000001", _ referralId: String = "REF-1", id: String = "CV-1", at: Timestamp) -> AccordEvent {
        event(CurfewViolationDetected(caseId: caseId, referralId: referralId, providerId: "ace-payback", violationId: id,
                                      detectedAt: at, durationMinutes: 45).payload, at: at)
    }
    func session(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(TreatmentSessionRecorded(caseId: caseId, referralId: referralId, providerId: "ace-payback", sessionType: "group").payload, at: at)
    }
    func completed(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionCompleted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    func endedEarly(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionEndedEarly(caseId: caseId, referralId: referralId, providerId: "ace-payback", reason: "Revoked").payload, at: at)
    }

    // commissioning and police
    func awarded(_ contractId: String = "CT-0001", at: Timestamp = day(-30), type: InterventionType = .unpaidWork,
                 area: String = "london-north", priceMinor: Int = 10_000_000, share: Double = 0.25,
                 metric: OutcomeMetric = .completion, responseDays: Int = 5, startDays: Int = 10,
                 minimumCompletion: Double = 0.75, maxRisk: RiskLevel = .high) -> AccordEvent {
        event(ContractAwarded(
            contractId: contractId, commissionerId: "pcc-west", providerId: "ace-payback", interventionType: type, area: area,
            periodStart: CalendarDate("2025-01-01") ?? EventSamples.defaultDate,
            periodEnd: CalendarDate("2025-12-31") ?? EventSamples.defaultDate,
            price: Money(amountMinor: priceMinor),
            paymentByResults: PaymentByResults(outcomePaymentShare: share, outcomeMetric: metric),
            serviceLevels: ServiceLevels(referralResponseDays: responseDays, startWithinDays: startDays,
                                         minimumCompletionRate: minimumCompletion),
            maxRiskLevel: maxRisk).payload, at: at)
    }
    func varied(_ contractId: String = "CT-0001", at: Timestamp, price: Money? = nil, serviceLevels: ServiceLevels? = nil,
                maxRisk: RiskLevel? = nil) -> AccordEvent {
        event(ContractVaried(contractId: contractId, reason: "Variation", price: price, serviceLevels: serviceLevels,
                             maxRiskLevel: maxRisk).payload, at: at)
    }
    func contractEnded(_ contractId: String = "CT-0001", at: Timestamp) -> AccordEvent {
        event(ContractEnded(contractId: contractId, reason: "Terminated early").payload, at: at)
    }
    func priority(_ area: String = "london-north", _ priority: String, at: Timestamp) -> AccordEvent {
        event(LocalPrioritySet(area: area, commissionerId: "pcc-west", priority: priority).payload, at: at)
    }
    func reoffence(_ caseId: String = "X000001", offence: String = "2025-04-01", at: Timestamp) -> AccordEvent {
        event(ProvenReoffenceRecorded(caseId: caseId, offenceDate: CalendarDate(offence) ?? EventSamples.defaultDate,
                                      provenDate: at.utcDate, offenceCategory: "theft").payload, at: at)
    }
}

/// Given-events / then-view scenario DSL: `given([...]).at(day(3)).then { view in ... }`.
struct Scenario {
    var state: ProjectionState

    func at(_ asOf: Timestamp, knownAt: Timestamp? = nil) -> ScenarioView {
        ScenarioView(state: state, asOf: asOf, knownAt: knownAt)
    }
}

/// The view of a scenario at one instant.
struct ScenarioView {
    let state: ProjectionState
    let asOf: Timestamp
    let knownAt: Timestamp?

    func then(_ body: (ScenarioView) throws -> Void) rethrows { try body(self) }

    func flags(_ rule: FlagRule? = nil, openOnly: Bool = false) -> [Flag] {
        state.flags(asOf: asOf, knownAt: knownAt, filter: FlagFilter(rule: rule, openOnly: openOnly))
    }
    func caseView(_ caseId: String = "X000001") -> CaseView? { state.caseView(caseId, asOf: asOf, knownAt: knownAt) }
    func timeline(_ caseId: String = "X000001") -> [TimelineEntry] { state.timeline(caseId, asOf: asOf, knownAt: knownAt) }
    func contract(_ id: String = "CT-0001") -> ContractPerformance? { state.contractPerformance(id, asOf: asOf, knownAt: knownAt) }
    func area(_ area: String = "london-north") -> AreaSummary { state.areaSummary(area, asOf: asOf, knownAt: knownAt) }
    var digest: String { state.digest(asOf: asOf, knownAt: knownAt) }
}

/// Applies events in order; each is recorded at its own event time unless `recordedAt` says otherwise.
func given(_ events: [AccordEvent], rules: ProjectionRules = .defaults,
           recordedAt: (AccordEvent) -> Timestamp = { $0.time }) -> Scenario {
    var state = ProjectionState(rules: rules)
    for e in events { state.apply(e, recordedAt: recordedAt(e)) }
    return Scenario(state: state)
}

/// A seeded SplitMix64 generator (deterministic across runs and platforms).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
