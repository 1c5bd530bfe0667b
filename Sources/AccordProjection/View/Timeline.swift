import AccordEvents

/// One event in a case's merged cross-agency timeline.
public struct TimelineEntry: Codable, Sendable, Hashable {
    /// When it happened.
    public var time: Timestamp
    /// The event name, e.g. `intervention-started`.
    public var type: String
    /// The full CloudEvents type, e.g. `org.accord.interventions.intervention-started.v1`.
    public var eventType: String
    /// The publishing agency's source URN.
    public var source: String
    /// The publishing agency's kind.
    public var agency: AgencyKind
    /// The source's sequence number.
    public var sequence: Int64
    /// The referral the event is about, if any.
    public var referralId: String?
    /// A short human summary.
    public var summary: String
    /// The event id.
    public var eventId: String
    /// When it was written to Kafka.
    public var recordedAt: Timestamp
}

extension TimelineEntry {
    /// The timeline entry of one fact.
    public init(_ fact: Fact) {
        let kind = fact.payload.kind
        let (summary, referralId) = TimelineEntry.describe(fact.payload)
        self.init(time: fact.time, type: kind.name, eventType: kind.type, source: fact.source.urn, agency: fact.source.kind,
                  sequence: fact.key.sequence, referralId: referralId, summary: summary, eventId: fact.eventId,
                  recordedAt: fact.recordedAt)
    }

    /// A one-line summary of a payload and the referral it concerns.
    static func describe(_ payload: EventPayload) -> (String, String?) {
        switch payload {
        case .probation(let p):
            switch p {
            case .caseOpened(let d):
                let reqs = d.requirements.map(\.kind).joined(separator: ", ")
                return ("Case opened: \(d.orderType.rawValue) in \(d.area), \(d.riskLevel.rawValue) risk, \(d.startDate) to \(d.expectedEndDate)"
                        + (reqs.isEmpty ? "" : "; requirements: \(reqs)"), nil)
            case .practitionerAllocated(let d):
                return ("Practitioner \(d.practitionerId) (\(d.team)) allocated", nil)
            case .riskReassessed(let d):
                return ("Risk reassessed as \(d.riskLevel.rawValue): \(d.reason)", nil)
            case .interventionReferred(let d):
                return ("Referred for \(d.interventionType.rawValue) to \(d.providerId) under \(d.contractId), due by \(d.dueBy)", d.referralId)
            case .complianceFailureRecorded(let d):
                return ("Compliance failure \(d.failureId) recorded (\(d.kind.rawValue))", d.referralId)
            case .enforcementActionTaken(let d):
                let what = d.failureIds.isEmpty ? "" : " for \(d.failureIds.joined(separator: ", "))"
                return ("Enforcement action: \(d.action.rawValue)\(what)", nil)
            case .caseTransferred(let d):
                return ("Transferred from \(d.fromArea) to \(d.toArea)" + (d.toProbationId.map { " (\($0))" } ?? "")
                        + (d.newPractitionerId.map { ", practitioner \($0)" } ?? ""), nil)
            case .caseClosed(let d):
                return ("Case closed: \(d.outcome.rawValue)", nil)
            }
        case .interventions(let i):
            switch i {
            case .referralAccepted(let d): return ("Referral accepted by \(d.providerId)", d.referralId)
            case .referralDeclined(let d): return ("Referral declined by \(d.providerId): \(d.reason)", d.referralId)
            case .interventionStarted(let d): return ("Intervention started by \(d.providerId)", d.referralId)
            case .appointmentAttended(let d): return ("Appointment \(d.appointmentId) attended", d.referralId)
            case .appointmentMissed(let d):
                return ("Appointment \(d.appointmentId) missed (\(d.acceptable ? "acceptable" : "unacceptable")): \(d.reason)", d.referralId)
            case .unpaidWorkHoursLogged(let d): return ("\(formatHours(d.hours)) unpaid work hours logged for \(d.date)", d.referralId)
            case .curfewViolationDetected(let d):
                return ("Curfew violation \(d.violationId) detected at \(d.detectedAt), \(d.durationMinutes) minutes", d.referralId)
            case .treatmentSessionRecorded(let d): return ("Treatment session (\(d.sessionType)) recorded", d.referralId)
            case .interventionCompleted(let d): return ("Intervention completed by \(d.providerId)", d.referralId)
            case .interventionEndedEarly(let d): return ("Intervention ended early: \(d.reason)", d.referralId)
            }
        case .commissioning(let c):
            switch c {
            case .contractAwarded(let d): return ("Contract \(d.contractId) awarded to \(d.providerId)", nil)
            case .contractVaried(let d): return ("Contract \(d.contractId) varied", nil)
            case .contractEnded(let d): return ("Contract \(d.contractId) ended: \(d.reason)", nil)
            case .localPrioritySet(let d): return ("Local priority \(d.priority) set for \(d.area)", nil)
            }
        case .policeOutcome(.provenReoffenceRecorded(let d)):
            return ("Proven reoffence (\(d.offenceCategory)) committed \(d.offenceDate), proven \(d.provenDate)", nil)
        }
    }
}

/// Hours without a trailing `.0` for whole numbers.
func formatHours(_ hours: Double) -> String {
    guard hours.isFinite else { return "?" }
    return hours == hours.rounded() && abs(hours) < 1e15 ? "\(Int(hours))" : "\(hours)"
}
