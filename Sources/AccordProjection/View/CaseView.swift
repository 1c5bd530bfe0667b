import AccordEvents

/// Whether a case is open in the view.
public enum CaseStatus: String, Codable, Sendable, Hashable {
    /// Opened (or seen only through other agencies' events) and not closed.
    case open
    /// Closed by probation.
    case closed
}

/// The court order or licence a case is for, as opened.
public struct OrderSummary: Codable, Sendable, Hashable {
    /// Community order, suspended sentence order or licence.
    public var orderType: OrderType
    /// The order's requirements.
    public var requirements: [Requirement]
    /// First day of the order.
    public var startDate: CalendarDate
    /// Expected last day.
    public var expectedEndDate: CalendarDate
    /// Area at opening.
    public var openingArea: String
    /// When the case was opened (event time).
    public var openedAt: Timestamp
    /// The probation agency that opened it (source URN).
    public var openedBy: String
}

/// The responsible practitioner currently allocated to a case.
public struct PractitionerAssignment: Codable, Sendable, Hashable {
    /// Pseudonymous practitioner id.
    public var practitionerId: String
    /// Team code, when known (a transfer names only the practitioner).
    public var team: String?
    /// When allocated.
    public var allocatedAt: Timestamp
    /// The allocating event.
    public var eventId: String
}

/// One point in a case's risk history.
public struct RiskEntry: Codable, Sendable, Hashable {
    /// When the level was set.
    public var at: Timestamp
    /// The level.
    public var riskLevel: RiskLevel
    /// Why it changed (nil at opening).
    public var reason: String?
    /// The event that set it.
    public var eventId: String
}

/// The lifecycle state of one referral.
public enum InterventionStatus: String, Codable, Sendable, Hashable {
    /// Referred, not yet answered.
    case referred
    /// Accepted, not yet started.
    case accepted
    /// Declined by the provider.
    case declined
    /// Started, not yet finished.
    case inProgress = "in-progress"
    /// Completed.
    case completed
    /// Ended before completion.
    case endedEarly = "ended-early"
    /// Provider activity for a referral that is not in the view.
    case activityWithoutReferral = "activity-without-referral"
}

/// One curfew violation reported by a monitoring provider.
public struct CurfewViolationEntry: Codable, Sendable, Hashable {
    /// The provider's violation id.
    public var violationId: String
    /// When it was detected.
    public var detectedAt: Timestamp
    /// Minutes absent.
    public var durationMinutes: Int
    /// When it was reported (event time).
    public var reportedAt: Timestamp
    /// The reporting event.
    public var eventId: String
}

/// One missed appointment.
public struct MissedAppointmentEntry: Codable, Sendable, Hashable {
    /// The appointment id.
    public var appointmentId: String
    /// Whether the absence was acceptable.
    public var acceptable: Bool
    /// The stated reason.
    public var reason: String
    /// When it was reported (event time).
    public var at: Timestamp
    /// The reporting event.
    public var eventId: String
}

/// One intervention's lifecycle: referral by probation through delivery by the provider.
public struct InterventionLifecycle: Codable, Sendable, Hashable {
    /// The referral id shared by every event about it.
    public var referralId: String
    /// Current state.
    public var status: InterventionStatus
    /// The contract referred under (nil when only provider activity is known).
    public var contractId: String?
    /// The provider.
    public var providerId: String
    /// The provider's source URN (`urn:accord:interventions:<providerId>`).
    public var provider: String
    /// What was asked for.
    public var interventionType: InterventionType?
    /// When probation referred.
    public var referredAt: Timestamp?
    /// The probation agency that referred (source URN).
    public var referredBy: String?
    /// The date the intervention should have started by.
    public var dueBy: CalendarDate?
    /// The case's risk level at the referral.
    public var riskAtReferral: RiskLevel?
    /// When the provider accepted.
    public var acceptedAt: Timestamp?
    /// When the provider declined.
    public var declinedAt: Timestamp?
    /// Why it was declined.
    public var declineReason: String?
    /// When the intervention started.
    public var startedAt: Timestamp?
    /// Appointments attended.
    public var appointmentsAttended: Int
    /// Appointments missed with an acceptable reason.
    public var appointmentsMissedAcceptable: Int
    /// Appointments missed without an acceptable reason.
    public var appointmentsMissedUnacceptable: Int
    /// Every missed appointment.
    public var missedAppointments: [MissedAppointmentEntry]
    /// Unpaid work hours logged so far.
    public var unpaidWorkHoursLogged: Double
    /// Unpaid work hours the order requires (unpaid work referrals only).
    public var unpaidWorkHoursRequired: Double?
    /// Curfew violations reported.
    public var curfewViolations: [CurfewViolationEntry]
    /// Treatment sessions recorded.
    public var treatmentSessions: Int
    /// When completed.
    public var completedAt: Timestamp?
    /// When ended early.
    public var endedEarlyAt: Timestamp?
    /// Why it ended early.
    public var endedEarlyReason: String?
    /// Every event about this referral, in canonical order.
    public var eventIds: [String]
}

/// A compliance failure recorded by probation.
public struct ComplianceFailureEntry: Codable, Sendable, Hashable {
    /// The failure id.
    public var failureId: String
    /// What kind of failure.
    public var kind: ComplianceFailureKind
    /// The referral it happened under.
    public var referralId: String?
    /// The event that reported it, if named.
    public var relatedEventId: String?
    /// When recorded.
    public var at: Timestamp
    /// The recording event.
    public var eventId: String
}

