/// Events published by intervention providers on `interventions.delivery-events.v1`, keyed by case id.
/// Every payload carries `caseId`, `referralId` and `providerId`.
public enum InterventionsEvent: Sendable, Hashable {
    /// See `ReferralAccepted`.
    case referralAccepted(ReferralAccepted)
    /// See `ReferralDeclined`.
    case referralDeclined(ReferralDeclined)
    /// See `InterventionStarted`.
    case interventionStarted(InterventionStarted)
    /// See `AppointmentAttended`.
    case appointmentAttended(AppointmentAttended)
    /// See `AppointmentMissed`.
    case appointmentMissed(AppointmentMissed)
    /// See `UnpaidWorkHoursLogged`.
    case unpaidWorkHoursLogged(UnpaidWorkHoursLogged)
    /// See `CurfewViolationDetected`.
    case curfewViolationDetected(CurfewViolationDetected)
    /// See `TreatmentSessionRecorded`.
    case treatmentSessionRecorded(TreatmentSessionRecorded)
    /// See `InterventionCompleted`.
    case interventionCompleted(InterventionCompleted)
    /// See `InterventionEndedEarly`.
    case interventionEndedEarly(InterventionEndedEarly)

    /// The wrapped payload.
    public var data: any EventData {
        switch self {
        case .referralAccepted(let d): d
        case .referralDeclined(let d): d
        case .interventionStarted(let d): d
        case .appointmentAttended(let d): d
        case .appointmentMissed(let d): d
        case .unpaidWorkHoursLogged(let d): d
        case .curfewViolationDetected(let d): d
        case .treatmentSessionRecorded(let d): d
        case .interventionCompleted(let d): d
        case .interventionEndedEarly(let d): d
        }
    }
}

extension Check {
    /// The three ids every provider event carries.
    func referralIds(caseId: String, referralId: String, providerId: String) throws(EventError) {
        try self.caseId(caseId)
        try identifier(referralId, "referralId")
        try identifier(providerId, "providerId")
    }
}

/// The provider accepted a referral (`org.accord.interventions.referral-accepted.v1`).
public struct ReferralAccepted: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.referralAccepted
    /// Case reference.
    public var caseId: String
    /// The referral accepted.
    public var referralId: String
    /// The accepting provider.
    public var providerId: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.referralAccepted(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        try Check().referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
    }
}

/// The provider declined a referral (`org.accord.interventions.referral-declined.v1`).
public struct ReferralDeclined: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.referralDeclined
    /// Case reference.
    public var caseId: String
    /// The referral declined.
    public var referralId: String
    /// The declining provider.
    public var providerId: String
    /// Why (1–500 characters).
    public var reason: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, reason: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.reason = reason
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.referralDeclined(self)) }

    /// Checks the ids and the reason text.
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.text(reason, "reason")
    }
}

/// The intervention started (`org.accord.interventions.intervention-started.v1`).
public struct InterventionStarted: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.interventionStarted
    /// Case reference.
    public var caseId: String
    /// The referral being delivered.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.interventionStarted(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        try Check().referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
    }
}

/// The person attended an appointment (`org.accord.interventions.appointment-attended.v1`).
public struct AppointmentAttended: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.appointmentAttended
    /// Case reference.
    public var caseId: String
    /// The referral being delivered.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String
    /// The appointment.
    public var appointmentId: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, appointmentId: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.appointmentId = appointmentId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.appointmentAttended(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.identifier(appointmentId, "appointmentId")
    }
}

/// The person missed an appointment (`org.accord.interventions.appointment-missed.v1`).
public struct AppointmentMissed: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.appointmentMissed
    /// Case reference.
    public var caseId: String
    /// The referral being delivered.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String
    /// The appointment.
    public var appointmentId: String
    /// Whether the absence was judged acceptable (e.g. evidenced illness).
    public var acceptable: Bool
    /// The stated reason (1–500 characters).
    public var reason: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, appointmentId: String,
                acceptable: Bool, reason: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.appointmentId = appointmentId
        self.acceptable = acceptable
        self.reason = reason
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.appointmentMissed(self)) }

    /// Checks the ids and the reason text.
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.identifier(appointmentId, "appointmentId")
        try check.text(reason, "reason")
    }
}

