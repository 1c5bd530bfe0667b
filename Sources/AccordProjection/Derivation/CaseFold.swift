import AccordEvents
import Foundation

/// An event with its time and id: the unit most rules refer to. Keeps the id as 16 bytes; the
/// text form is made only where a record or flag shows it.
struct Stamp: Sendable, Hashable {
    let at: Timestamp
    let id: UUID

    init(at: Timestamp, id: UUID) {
        self.at = at
        self.id = id
    }

    init(_ fact: Fact) {
        at = fact.time
        id = fact.key.id
    }

    var eventId: String { id.lowercasedString }
    var ref: FlagEventRef { FlagEventRef(eventId: eventId, at: at) }
}

/// The probation office responsible for a case from an instant on.
struct OfficePeriod: Sendable, Hashable {
    let from: Timestamp
    let office: EventSource
}

/// A provider report or compliance failure that calls for an enforcement decision. Identified by
/// the event that first reported it: a provider report keeps its event id; a compliance failure that
/// names an earlier report of this case (`relatedEventId`) becomes part of that incident; any other
/// failure is its own incident, identified by its failure id.
struct Incident: Sendable {
    enum Kind: Sendable, Hashable { case curfewViolation, unacceptableAbsence, complianceFailure }
    let key: String
    let kind: Kind
    let start: Stamp
    let referralId: String?
    let label: String
    /// Failure ids recorded for the incident, with when.
    var failures: [(id: String, stamp: Stamp)] = []
}

/// One referral as folded from its facts. The provider a referral names is the only one whose
/// events answer and deliver it; another provider's events on the same referral id are "stray"
/// (activity without a referral for that provider).
struct ReferralFold: Sendable {
    let referralId: String
    /// The first intervention-referred fact, if any.
    var referral: (stamp: Stamp, office: EventSource, data: InterventionReferred)?
    /// The named provider (from the referral; before it, the first provider to act).
    var providerId: String
    var riskAtReferral: RiskLevel?
    var eventIds: [UUID] = []
    /// First activity by the named provider.
    var firstActivity: Stamp?
    var accepted: Stamp?
    var declined: (stamp: Stamp, reason: String)?
    var started: Stamp?
    var completed: Stamp?
    var endedEarly: (stamp: Stamp, reason: String)?
    var attended = 0
    var missedAcceptable = 0
    var missedUnacceptable = 0
    var missed: [(stamp: Stamp, data: AppointmentMissed)] = []
    var hours = 0.0
    var violations: [(stamp: Stamp, data: CurfewViolationDetected)] = []
    var sessions = 0
    /// Provider → first activity by a provider the referral does not name.
    var strays: [String: Stamp] = [:]
    var strayOrder: [String] = []
    /// Provider → the first later `intervention-referred` with this referral id naming a provider
    /// other than the first referral's (a re-referral under the same id).
    var rereferrals: [String: Stamp] = [:]

    init(referralId: String, providerId: String) {
        self.referralId = referralId
        self.providerId = providerId
    }

    /// First answer: accepted, declined or started.
    var answered: Stamp? { earliestStamp(accepted, declined?.stamp, started) }
    /// When the referral stopped needing the provider's action.
    var finished: Stamp? { earliestStamp(declined?.stamp, completed, endedEarly?.stamp) }

    /// The first `intervention-referred` of this referral id naming `providerId`, if any.
    func referral(naming providerId: String) -> Stamp? {
        if let referral, self.providerId == providerId { return referral.stamp }
        return rereferrals[providerId]
    }

    /// Whether the referral id was referred to `providerId` at or before `t`.
    func isReferred(to providerId: String, at t: Timestamp) -> Bool {
        referral(naming: providerId).map { $0.at <= t } ?? false
    }
    var provider: String { providerURNString(providerId) }
    var contractId: String? { referral?.data.contractId }
}

func earliestStamp(_ values: Stamp?...) -> Stamp? {
    var best: Stamp?
    for case let value? in values where best.map({ value.at < $0.at }) ?? true { best = value }
    return best
}

