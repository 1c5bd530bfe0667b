import AccordEvents
import Foundation

/// Day 0 of the test scenarios.
public let t0 = EventSamples.defaultStart

/// Day `d` (fractional) after `t0`.
public func day(_ d: Double) -> Timestamp {
    t0.adding(seconds: Int64((d * 86_400).rounded())) ?? t0
}

/// The sample probation office's source URN.
public let probationURN = "urn:accord:probation:nps-london"
/// The sample provider's source URN.
public let providerURN = "urn:accord:interventions:ace-payback"

/// Builds events for tests: every builder picks the next sequence number of its source and a
/// deterministic id, so a scenario is the same on every run.
public final class Feed: @unchecked Sendable {
    // @unchecked: a feed is built and used by one test at a time.
    private var sequences: [EventSource: Int64] = [:]
    private var counter: Int64 = 0
    private let salt: String

    /// A feed whose ids are derived from `salt`.
    public init(salt: String = "feed") { self.salt = salt }

    /// Builds an event.
    public func event(_ payload: EventPayload, at time: Timestamp, source: EventSource? = nil, sequence: Int64? = nil) -> AccordEvent {
        let src = source ?? EventSamples.source(for: payload.kind.owner)
        let seq = sequence ?? (sequences[src, default: 0] + 1)
        sequences[src] = max(seq, sequences[src, default: 0])
        counter += 1
        return AccordEvent(id: EventSamples.deterministicId(salt, src.urn, counter), source: src, time: time,
                           sequence: seq, payload: payload)
    }

    // probation
    /// Builds an event.
    public func opened(_ caseId: String = "X000001", at: Timestamp = t0, risk: RiskLevel = .medium, area: String = "london-north",
                order: OrderType = .communityOrder, requirements: [Requirement] = [.unpaidWork(hours: 100)]) -> AccordEvent {
        event(CaseOpened(caseId: caseId, orderType: order, requirements: requirements,
                         startDate: at.utcDate, expectedEndDate: at.utcDate.adding(days: 365) ?? at.utcDate,
                         area: area, riskLevel: risk).payload, at: at)
    }
    /// Builds an event.
    public func allocated(_ caseId: String = "X000001", at: Timestamp, practitioner: String = "PR-1", team: String = "north-team-1") -> AccordEvent {
        event(PractitionerAllocated(caseId: caseId, practitionerId: practitioner, team: team).payload, at: at)
    }
    /// Builds an event.
    public func risk(_ level: RiskLevel, caseId: String = "X000001", at: Timestamp) -> AccordEvent {
        event(RiskReassessed(caseId: caseId, riskLevel: level, reason: "Reviewed").payload, at: at)
    }
    /// Builds an event.
    public func referred(_ caseId: String = "X000001", _ referralId: String = "REF-1", contract: String = "CT-0001",
                  provider: String = "ace-payback", type: InterventionType = .unpaidWork, at: Timestamp) -> AccordEvent {
        event(InterventionReferred(caseId: caseId, referralId: referralId, contractId: contract, providerId: provider,
                                   interventionType: type, dueBy: at.utcDate.adding(days: 14) ?? at.utcDate).payload, at: at)
    }
    /// Builds an event.
    public func failure(_ failureId: String, caseId: String = "X000001", kind: ComplianceFailureKind = .missedAppointment,
                 referralId: String? = "REF-1", related: UUID? = nil, at: Timestamp) -> AccordEvent {
        event(ComplianceFailureRecorded(caseId: caseId, failureId: failureId, kind: kind, referralId: referralId,
                                        relatedEventId: related).payload, at: at)
    }
    /// Builds an event.
    public func action(_ action: EnforcementAction = .warning, caseId: String = "X000001", failures: [String] = [], at: Timestamp) -> AccordEvent {
        event(EnforcementActionTaken(caseId: caseId, action: action, failureIds: failures).payload, at: at)
    }
    /// Builds a transfer: `case-transferred.v2` when `office` names the receiving probation office, else v1.
    public func transferred(_ caseId: String = "X000001", from: String, to: String, practitioner: String? = nil,
                            office: String? = nil, at: Timestamp) -> AccordEvent {
        event(CaseTransferred(caseId: caseId, fromArea: from, toArea: to, newPractitionerId: practitioner,
                              toProbationId: office).payload, at: at)
    }
    /// Builds an event.
    public func closed(_ caseId: String = "X000001", _ outcome: CaseOutcome = .completed, at: Timestamp) -> AccordEvent {
        event(CaseClosed(caseId: caseId, outcome: outcome).payload, at: at)
    }

