/// The `data` of any Accord event, grouped by the agency family that owns it.
public enum EventPayload: Sendable, Hashable {
    /// A probation event.
    case probation(ProbationEvent)
    /// An intervention provider event.
    case interventions(InterventionsEvent)
    /// A commissioning event.
    case commissioning(CommissioningEvent)
    /// A police outcome event (published by the commissioner service).
    case policeOutcome(PoliceOutcomeEvent)

    /// The wrapped payload struct.
    public var data: any EventData {
        switch self {
        case .probation(let e): e.data
        case .interventions(let e): e.data
        case .commissioning(let e): e.data
        case .policeOutcome(let e): e.data
        }
    }

    /// The catalogue entry (type and version) of this payload.
    public var kind: EventKind { data.eventKind }

    /// The case id, contract id or area code the event is about (its subject and Kafka key).
    public var subjectId: String { data.subjectId }

    /// Checks the payload's semantic rules; errors name `data.<field>`.
    public func validate() throws(EventError) { try data.validate() }
}