/// Unpaid work hours were logged for a day (`org.accord.interventions.unpaid-work-hours-logged.v1`).
public struct UnpaidWorkHoursLogged: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.unpaidWorkHoursLogged
    /// Case reference.
    public var caseId: String
    /// The referral being delivered.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String
    /// Hours worked, > 0 and ≤ 24.
    public var hours: Double
    /// The day worked.
    public var date: CalendarDate

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, hours: Double, date: CalendarDate) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.hours = hours
        self.date = date
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.unpaidWorkHoursLogged(self)) }

    /// Checks the ids and that hours are in (0, 24].
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.number(hours, "hours", above: 0, atMost: 24)
    }
}

/// Electronic monitoring detected a curfew violation (`org.accord.interventions.curfew-violation-detected.v1`).
public struct CurfewViolationDetected: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.curfewViolationDetected
    /// Case reference.
    public var caseId: String
    /// The monitoring referral.
    public var referralId: String
    /// The monitoring provider.
    public var providerId: String
    /// Id of this violation.
    public var violationId: String
    /// When the violation was detected.
    public var detectedAt: Timestamp
    /// How long the person was absent, in whole minutes, ≥ 1.
    public var durationMinutes: Int

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, violationId: String,
                detectedAt: Timestamp, durationMinutes: Int) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.violationId = violationId
        self.detectedAt = detectedAt
        self.durationMinutes = durationMinutes
    }

    private enum CodingKeys: String, CodingKey {
        case caseId, referralId, providerId, violationId, detectedAt, durationMinutes
    }

    /// Decodes from JSON; a fractional duration is reported at its path.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caseId = try c.decode(String.self, forKey: .caseId)
        referralId = try c.decode(String.self, forKey: .referralId)
        providerId = try c.decode(String.self, forKey: .providerId)
        violationId = try c.decode(String.self, forKey: .violationId)
        detectedAt = try c.decode(Timestamp.self, forKey: .detectedAt)
        durationMinutes = try c.decodeInteger(Int.self, forKey: .durationMinutes)
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.curfewViolationDetected(self)) }

    /// Checks the ids and that the duration is 1...10080 minutes (one week).
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.identifier(violationId, "violationId")
        try check.integer(durationMinutes, "durationMinutes", atLeast: 1, atMost: 10_080)
    }
}

/// A treatment session was recorded (`org.accord.interventions.treatment-session-recorded.v1`).
public struct TreatmentSessionRecorded: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.treatmentSessionRecorded
    /// Case reference.
    public var caseId: String
    /// The treatment referral.
    public var referralId: String
    /// The treatment provider.
    public var providerId: String
    /// Session type code, e.g. `one-to-one`, `group`, `drug-test`.
    public var sessionType: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, sessionType: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.sessionType = sessionType
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.treatmentSessionRecorded(self)) }

    /// Checks the ids and the session type code.
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.code(sessionType, "sessionType")
    }
}

/// The intervention was completed (`org.accord.interventions.intervention-completed.v1`).
public struct InterventionCompleted: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.interventionCompleted
    /// Case reference.
    public var caseId: String
    /// The referral completed.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.interventionCompleted(self)) }

    /// Checks the id patterns.
    public func validate() throws(EventError) {
        try Check().referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
    }
}

/// The intervention ended before completion (`org.accord.interventions.intervention-ended-early.v1`).
public struct InterventionEndedEarly: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.interventionEndedEarly
    /// Case reference.
    public var caseId: String
    /// The referral ended.
    public var referralId: String
    /// The delivering provider.
    public var providerId: String
    /// Why (1–500 characters).
    public var reason: String

    /// Creates the payload.
    public init(caseId: String, referralId: String, providerId: String, reason: String) {
        self.caseId = caseId
        self.referralId = referralId
        self.providerId = providerId
        self.reason = reason
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .interventions(.interventionEndedEarly(self)) }

    /// Checks the ids and the reason text.
    public func validate() throws(EventError) {
        let check = Check()
        try check.referralIds(caseId: caseId, referralId: referralId, providerId: providerId)
        try check.text(reason, "reason")
    }
}
