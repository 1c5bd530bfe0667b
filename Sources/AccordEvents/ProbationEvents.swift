import Foundation

/// Events published by probation (offender management) on `probation.case-events.v1`, keyed by case id.
public enum ProbationEvent: Sendable, Hashable {
    /// See `CaseOpened`.
    case caseOpened(CaseOpened)
    /// See `PractitionerAllocated`.
    case practitionerAllocated(PractitionerAllocated)
    /// See `RiskReassessed`.
    case riskReassessed(RiskReassessed)
    /// See `InterventionReferred`.
    case interventionReferred(InterventionReferred)
    /// See `ComplianceFailureRecorded`.
    case complianceFailureRecorded(ComplianceFailureRecorded)
    /// See `EnforcementActionTaken`.
    case enforcementActionTaken(EnforcementActionTaken)
    /// See `CaseTransferred`.
    case caseTransferred(CaseTransferred)
    /// See `CaseClosed`.
    case caseClosed(CaseClosed)

    /// The wrapped payload.
    public var data: any EventData {
        switch self {
        case .caseOpened(let d): d
        case .practitionerAllocated(let d): d
        case .riskReassessed(let d): d
        case .interventionReferred(let d): d
        case .complianceFailureRecorded(let d): d
        case .enforcementActionTaken(let d): d
        case .caseTransferred(let d): d
        case .caseClosed(let d): d
        }
    }
}

/// Probation opened a case for a court order or licence (`org.accord.probation.case-opened.v1`).
public struct CaseOpened: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.caseOpened
    /// Pseudonymous case reference, `^[A-Z][0-9]{6}$`.
    public var caseId: String
    /// Community order, suspended sentence order or licence.
    public var orderType: OrderType
    /// The order's requirements (may be empty, e.g. a licence with standard conditions only).
    public var requirements: [Requirement]
    /// First day of the order or licence.
    public var startDate: CalendarDate
    /// Expected last day.
    public var expectedEndDate: CalendarDate
    /// Probation area code, e.g. `london-north`.
    public var area: String
    /// Risk of serious harm level at opening.
    public var riskLevel: RiskLevel

    /// Creates the payload.
    public init(caseId: String, orderType: OrderType, requirements: [Requirement], startDate: CalendarDate,
                expectedEndDate: CalendarDate, area: String, riskLevel: RiskLevel) {
        self.caseId = caseId
        self.orderType = orderType
        self.requirements = requirements
        self.startDate = startDate
        self.expectedEndDate = expectedEndDate
        self.area = area
        self.riskLevel = riskLevel
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.caseOpened(self)) }

    /// Checks case id and area patterns, at most 20 requirements and each requirement's rules.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.code(area, "area")
        guard requirements.count <= 20 else { throw check.fail("requirements", "at most 20 requirements") }
        for (i, requirement) in requirements.enumerated() {
            try requirement.validate(check.index("requirements", i))
        }
    }
}

/// A responsible practitioner was allocated to the case (`org.accord.probation.practitioner-allocated.v1`).
public struct PractitionerAllocated: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.practitionerAllocated
    /// Case reference.
    public var caseId: String
    /// Pseudonymous practitioner id.
    public var practitionerId: String
    /// Team code, e.g. `north-team-3`.
    public var team: String

    /// Creates the payload.
    public init(caseId: String, practitionerId: String, team: String) {
        self.caseId = caseId
        self.practitionerId = practitionerId
        self.team = team
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.practitionerAllocated(self)) }

    /// Checks the id and team patterns.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.identifier(practitionerId, "practitionerId")
        try check.code(team, "team")
    }
}

/// The case's risk level was reassessed (`org.accord.probation.risk-reassessed.v1`).
public struct RiskReassessed: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.riskReassessed
    /// Case reference.
    public var caseId: String
    /// The new risk level.
    public var riskLevel: RiskLevel
    /// Why it changed (1–500 characters, no personal details).
    public var reason: String

    /// Creates the payload.
    public init(caseId: String, riskLevel: RiskLevel, reason: String) {
        self.caseId = caseId
        self.riskLevel = riskLevel
        self.reason = reason
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.riskReassessed(self)) }

    /// Checks the case id and the reason text.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.text(reason, "reason")
    }
}

/// Probation referred the case to a provider under a contract (`org.accord.probation.intervention-referred.v1`).
public struct InterventionReferred: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.interventionReferred
    /// Case reference.
    public var caseId: String
    /// The referral's id, carried by every provider event about it.
    public var referralId: String
    /// The contract the referral is made under.
    public var contractId: String
    /// The provider referred to.
    public var providerId: String
    /// What is asked for.
    public var interventionType: InterventionType
    /// The date by which the intervention should have started.
    public var dueBy: CalendarDate

    /// Creates the payload.
    public init(caseId: String, referralId: String, contractId: String, providerId: String,
                interventionType: InterventionType, dueBy: CalendarDate) {
        self.caseId = caseId
        self.referralId = referralId
        self.contractId = contractId
        self.providerId = providerId
        self.interventionType = interventionType
        self.dueBy = dueBy
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.interventionReferred(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.identifier(referralId, "referralId")
        try check.identifier(contractId, "contractId")
        try check.identifier(providerId, "providerId")
    }
}