/// The fold of one case's visible facts in canonical order. Everything derived about the case
/// (record, flags, referral rows, summary) starts from here. Facts that come after every fact
/// folded so far are appended in place (`append`); any other fact means folding again.
struct CaseFold: Sendable {
    let caseId: String
    private(set) var count = 0
    private(set) var lastKey: EventKey?
    var opened: (stamp: Stamp, source: EventSource, data: CaseOpened)?
    /// The responsible office over time (opening office, then each transfer's receiving office).
    var offices: [OfficePeriod] = []
    /// The case's area over time.
    var areas: [(from: Timestamp, area: String)] = []
    var practitioner: (stamp: Stamp, id: String, team: String?)?
    /// Allocations (practitioner allocated, or a transfer naming a practitioner).
    var allocations: [Stamp] = []
    var risk: [(stamp: Stamp, level: RiskLevel, reason: String?)] = []
    var referrals: [String: ReferralFold] = [:]
    var referralOrder: [String] = []
    var failures: [(stamp: Stamp, data: ComplianceFailureRecorded)] = []
    var actions: [(stamp: Stamp, data: EnforcementActionTaken)] = []
    var reoffences: [(stamp: Stamp, data: ProvenReoffenceRecorded)] = []
    /// Transfers with the receiving office (when named), in order.
    var transfers: [(stamp: Stamp, data: CaseTransferred, to: EventSource?)] = []
    var incidents: [Incident] = []
    var closed: (stamp: Stamp, outcome: CaseOutcome)?

    /// An empty fold.
    init(caseId: String) { self.caseId = caseId }

    /// Folds `facts` (canonical order).
    init(caseId: String, facts: [Fact]) {
        self.caseId = caseId
        // Pass 1: the referral each referral id names, so provider activity can be attributed.
        for fact in facts {
            guard case .probation(.interventionReferred(let d)) = fact.payload else { continue }
            if var r = referrals[d.referralId] {
                if r.providerId != d.providerId, r.rereferrals[d.providerId] == nil { r.rereferrals[d.providerId] = Stamp(fact) }
                referrals[d.referralId] = r
            } else {
                var r = ReferralFold(referralId: d.referralId, providerId: d.providerId)
                r.referral = (Stamp(fact), fact.source, d)
                referrals[d.referralId] = r
            }
        }
        for fact in facts { fold(fact) }
    }

    /// Appends a fact that comes after every fact folded so far; returns false (changing
    /// nothing) when the case must be folded again instead: the fact is not last in canonical
    /// order, or it is the referral of activity already folded.
    mutating func append(_ fact: Fact) -> Bool {
        if let lastKey, !(lastKey < fact.key) { return false }
        if case .probation(.interventionReferred(let d)) = fact.payload {
            if let existing = referrals[d.referralId] {
                if existing.referral == nil, existing.firstActivity != nil || !existing.strayOrder.isEmpty { return false }
                // A re-referral to a provider that already acted on the referral id changes what
                // that activity meant (its reports may be incidents): fold again.
                if existing.referral != nil, existing.providerId != d.providerId, existing.rereferrals[d.providerId] == nil,
                   existing.strays[d.providerId] != nil {
                    return false
                }
            }
            if var r = referrals[d.referralId], r.referral != nil {
                if r.providerId != d.providerId, r.rereferrals[d.providerId] == nil { r.rereferrals[d.providerId] = Stamp(fact) }
                referrals[d.referralId] = r
            } else {
                var r = referrals[d.referralId] ?? ReferralFold(referralId: d.referralId, providerId: d.providerId)
                r.referral = (Stamp(fact), fact.source, d)
                r.providerId = d.providerId
                referrals[d.referralId] = r
            }
        }
        fold(fact)
        return true
    }

    var lastEventAt: Timestamp? { lastKey?.time }

    // MARK: responsibility over time

    /// The office responsible at `t` (nil when no probation event is in the view).
    func office(at t: Timestamp) -> EventSource? {
        var found = offices.first?.office
        for p in offices.dropFirst() {
            if p.from > t { break }
            found = p.office
        }
        return found
    }

    /// The case's area at `t`: none before the first event that sets one (the opening or, for a
    /// case whose opening is not in the view, its first transfer).
    func area(at t: Timestamp) -> String? {
        var found: String?
        for a in areas {
            if a.from > t { break }
            found = a.area
        }
        return found
    }

