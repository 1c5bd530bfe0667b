import AccordEvents
import Foundation

/// A provider report that may call for an enforcement decision.
struct EnforcementTrigger: Sendable {
    enum Kind: Sendable { case curfewViolation, unacceptableAbsence, complianceFailure }
    let kind: Kind
    let at: Timestamp
    let eventId: String
    let referralId: String?
    /// The failure id for compliance failures.
    let failureId: String?
    let label: String
}

/// One referral as folded from its events.
struct ReferralFold: Sendable {
    var lifecycle: InterventionLifecycle
    var firstActivityAt: Timestamp?
    var firstActivityEventId: String?
    var referralEventId: String?
    /// Answer, start and finish events (accepted, declined, started, completed, ended early) in canonical order.
    var milestones: [(at: Timestamp, eventId: String)] = []

    /// When the referral stopped needing the provider's action (declined, completed or ended early).
    var finishedAt: Timestamp? {
        earliest(lifecycle.declinedAt, lifecycle.completedAt, lifecycle.endedEarlyAt)
    }

    /// First answer: accepted, declined or (implicitly accepting) started.
    var answeredAt: Timestamp? {
        earliest(lifecycle.acceptedAt, lifecycle.declinedAt, lifecycle.startedAt)
    }
}

/// The fold of one case's visible events in canonical order. Everything derived about the
/// case (view, flags, timeline) starts from here.
struct CaseFold: Sendable {
    let caseId: String
    var events: [RecordedEvent]
    var opened: (at: Timestamp, eventId: String, source: EventSource, data: CaseOpened)?
    var probationSource: EventSource?
    var area: String?
    var practitioner: PractitionerAssignment?
    /// Instants a practitioner was allocated (allocation or transfer naming one), with the event.
    var allocations: [(at: Timestamp, eventId: String)] = []
    var risk: [RiskEntry] = []
    var referrals: [String: ReferralFold] = [:]
    var referralOrder: [String] = []
    var failures: [ComplianceFailureEntry] = []
    var actions: [EnforcementActionEntry] = []
    var reoffences: [ProvenReoffenceEntry] = []
    var transfers: [TransferEntry] = []
    var triggers: [EnforcementTrigger] = []
    var closed: (at: Timestamp, outcome: CaseOutcome, eventId: String)?

    init(caseId: String, events: [RecordedEvent]) {
        self.caseId = caseId
        self.events = events
        for recorded in events { fold(recorded.event) }
    }

    var lastEventAt: Timestamp? { events.last?.event.time }

    /// The risk level in force at `t` (last set at or before it).
    func riskLevel(at t: Timestamp) -> RiskLevel? {
        var level: RiskLevel?
        for entry in risk {
            if entry.at > t { break }
            level = entry.riskLevel
        }
        return level
    }

    /// Unpaid work hours the order requires.
    var unpaidWorkHoursRequired: Double? {
        guard let opened else { return nil }
        var total = 0.0
        var any = false
        for case .unpaidWork(let hours) in opened.data.requirements where hours.isFinite {
            total += hours
            any = true
        }
        return any ? total : nil
    }

    private mutating func referral(_ referralId: String, providerId: String) -> ReferralFold {
        if let existing = referrals[referralId] { return existing }
        referralOrder.append(referralId)
        return ReferralFold(lifecycle: InterventionLifecycle(
            referralId: referralId, status: .activityWithoutReferral, contractId: nil, providerId: providerId,
            provider: providerURN(providerId), interventionType: nil, referredAt: nil, referredBy: nil, dueBy: nil,
            riskAtReferral: nil, acceptedAt: nil, declinedAt: nil, declineReason: nil, startedAt: nil,
            appointmentsAttended: 0, appointmentsMissedAcceptable: 0, appointmentsMissedUnacceptable: 0,
            missedAppointments: [], unpaidWorkHoursLogged: 0, unpaidWorkHoursRequired: nil, curfewViolations: [],
            treatmentSessions: 0, completedAt: nil, endedEarlyAt: nil, endedEarlyReason: nil, eventIds: []))
    }