    // interventions
    /// Builds an event.
    public func accepted(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(ReferralAccepted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    /// Builds an event.
    public func declined(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(ReferralDeclined(caseId: caseId, referralId: referralId, providerId: "ace-payback", reason: "No capacity").payload, at: at)
    }
    /// Builds an event.
    public func started(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionStarted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    /// Builds an event.
    public func attended(_ caseId: String = "X000001", _ referralId: String = "REF-1", appointment: String = "AP-1", at: Timestamp) -> AccordEvent {
        event(AppointmentAttended(caseId: caseId, referralId: referralId, providerId: "ace-payback", appointmentId: appointment).payload, at: at)
    }
    /// Builds an event.
    public func missed(_ caseId: String = "X000001", _ referralId: String = "REF-1", appointment: String = "AP-2",
                acceptable: Bool, at: Timestamp) -> AccordEvent {
        event(AppointmentMissed(caseId: caseId, referralId: referralId, providerId: "ace-payback", appointmentId: appointment,
                                acceptable: acceptable, reason: acceptable ? "Evidenced illness" : "No reason given").payload, at: at)
    }
    /// Builds an event.
    public func hours(_ caseId: String = "X000001", _ referralId: String = "REF-1", _ hours: Double, at: Timestamp) -> AccordEvent {
        event(UnpaidWorkHoursLogged(caseId: caseId, referralId: referralId, providerId: "ace-payback", hours: hours,
                                    date: at.utcDate).payload, at: at)
    }
    /// Builds an event.
    public func violation(_ caseId: String = "X000001", _ referralId: String = "REF-1", id: String = "CV-1", at: Timestamp) -> AccordEvent {
        event(CurfewViolationDetected(caseId: caseId, referralId: referralId, providerId: "ace-payback", violationId: id,
                                      detectedAt: at, durationMinutes: 45).payload, at: at)
    }
    /// Builds an event.
    public func session(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(TreatmentSessionRecorded(caseId: caseId, referralId: referralId, providerId: "ace-payback", sessionType: "group").payload, at: at)
    }
    /// Builds an event.
    public func completed(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionCompleted(caseId: caseId, referralId: referralId, providerId: "ace-payback").payload, at: at)
    }
    /// Builds an event.
    public func endedEarly(_ caseId: String = "X000001", _ referralId: String = "REF-1", at: Timestamp) -> AccordEvent {
        event(InterventionEndedEarly(caseId: caseId, referralId: referralId, providerId: "ace-payback", reason: "Revoked").payload, at: at)
    }

    // commissioning and police
    /// Builds an event.
    public func awarded(_ contractId: String = "CT-0001", at: Timestamp = day(-30), type: InterventionType = .unpaidWork,
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
    /// Builds an event.
    public func varied(_ contractId: String = "CT-0001", at: Timestamp, price: Money? = nil, serviceLevels: ServiceLevels? = nil,
                maxRisk: RiskLevel? = nil) -> AccordEvent {
        event(ContractVaried(contractId: contractId, reason: "Variation", price: price, serviceLevels: serviceLevels,
                             maxRiskLevel: maxRisk).payload, at: at)
    }
    /// Builds an event.
    public func contractEnded(_ contractId: String = "CT-0001", at: Timestamp) -> AccordEvent {
        event(ContractEnded(contractId: contractId, reason: "Terminated early").payload, at: at)
    }
    /// Builds an event.
    public func priority(_ area: String = "london-north", _ priority: String, at: Timestamp) -> AccordEvent {
        event(LocalPrioritySet(area: area, commissionerId: "pcc-west", priority: priority).payload, at: at)
    }
    /// Builds an event.
    public func reoffence(_ caseId: String = "X000001", offence: String = "2025-04-01", at: Timestamp) -> AccordEvent {
        event(ProvenReoffenceRecorded(caseId: caseId, offenceDate: CalendarDate(offence) ?? EventSamples.defaultDate,
                                      provenDate: at.utcDate, offenceCategory: "theft").payload, at: at)
    }
}

/// Given-events / then-view scenario DSL: `given([...]).at(day(3)).then { view in ... }`.