    /// The current area.
    var area: String? { areas.last?.area }
    /// The office holding the case now.
    var probationSource: EventSource? { offices.last?.office }

    /// The instants in (start, end) at which the office or area changes.
    func responsibilityChanges(after start: Timestamp, before end: Timestamp?) -> [Timestamp] {
        var out: [Timestamp] = []
        for t in transfers where t.stamp.at > start && end.map({ t.stamp.at < $0 }) ?? true {
            if out.last != t.stamp.at { out.append(t.stamp.at) }
        }
        return out
    }

    /// The risk level in force at `t`.
    func riskLevel(at t: Timestamp) -> RiskLevel? {
        var level: RiskLevel?
        for entry in risk {
            if entry.stamp.at > t { break }
            level = entry.level
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

    // MARK: folding

    /// Applies a provider fact to its referral (or records a stray when the acting provider is
    /// not the one the referral names).
    private mutating func provider(_ referralId: String, _ fact: Fact, _ update: (inout ReferralFold, Stamp) -> Void) {
        let actor = fact.source.agencyId
        var r = referrals[referralId] ?? ReferralFold(referralId: referralId, providerId: actor)
        if r.referral == nil, r.firstActivity == nil { r.providerId = actor }
        if !referralOrder.contains(referralId) { referralOrder.append(referralId) }
        let stamp = Stamp(fact)
        guard actor == r.providerId else {
            if r.strays[actor] == nil {
                r.strays[actor] = stamp
                r.strayOrder.append(actor)
            }
            referrals[referralId] = r
            return
        }
        r.eventIds.append(stamp.id)
        if r.firstActivity == nil { r.firstActivity = stamp }
        update(&r, stamp)
        referrals[referralId] = r
    }

    private mutating func fold(_ fact: Fact) {
        count += 1
        lastKey = fact.key
        let t = fact.time
        let stamp = Stamp(fact)
        switch fact.payload {
        case .probation(let p):
            if offices.isEmpty { offices.append(OfficePeriod(from: t, office: fact.source)) }
            switch p {
            case .caseOpened(let d):
                guard opened == nil else { break }
                opened = (stamp, fact.source, d)
                // The opening office holds the case from the beginning of its history.
                offices[0] = OfficePeriod(from: offices[0].from, office: fact.source)
                if areas.isEmpty { areas.append((t, d.area)) } else if transfers.isEmpty { areas[0] = (areas[0].from, d.area) }
                risk.append((stamp, d.riskLevel, nil))
            case .practitionerAllocated(let d):
                practitioner = (stamp, d.practitionerId, d.team)
                allocations.append(stamp)
            case .riskReassessed(let d):
                risk.append((stamp, d.riskLevel, d.reason))
            case .interventionReferred(let d):
                var r = referrals[d.referralId] ?? ReferralFold(referralId: d.referralId, providerId: d.providerId)
                if !referralOrder.contains(d.referralId) { referralOrder.append(d.referralId) }
                if r.referral?.stamp.id == stamp.id { r.riskAtReferral = riskLevel(at: t) }
                r.eventIds.append(stamp.id)
                referrals[d.referralId] = r
            case .complianceFailureRecorded(let d):
                failures.append((stamp, d))
                recordFailure(d, stamp)
            case .enforcementActionTaken(let d):
                actions.append((stamp, d))
            case .caseTransferred(let d):
                let receiving = d.toProbationId.flatMap { EventSource(kind: .probation, agencyId: $0) }
                transfers.append((stamp, d, receiving))
                areas.append((t, d.toArea))
                let officeChanges = receiving.map { $0 != probationSource } ?? false
                if let receiving, officeChanges { offices.append(OfficePeriod(from: t, office: receiving)) }
                if let practitionerId = d.newPractitionerId {
                    practitioner = (stamp, practitionerId, nil)
                    allocations.append(stamp)
                } else if officeChanges {
                    practitioner = nil  // the receiving office has no practitioner for the case yet
                }
            case .caseClosed(let d):
                if closed == nil { closed = (stamp, d.outcome) }
            }
        case .interventions(let i):
            foldProvider(i, fact, stamp)
        case .policeOutcome(.provenReoffenceRecorded(let d)):
            reoffences.append((stamp, d))
        case .commissioning:
            break
        }
    }

    private mutating func foldProvider(_ i: InterventionsEvent, _ fact: Fact, _ stamp: Stamp) {
        switch i {
        case .referralAccepted(let d):
            provider(d.referralId, fact) { r, s in if r.accepted == nil { r.accepted = s } }
        case .referralDeclined(let d):
            provider(d.referralId, fact) { r, s in if r.declined == nil { r.declined = (s, d.reason) } }
        case .interventionStarted(let d):
            provider(d.referralId, fact) { r, s in if r.started == nil { r.started = s } }
        case .appointmentAttended(let d):
            provider(d.referralId, fact) { r, _ in r.attended += 1 }
        case .appointmentMissed(let d):
            provider(d.referralId, fact) { r, s in
                if d.acceptable { r.missedAcceptable += 1 } else { r.missedUnacceptable += 1 }
                r.missed.append((s, d))
            }
            if !d.acceptable, isReferred(d.referralId, to: fact.source.agencyId, at: stamp.at) {
                incidents.append(Incident(key: stamp.eventId, kind: .unacceptableAbsence, start: stamp, referralId: d.referralId,
                                          label: "unacceptable absence from appointment \(d.appointmentId)"))
            }
        case .unpaidWorkHoursLogged(let d):
            provider(d.referralId, fact) { r, _ in if d.hours.isFinite, d.hours > 0 { r.hours += d.hours } }
        case .curfewViolationDetected(let d):
            provider(d.referralId, fact) { r, s in r.violations.append((s, d)) }
            if isReferred(d.referralId, to: fact.source.agencyId, at: stamp.at) {
                incidents.append(Incident(key: stamp.eventId, kind: .curfewViolation, start: stamp, referralId: d.referralId,
                                          label: "curfew violation \(d.violationId)"))
            }
        case .treatmentSessionRecorded(let d):
            provider(d.referralId, fact) { r, _ in r.sessions += 1 }
        case .interventionCompleted(let d):
            provider(d.referralId, fact) { r, s in if r.completed == nil { r.completed = s } }
        case .interventionEndedEarly(let d):
            provider(d.referralId, fact) { r, s in if r.endedEarly == nil { r.endedEarly = (s, d.reason) } }
        }
    }

    /// Whether the referral id was referred to the provider at or before `t` (only such a
    /// provider's reports call for an enforcement decision).
    private func isReferred(_ referralId: String, to providerId: String, at t: Timestamp) -> Bool {
        referrals[referralId]?.isReferred(to: providerId, at: t) ?? false
    }

    /// A compliance failure joins the incident of the report it names (reported at or before it),
    /// or an earlier failure with the same id; otherwise it opens its own incident.
    private mutating func recordFailure(_ d: ComplianceFailureRecorded, _ stamp: Stamp) {
        if let index = incidents.firstIndex(where: { incident in
            (d.relatedEventId != nil && incident.kind != .complianceFailure && incident.start.id == d.relatedEventId
                && incident.start.at <= stamp.at)
                || incident.failures.contains { $0.id == d.failureId }
        }) {
            incidents[index].failures.append((d.failureId, stamp))
            return
        }
        var incident = Incident(key: d.failureId, kind: .complianceFailure, start: stamp, referralId: d.referralId,
                                label: "compliance failure \(d.failureId) (\(d.kind.rawValue))")
        incident.failures.append((d.failureId, stamp))
        incidents.append(incident)
    }

    // MARK: the record

    /// The lifecycle of one referral, as the view shows it.
    func lifecycle(_ r: ReferralFold) -> InterventionLifecycle {
        var l = InterventionLifecycle(
            referralId: r.referralId, status: .activityWithoutReferral, contractId: r.referral?.data.contractId,
            providerId: r.providerId, provider: r.provider, interventionType: r.referral?.data.interventionType,
            referredAt: r.referral?.stamp.at, referredBy: r.referral?.office.urn, dueBy: r.referral?.data.dueBy,
            riskAtReferral: r.riskAtReferral, acceptedAt: r.accepted?.at, declinedAt: r.declined?.stamp.at,
            declineReason: r.declined?.reason, startedAt: r.started?.at, appointmentsAttended: r.attended,
            appointmentsMissedAcceptable: r.missedAcceptable, appointmentsMissedUnacceptable: r.missedUnacceptable,
            missedAppointments: r.missed.map {
                MissedAppointmentEntry(appointmentId: $0.data.appointmentId, acceptable: $0.data.acceptable,
                                       reason: $0.data.reason, at: $0.stamp.at, eventId: $0.stamp.eventId)
            },
            unpaidWorkHoursLogged: r.hours, unpaidWorkHoursRequired: nil,
            curfewViolations: r.violations.map {
                CurfewViolationEntry(violationId: $0.data.violationId, detectedAt: $0.data.detectedAt,
                                     durationMinutes: $0.data.durationMinutes, reportedAt: $0.stamp.at, eventId: $0.stamp.eventId)
            },
            treatmentSessions: r.sessions, completedAt: r.completed?.at, endedEarlyAt: r.endedEarly?.stamp.at,
            endedEarlyReason: r.endedEarly?.reason, eventIds: r.eventIds.map(\.lowercasedString))
        l.status = ReferralFold.status(of: l)
        if l.interventionType == .unpaidWork { l.unpaidWorkHoursRequired = unpaidWorkHoursRequired }
        return l
    }

    /// The lifecycles, ordered by referral time (unreferred activity by first activity), then referral id.
    var lifecycles: [InterventionLifecycle] {
        var out: [(Timestamp?, String, InterventionLifecycle)] = []
        for id in referralOrder {
            guard let r = referrals[id], r.referral != nil || r.firstActivity != nil else { continue }
            out.append((r.referral?.stamp.at ?? r.firstActivity?.at, id, lifecycle(r)))
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

    /// The case's record with these flags.
    func record(flags: [FlagRecord]) -> CaseRecord {
        let order = opened.map {
            OrderSummary(orderType: $0.data.orderType, requirements: $0.data.requirements, startDate: $0.data.startDate,
                         expectedEndDate: $0.data.expectedEndDate, openingArea: $0.data.area, openedAt: $0.stamp.at,
                         openedBy: $0.source.urn)
        }
        return CaseRecord(
            caseId: caseId, status: closed == nil ? .open : .closed, outcome: closed?.outcome, closedAt: closed?.stamp.at,
            order: order, area: area, probationSource: probationSource?.urn,
            practitioner: practitioner.map {
                PractitionerAssignment(practitionerId: $0.id, team: $0.team, allocatedAt: $0.stamp.at, eventId: $0.stamp.eventId)
            },
            riskLevel: risk.last?.level,
            riskHistory: risk.map { RiskEntry(at: $0.stamp.at, riskLevel: $0.level, reason: $0.reason, eventId: $0.stamp.eventId) },
            interventions: lifecycles,
            complianceFailures: failures.map {
                ComplianceFailureEntry(failureId: $0.data.failureId, kind: $0.data.kind, referralId: $0.data.referralId,
                                       relatedEventId: $0.data.relatedEventId?.lowercasedString, at: $0.stamp.at,
                                       eventId: $0.stamp.eventId)
            },
            enforcementActions: actions.map {
                EnforcementActionEntry(action: $0.data.action, failureIds: $0.data.failureIds, at: $0.stamp.at,
                                       eventId: $0.stamp.eventId)
            },
            provenReoffences: reoffences.map {
                ProvenReoffenceEntry(offenceDate: $0.data.offenceDate, provenDate: $0.data.provenDate,
                                     offenceCategory: $0.data.offenceCategory, at: $0.stamp.at, eventId: $0.stamp.eventId)
            },
            transfers: transfers.map {
                TransferEntry(fromArea: $0.data.fromArea, toArea: $0.data.toArea, newPractitionerId: $0.data.newPractitionerId,
                              toProbation: $0.to?.urn, at: $0.stamp.at, eventId: $0.stamp.eventId)
            },
            flags: flags, eventCount: count, lastEventAt: lastEventAt)
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
