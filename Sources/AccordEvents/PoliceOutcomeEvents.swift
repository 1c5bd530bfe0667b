/// Police outcome events, published by the commissioner service on `police.outcome-events.v1`,
/// keyed by case id.
public enum PoliceOutcomeEvent: Sendable, Hashable {
    /// See `ProvenReoffenceRecorded`.
    case provenReoffenceRecorded(ProvenReoffenceRecorded)

    /// The wrapped payload.
    public var data: any EventData {
        switch self {
        case .provenReoffenceRecorded(let d): d
        }
    }
}

/// A proven reoffence was recorded for a case (`org.accord.police.proven-reoffence-recorded.v1`).
public struct ProvenReoffenceRecorded: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.provenReoffenceRecorded
    /// Case reference.
    public var caseId: String
    /// When the offence was committed.
    public var offenceDate: CalendarDate
    /// When it was proven (conviction or caution).
    public var provenDate: CalendarDate
    /// Offence category code, e.g. `theft`, `violence-against-the-person`.
    public var offenceCategory: String

    /// Creates the payload.
    public init(caseId: String, offenceDate: CalendarDate, provenDate: CalendarDate, offenceCategory: String) {
        self.caseId = caseId
        self.offenceDate = offenceDate
        self.provenDate = provenDate
        self.offenceCategory = offenceCategory
    }

    /// The case id.
    public var subjectId: String { caseId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .policeOutcome(.provenReoffenceRecorded(self)) }

    /// Checks the case id and category code.
    public func validate() throws(EventError) {
        let check = Check()
        try check.caseId(caseId)
        try check.code(offenceCategory, "offenceCategory")
    }
}
