import AccordEvents
import AccordSimulation
import Foundation

/// The partnership the end-to-end tests run: one probation office, one provider delivering
/// every intervention type and one commissioner, all in one area — three services in all.
enum Partnership {
    static let area = "e2e-north"
    static let probation = "nps-e2e"
    static let provider = "allpro"
    static let commissioner = "pcc-e2e"

    static func config(cases: Int, seed: UInt64) -> SimulationConfig {
        SimulationConfig(
            cases: cases, seed: seed,
            probationOffices: [ProbationOffice(id: probation, areas: [area], weight: 1)],
            commissioners: [Commissioner(id: commissioner, areas: [area])],
            providers: [Provider(id: provider, interventionTypes: InterventionType.allCases, areas: [area], maxRiskLevel: .high)],
            activitiesWithoutReferral: 2)
    }

    static var agencies: [(AgencyKind, String)] {
        [(.probation, probation), (.interventions, provider), (.commissioner, commissioner)]
    }

    /// Case references `X9…` that `used` does not contain.
    static func freshCaseIds(_ count: Int, avoiding used: Set<String>, from first: Int = 900_001) -> [String] {
        var ids: [String] = []
        var n = first
        while ids.count < count {
            let id = "X\(n)"
            if !used.contains(id) { ids.append(id) }
            n += 1
        }
        return ids
    }
}

/// Hand-made events with known accountability consequences:
/// - `unallocatedCase` is opened and never allocated → `case-unallocated`, accountable probation;
/// - `referredCase` is opened and allocated at once, then referred (`answeredReferral`) under a
///   contract not in the view (the 5-day default applies) and accepted 8 days later → a
///   `referral-unanswered` flag that is resolved at the acceptance;
/// - the provider reports a curfew violation on it → the probation service's worklist;
/// - it is referred again (`waitingReferral`) and never answered → the provider's worklist.
struct SpotScenario {
    let unallocatedCase: String
    let referredCase: String
    let opened: Timestamp
    let referredAt: Timestamp
    let acceptedAt: Timestamp
    let violationId = "CV-E2E-1"
    var answeredReferral: String { "REF-\(referredCase)-A" }
    var waitingReferral: String { "REF-\(referredCase)-B" }
    let unknownContract = "CT-0999"

    init(caseIds: [String], opened: Timestamp) {
        unallocatedCase = caseIds[0]
        referredCase = caseIds[1]
        self.opened = opened
        referredAt = opened.plus(days: 1)
        acceptedAt = referredAt.plus(days: 8)
    }

    var submissions: [Submission] {
        let probation = Partnership.probation
        let provider = Partnership.provider
        let start = opened.utcDate
        let end = start.adding(days: 365) ?? start
        func open(_ caseId: String) -> EventPayload {
            CaseOpened(caseId: caseId, orderType: .communityOrder,
                       requirements: [.curfew(hoursPerDay: 10, duration: .months(6)), .unpaidWork(hours: 80)],
                       startDate: start, expectedEndDate: end, area: Partnership.area, riskLevel: .low).payload
        }
        func probationEvent(_ time: Timestamp, _ payload: EventPayload) -> Submission {
            Submission(agency: .probation, agencyId: probation, time: time, data: payload, id: UUID())
        }
        func providerEvent(_ time: Timestamp, _ payload: EventPayload) -> Submission {
            Submission(agency: .interventions, agencyId: provider, time: time, data: payload, id: UUID())
        }
        let violationAt = opened.plus(days: 12)
        let dueBy = start.adding(days: 30) ?? start
        return [
            probationEvent(opened, open(unallocatedCase)),
            probationEvent(opened, open(referredCase)),
            probationEvent(opened.plus(days: 0.05),
                           PractitionerAllocated(caseId: referredCase, practitionerId: "PR-E2E", team: "e2e-team").payload),
            probationEvent(referredAt,
                           InterventionReferred(caseId: referredCase, referralId: answeredReferral, contractId: unknownContract,
                                                providerId: provider, interventionType: .curfewMonitoring, dueBy: dueBy).payload),
            providerEvent(acceptedAt,
                          ReferralAccepted(caseId: referredCase, referralId: answeredReferral, providerId: provider).payload),
            providerEvent(violationAt,
                          CurfewViolationDetected(caseId: referredCase, referralId: answeredReferral, providerId: provider,
                                                  violationId: violationId, detectedAt: violationAt, durationMinutes: 95).payload),
            probationEvent(opened.plus(days: 13),
                           InterventionReferred(caseId: referredCase, referralId: waitingReferral, contractId: unknownContract,
                                                providerId: provider, interventionType: .unpaidWork, dueBy: dueBy).payload),
        ]
    }
}