    /// Applies a provider event to its referral.
    private mutating func provider(_ referralId: String, _ providerId: String, _ event: AccordEvent,
                                   _ update: (inout ReferralFold) -> Void) {
        var r = referral(referralId, providerId: providerId)
        let id = event.idString
        r.lifecycle.eventIds.append(id)
        if r.firstActivityAt == nil {
            r.firstActivityAt = event.time
            r.firstActivityEventId = id
        }
        update(&r)
        referrals[referralId] = r
    }

    private mutating func fold(_ event: AccordEvent) {
        let id = event.idString
        let t = event.time
        switch event.payload {
        case .probation(let p):
            if probationSource == nil { probationSource = event.source }
            switch p {
            case .caseOpened(let d):
                guard opened == nil else { break }
                opened = (t, id, event.source, d)
                probationSource = event.source
                if area == nil || transfers.isEmpty { area = d.area }
                risk.append(RiskEntry(at: t, riskLevel: d.riskLevel, reason: nil, eventId: id))
            case .practitionerAllocated(let d):
                practitioner = PractitionerAssignment(practitionerId: d.practitionerId, team: d.team, allocatedAt: t, eventId: id)
                allocations.append((t, id))
            case .riskReassessed(let d):
                risk.append(RiskEntry(at: t, riskLevel: d.riskLevel, reason: d.reason, eventId: id))
            case .interventionReferred(let d):
                var r = referral(d.referralId, providerId: d.providerId)
                if r.lifecycle.referredAt == nil {
                    r.lifecycle.referredAt = t
                    r.lifecycle.referredBy = event.source.urn
                    r.lifecycle.contractId = d.contractId
                    r.lifecycle.providerId = d.providerId
                    r.lifecycle.provider = providerURN(d.providerId)
                    r.lifecycle.interventionType = d.interventionType
                    r.lifecycle.dueBy = d.dueBy
                    r.lifecycle.riskAtReferral = riskLevel(at: t)
                    r.referralEventId = id
                }
                r.lifecycle.eventIds.append(id)
                referrals[d.referralId] = r
            case .complianceFailureRecorded(let d):
                failures.append(ComplianceFailureEntry(
                    failureId: d.failureId, kind: d.kind, referralId: d.referralId,
                    relatedEventId: d.relatedEventId.map { $0.uuidString.lowercased() }, at: t, eventId: id))
                triggers.append(EnforcementTrigger(kind: .complianceFailure, at: t, eventId: id, referralId: d.referralId,
                                                   failureId: d.failureId, label: "compliance failure \(d.failureId) (\(d.kind.rawValue))"))
            case .enforcementActionTaken(let d):
                actions.append(EnforcementActionEntry(action: d.action, failureIds: d.failureIds, at: t, eventId: id))
            case .caseTransferred(let d):
                transfers.append(TransferEntry(fromArea: d.fromArea, toArea: d.toArea, newPractitionerId: d.newPractitionerId,
                                               at: t, eventId: id))
                area = d.toArea
                if let practitionerId = d.newPractitionerId {
                    practitioner = PractitionerAssignment(practitionerId: practitionerId, team: nil, allocatedAt: t, eventId: id)
                    allocations.append((t, id))
                }
            case .caseClosed(let d):
                if closed == nil { closed = (t, d.outcome, id) }
            }
        case .interventions(let i):
            switch i {
            case .referralAccepted(let d):
                provider(d.referralId, d.providerId, event) {
                    if $0.lifecycle.acceptedAt == nil { $0.lifecycle.acceptedAt = t }
                    $0.milestones.append((t, id))
                }
            case .referralDeclined(let d):
                provider(d.referralId, d.providerId, event) {
                    if $0.lifecycle.declinedAt == nil {
                        $0.lifecycle.declinedAt = t
                        $0.lifecycle.declineReason = d.reason
                    }
                    $0.milestones.append((t, id))
                }
            case .interventionStarted(let d):
                provider(d.referralId, d.providerId, event) {
                    if $0.lifecycle.startedAt == nil { $0.lifecycle.startedAt = t }
                    $0.milestones.append((t, id))
                }
            case .appointmentAttended(let d):
                provider(d.referralId, d.providerId, event) { $0.lifecycle.appointmentsAttended += 1 }
            case .appointmentMissed(let d):
                provider(d.referralId, d.providerId, event) {
                    if d.acceptable { $0.lifecycle.appointmentsMissedAcceptable += 1 } else { $0.lifecycle.appointmentsMissedUnacceptable += 1 }
                    $0.lifecycle.missedAppointments.append(MissedAppointmentEntry(
                        appointmentId: d.appointmentId, acceptable: d.acceptable, reason: d.reason, at: t, eventId: id))
                }
                if !d.acceptable {
                    triggers.append(EnforcementTrigger(kind: .unacceptableAbsence, at: t, eventId: id, referralId: d.referralId,
                                                       failureId: nil, label: "unacceptable absence from appointment \(d.appointmentId)"))
                }
            case .unpaidWorkHoursLogged(let d):
                provider(d.referralId, d.providerId, event) { if d.hours.isFinite, d.hours > 0 { $0.lifecycle.unpaidWorkHoursLogged += d.hours } }
            case .curfewViolationDetected(let d):
                provider(d.referralId, d.providerId, event) {
                    $0.lifecycle.curfewViolations.append(CurfewViolationEntry(
                        violationId: d.violationId, detectedAt: d.detectedAt, durationMinutes: d.durationMinutes,
                        reportedAt: t, eventId: id))
                }
                triggers.append(EnforcementTrigger(kind: .curfewViolation, at: t, eventId: id, referralId: d.referralId,
                                                   failureId: nil, label: "curfew violation \(d.violationId)"))
            case .treatmentSessionRecorded(let d):
                provider(d.referralId, d.providerId, event) { $0.lifecycle.treatmentSessions += 1 }
            case .interventionCompleted(let d):
                provider(d.referralId, d.providerId, event) {
                    if $0.lifecycle.completedAt == nil { $0.lifecycle.completedAt = t }
                    $0.milestones.append((t, id))
                }
            case .interventionEndedEarly(let d):
                provider(d.referralId, d.providerId, event) {
                    if $0.lifecycle.endedEarlyAt == nil {
                        $0.lifecycle.endedEarlyAt = t
                        $0.lifecycle.endedEarlyReason = d.reason
                    }
                    $0.milestones.append((t, id))
                }
            }
        case .policeOutcome(.provenReoffenceRecorded(let d)):
            reoffences.append(ProvenReoffenceEntry(offenceDate: d.offenceDate, provenDate: d.provenDate,
                                                   offenceCategory: d.offenceCategory, at: t, eventId: id))
        case .commissioning:
            break
        }
    }