/// An enforcement action taken by probation.
public struct EnforcementActionEntry: Codable, Sendable, Hashable {
    /// Warning, breach or recall.
    public var action: EnforcementAction
    /// The failures it answers (empty: all outstanding).
    public var failureIds: [String]
    /// When taken.
    public var at: Timestamp
    /// The event.
    public var eventId: String
}

/// A proven reoffence recorded by the police.
public struct ProvenReoffenceEntry: Codable, Sendable, Hashable {
    /// When the offence was committed.
    public var offenceDate: CalendarDate
    /// When it was proven.
    public var provenDate: CalendarDate
    /// Offence category code.
    public var offenceCategory: String
    /// When recorded (event time).
    public var at: Timestamp
    /// The event.
    public var eventId: String
}

/// A move of the case between areas.
public struct TransferEntry: Codable, Sendable, Hashable {
    /// Area left.
    public var fromArea: String
    /// Area joined.
    public var toArea: String
    /// The receiving practitioner, when named.
    public var newPractitionerId: String?
    /// The probation office that holds the case from the transfer on (source URN), when known.
    public var toProbation: String?
    /// When.
    public var at: Timestamp
    /// The event.
    public var eventId: String
}

/// One case's whole picture at `asOf`: order, responsibility, risk, every intervention,
/// compliance and enforcement, reoffending and the open accountability flags.
public struct CaseView: Codable, Sendable, Hashable {
    /// The case reference.
    public var caseId: String
    /// The instant the view describes.
    public var asOf: Timestamp
    /// Open or closed.
    public var status: CaseStatus
    /// How it closed.
    public var outcome: CaseOutcome?
    /// When it closed.
    public var closedAt: Timestamp?
    /// The order (nil when the case-opened event is not in the view).
    public var order: OrderSummary?
    /// Current area, after transfers.
    public var area: String?
    /// The probation agency holding the case (source URN).
    public var probationSource: String?
    /// The responsible practitioner.
    public var practitioner: PractitionerAssignment?
    /// Current risk level.
    public var riskLevel: RiskLevel?
    /// Every risk level set, oldest first.
    public var riskHistory: [RiskEntry]
    /// Each referral's lifecycle, by referral time (then referral id).
    public var interventions: [InterventionLifecycle]
    /// Compliance failures recorded.
    public var complianceFailures: [ComplianceFailureEntry]
    /// Enforcement actions taken.
    public var enforcementActions: [EnforcementActionEntry]
    /// Proven reoffences recorded.
    public var provenReoffences: [ProvenReoffenceEntry]
    /// Transfers between areas.
    public var transfers: [TransferEntry]
    /// Flags about this case open at `asOf`.
    public var openFlags: [Flag]
    /// Events about the case in the view.
    public var eventCount: Int
    /// Time of the latest event in the view.
    public var lastEventAt: Timestamp?
}

/// One case's whole picture from everything known, independent of `asOf`: what the view holds
/// for the case and commits to in its digest. `view(asOf:)` is the case as it stood at an instant
/// at or after its last event; earlier instants are folded from the case's facts up to them.
public struct CaseRecord: Sendable, Hashable {
    /// The case reference.
    public var caseId: String
    /// Open or closed.
    public var status: CaseStatus
    /// How it closed.
    public var outcome: CaseOutcome?
    /// When it closed.
    public var closedAt: Timestamp?
    /// The order (nil when the case-opened event is not in the view).
    public var order: OrderSummary?
    /// Current area, after transfers.
    public var area: String?
    /// The probation office holding the case now (source URN).
    public var probationSource: String?
    /// The responsible practitioner.
    public var practitioner: PractitionerAssignment?
    /// Current risk level.
    public var riskLevel: RiskLevel?
    /// Every risk level set, oldest first.
    public var riskHistory: [RiskEntry]
    /// Each referral's lifecycle.
    public var interventions: [InterventionLifecycle]
    /// Compliance failures recorded.
    public var complianceFailures: [ComplianceFailureEntry]
    /// Enforcement actions taken.
    public var enforcementActions: [EnforcementActionEntry]
    /// Proven reoffences recorded.
    public var provenReoffences: [ProvenReoffenceEntry]
    /// Transfers between areas and offices.
    public var transfers: [TransferEntry]
    /// Every flag about the case, open or resolved, with when and who.
    public var flags: [FlagRecord]
    /// Events about the case.
    public var eventCount: Int
    /// Time of the latest event.
    public var lastEventAt: Timestamp?

    /// The case as a view at `asOf` shows it; `asOf` must be at or after `lastEventAt`
    /// (otherwise fold the facts up to `asOf` first).
    public func view(asOf: Timestamp) -> CaseView {
        let open = flags.compactMap { $0.flag(asOf: asOf) }.filter(\.open).sorted(by: Flag.precedes)
        return CaseView(caseId: caseId, asOf: asOf, status: status, outcome: outcome, closedAt: closedAt, order: order,
                        area: area, probationSource: probationSource, practitioner: practitioner, riskLevel: riskLevel,
                        riskHistory: riskHistory, interventions: interventions, complianceFailures: complianceFailures,
                        enforcementActions: enforcementActions, provenReoffences: provenReoffences, transfers: transfers,
                        openFlags: open, eventCount: eventCount, lastEventAt: lastEventAt)
    }
}