/// Probation recorded a failure to comply (`org.accord.probation.compliance-failure-recorded.v1`).
public struct ComplianceFailureRecorded: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.complianceFailureRecorded
    /// Case reference.
    public var caseId: String
    /// Id of this failure, referred to by enforcement actions.
    public var failureId: String
    /// What kind of failure.
    public var kind: ComplianceFailureKind
    /// The referral it happened under, if any.
    public var referralId: String?
    /// The CloudEvents id of the event that reported it (e.g. a missed appointment), if any.
    public var relatedEventId: UUID?

    /// Creates the payload.
    public init(caseId: String, failureId: String, kind: ComplianceFailureKind, referralId: String? = nil,
                relatedEventId: UUID? = nil) {
        self.caseId = caseId
        self.failureId = failureId
        self.kind = kind
        self.referralId = referralId
        self.relatedEventId = relatedEventId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.complianceFailureRecorded(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.identifier(failureId, "failureId")
        if let referralId { try check.identifier(referralId, "referralId") }
    }
}

/// Probation took enforcement action (`org.accord.probation.enforcement-action-taken.v1`).
public struct EnforcementActionTaken: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.enforcementActionTaken
    /// Case reference.
    public var caseId: String
    /// Warning, breach or recall.
    public var action: EnforcementAction
    /// The compliance failures this action answers (distinct; may be empty, e.g. a risk-led recall).
    public var failureIds: [String]

    /// Creates the payload.
    public init(caseId: String, action: EnforcementAction, failureIds: [String]) {
        self.caseId = caseId
        self.action = action
        self.failureIds = failureIds
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.enforcementActionTaken(self)) }

    /// Checks ids, at most 50 failure ids, and that they are distinct.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        guard failureIds.count <= 50 else { throw check.fail("failureIds", "at most 50 failure ids") }
        for (i, id) in failureIds.enumerated() {
            try check.identifier(id, "failureIds[\(i)]")
            if failureIds[..<i].contains(id) {
                throw check.fail("failureIds[\(i)]", "duplicate failure id \"\(id)\"")
            }
        }
    }
}

/// The case moved from one area to another: `org.accord.probation.case-transferred.v2` when it
/// names the receiving probation office (`toProbationId`), `org.accord.probation.case-transferred.v1`
/// (areas only) when it does not.
///
/// One type serves both versions, and the value's `eventKind` follows `toProbationId`, so a value
/// always encodes to valid `data` of the version it reports. Decoding is strict per version: v2
/// requires `toProbationId`, v1 refuses it. Consumers read v1 in the v2 meaning through
/// `EventUpcaster`, which fills `toProbationId` from a map of areas to offices.
public struct CaseTransferred: EventData {
    /// Catalogue entry of the first version; see `eventKind` for the version of a value.
    public static let kind = EventKind.caseTransferred
    /// Case reference.
    public var caseId: String
    /// Area code the case leaves.
    public var fromArea: String
    /// Area code the case joins.
    public var toArea: String
    /// The receiving practitioner, when already known.
    public var newPractitionerId: String?
    /// The probation office (agency id, e.g. `nps-midlands`) that holds the case from the transfer on.
    /// Required by version 2 of the event and absent from version 1; for version 1 the upcaster
    /// fills it in from the configured map of areas to offices, and it stays nil when the map does
    /// not name the receiving area.
    public var toProbationId: String?

    /// `.caseTransferredV2` when the receiving office is named, else `.caseTransferred` (v1).
    public var eventKind: EventKind { toProbationId == nil ? .caseTransferred : .caseTransferredV2 }

    /// Creates the payload.
    public init(caseId: String, fromArea: String, toArea: String, newPractitionerId: String? = nil,
                toProbationId: String? = nil) {
        self.caseId = caseId
        self.fromArea = fromArea
        self.toArea = toArea
        self.newPractitionerId = newPractitionerId
        self.toProbationId = toProbationId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.caseTransferred(self)) }

    /// Checks the id, area and agency id patterns.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.code(fromArea, "fromArea")
        try check.code(toArea, "toArea")
        if let newPractitionerId { try check.identifier(newPractitionerId, "newPractitionerId") }
        if let toProbationId, !Patterns.isAgencyId(toProbationId) {
            throw check.fail("toProbationId",
                             "\"\(toProbationId.prefix(70))\" is not a probation office's agency id; expected ^[a-z0-9][a-z0-9-]{0,62}$ such as nps-midlands")
        }
    }
}

/// The case was closed (`org.accord.probation.case-closed.v1`).
public struct CaseClosed: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.caseClosed
    /// Case reference.
    public var caseId: String
    /// Completed, revoked or terminated.
    public var outcome: CaseOutcome

    /// Creates the payload.
    public init(caseId: String, outcome: CaseOutcome) {
        self.caseId = caseId
        self.outcome = outcome
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .probation(.caseClosed(self)) }

    /// Checks the case id.
    public func validate() throws(EventError) {
        try Check().caseId(caseId)
    }
}