    /// The lifecycles with derived status and required hours, ordered by referral time
    /// (unreferred activity by first activity), then referral id.
    var lifecycles: [InterventionLifecycle] {
        let required = unpaidWorkHoursRequired
        var out: [(Timestamp?, String, InterventionLifecycle)] = []
        for id in referralOrder {
            guard let r = referrals[id] else { continue }
            var l = r.lifecycle
            l.status = ReferralFold.status(of: l)
            if l.interventionType == .unpaidWork { l.unpaidWorkHoursRequired = required }
            out.append((l.referredAt ?? r.firstActivityAt, id, l))
        }
        out.sort { a, b in
            switch (a.0, b.0) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.1 < b.1
            }
        }
        return out.map(\.2)
    }
}

extension ReferralFold {
    static func status(of l: InterventionLifecycle) -> InterventionStatus {
        if l.referredAt == nil { return .activityWithoutReferral }
        if l.completedAt != nil { return .completed }
        if l.endedEarlyAt != nil { return .endedEarly }
        if l.startedAt != nil { return .inProgress }
        if l.declinedAt != nil { return .declined }
        if l.acceptedAt != nil { return .accepted }
        return .referred
    }
}

/// The source URN of a provider named in a payload.
func providerURN(_ providerId: String) -> String { "urn:accord:interventions:\(providerId)" }
