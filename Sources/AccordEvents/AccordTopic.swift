/// The Kafka topics of Accord: one per owning agency kind plus the dead-letter topic.
/// The broker creates exactly `AccordTopic.all`.
public enum AccordTopic: String, Sendable, Hashable, CaseIterable, Codable {
    /// Probation case events, keyed by case id.
    case probationCaseEvents = "probation.case-events.v1"
    /// Intervention providers' delivery events, keyed by case id.
    case interventionsDeliveryEvents = "interventions.delivery-events.v1"
    /// Commissioners' contract events, keyed by contract id (area code for local priorities).
    case commissioningEvents = "commissioning.events.v1"
    /// Police outcomes (proven reoffending), published by the commissioner service, keyed by case id.
    case policeOutcomeEvents = "police.outcome-events.v1"
    /// Events the projector could not accept, with the reason; written by the projector.
    case deadLetter = "accord.dead-letter.v1"

    /// Every topic, in a stable order, for the broker to create.
    public static let all: [AccordTopic] = AccordTopic.allCases

    /// The Kafka topic name.
    public var name: String { rawValue }

    /// The agency kind allowed to publish here; nil for the dead-letter topic, which the
    /// Accord projector itself writes.
    public var owner: AgencyKind? {
        switch self {
        case .probationCaseEvents: .probation
        case .interventionsDeliveryEvents: .interventions
        case .commissioningEvents, .policeOutcomeEvents: .commissioner
        case .deadLetter: nil
        }
    }

    /// What the Kafka record key holds on this topic.
    public var keyDescription: String {
        switch self {
        case .probationCaseEvents, .interventionsDeliveryEvents, .policeOutcomeEvents:
            "case id (pseudonymous case reference such as X123456); equals ce_partitionkey and ce_subject"
        case .commissioningEvents:
            "contract id (area code for local-priority-set); equals ce_partitionkey and ce_subject"
        case .deadLetter:
            "the key of the rejected record, unchanged"
        }
    }

    /// The event kinds published on this topic (empty for the dead-letter topic).
    public var eventKinds: [EventKind] {
        EventKind.allCases.filter { $0.topic == self }
    }

    /// Looks up a topic by its Kafka name.
    public init?(name: String) {
        self.init(rawValue: name)
    }
}
