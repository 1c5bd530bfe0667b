/// What the `subject` (and the Kafka key) of an event identifies.
public enum SubjectKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A pseudonymous case reference such as `X123456`.
    case caseId
    /// A commissioning contract identifier.
    case contractId
    /// A probation / commissioning area code such as `london-north`.
    case area
}

/// The catalogue of every Accord event type and version: the one source of truth that the
/// JSON Schemas, the AsyncAPI document and the tests are checked against.
///
/// Each case is one (type, version). A breaking change adds a new case with `.v2` (and keeps
/// the old one for replay); `EventUpcaster` reads old versions in the meaning of the new one.
public enum EventKind: String, Sendable, Hashable, CaseIterable, Codable {
    // probation
    /// Probation opened a case for a court order or licence.
    case caseOpened = "org.accord.probation.case-opened.v1"
    /// A responsible practitioner was allocated to a case.
    case practitionerAllocated = "org.accord.probation.practitioner-allocated.v1"
    /// The case's risk of serious harm level was reassessed.
    case riskReassessed = "org.accord.probation.risk-reassessed.v1"
    /// Probation referred the case to a provider under a contract.
    case interventionReferred = "org.accord.probation.intervention-referred.v1"
    /// Probation recorded a failure to comply.
    case complianceFailureRecorded = "org.accord.probation.compliance-failure-recorded.v1"
    /// Probation took enforcement action (warning, breach, recall).
    case enforcementActionTaken = "org.accord.probation.enforcement-action-taken.v1"
    /// The case moved between areas (version 1: areas only; superseded by `caseTransferredV2`).
    case caseTransferred = "org.accord.probation.case-transferred.v1"
    /// The case moved between areas and the named receiving probation office took it over.
    case caseTransferredV2 = "org.accord.probation.case-transferred.v2"
    /// The case was closed.
    case caseClosed = "org.accord.probation.case-closed.v1"
    // interventions
    /// The provider accepted a referral.
    case referralAccepted = "org.accord.interventions.referral-accepted.v1"
    /// The provider declined a referral.
    case referralDeclined = "org.accord.interventions.referral-declined.v1"
    /// The intervention started.
    case interventionStarted = "org.accord.interventions.intervention-started.v1"
    /// The person attended an appointment.
    case appointmentAttended = "org.accord.interventions.appointment-attended.v1"
    /// The person missed an appointment (acceptably or not).
    case appointmentMissed = "org.accord.interventions.appointment-missed.v1"
    /// Unpaid work hours were logged.
    case unpaidWorkHoursLogged = "org.accord.interventions.unpaid-work-hours-logged.v1"
    /// Electronic monitoring detected a curfew violation.
    case curfewViolationDetected = "org.accord.interventions.curfew-violation-detected.v1"
    /// A treatment session was recorded.
    case treatmentSessionRecorded = "org.accord.interventions.treatment-session-recorded.v1"
    /// The intervention was completed.
    case interventionCompleted = "org.accord.interventions.intervention-completed.v1"
    /// The intervention ended before completion.
    case interventionEndedEarly = "org.accord.interventions.intervention-ended-early.v1"
    // commissioning
    /// A commissioner awarded a contract to a provider.
    case contractAwarded = "org.accord.commissioning.contract-awarded.v1"
    /// A contract's terms were varied.
    case contractVaried = "org.accord.commissioning.contract-varied.v1"
    /// A contract ended.
    case contractEnded = "org.accord.commissioning.contract-ended.v1"
    /// A commissioner set a local priority for an area.
    case localPrioritySet = "org.accord.commissioning.local-priority-set.v1"
    // police outcomes
    /// A proven reoffence was recorded for a case.
    case provenReoffenceRecorded = "org.accord.police.proven-reoffence-recorded.v1"

    /// Base URI of every Accord schema `$id`; a schema's `$id` is this plus its path under `schemas/`.
    public static let schemaBaseURI = "https://accord.example/schemas/"

    /// The CloudEvents `type` attribute, including the version, e.g. `org.accord.probation.case-opened.v1`.
    public var type: String { rawValue }

    /// The schema family the type belongs to: `probation`, `interventions`, `commissioning` or `police`.
    public var family: String {
        switch topic {
        case .probationCaseEvents: "probation"
        case .interventionsDeliveryEvents: "interventions"
        case .commissioningEvents: "commissioning"
        case .policeOutcomeEvents, .deadLetter: "police"
        }
    }

    /// The event name without family or version, e.g. `case-opened`.
    public var name: String {
        let parts = rawValue.split(separator: ".")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : rawValue
    }

    /// The schema version number (the `N` of `.vN`).
    public var version: Int {
        switch self {
        case .caseTransferredV2: 2
        default: 1
        }
    }

    /// The agency kind that owns (publishes) this event.
    public var owner: AgencyKind {
        // The dead-letter topic has no event kinds, so `owner` is never nil here.
        topic.owner ?? .commissioner
    }

    /// The topic the event is published on.
    public var topic: AccordTopic {
        switch self {
        case .caseOpened, .practitionerAllocated, .riskReassessed, .interventionReferred,
             .complianceFailureRecorded, .enforcementActionTaken, .caseTransferred, .caseTransferredV2, .caseClosed:
            .probationCaseEvents
        case .referralAccepted, .referralDeclined, .interventionStarted, .appointmentAttended,
             .appointmentMissed, .unpaidWorkHoursLogged, .curfewViolationDetected,
             .treatmentSessionRecorded, .interventionCompleted, .interventionEndedEarly:
            .interventionsDeliveryEvents
        case .contractAwarded, .contractVaried, .contractEnded, .localPrioritySet:
            .commissioningEvents
        case .provenReoffenceRecorded:
            .policeOutcomeEvents
        }
    }

    /// What the subject / Kafka key identifies for this event.
    public var subjectKind: SubjectKind {
        switch self {
        case .contractAwarded, .contractVaried, .contractEnded: .contractId
        case .localPrioritySet: .area
        default: .caseId
        }
    }

    /// Path of the data schema relative to the `schemas/` folder,
    /// e.g. `events/probation/case-opened.v1.schema.json`.
    public var schemaPath: String { "events/\(family)/\(name).v\(version).schema.json" }

    /// The CloudEvents `dataschema` URI, equal to the schema file's `$id`.
    public var dataschema: String { EventKind.dataschemas[self] ?? EventKind.schemaBaseURI + schemaPath }

    /// Every kind's `dataschema`, built once (it is compared for every record decoded).
    private static let dataschemas: [EventKind: String] =
        Dictionary(uniqueKeysWithValues: allCases.map { ($0, schemaBaseURI + $0.schemaPath) })

    /// The Swift payload type of this event. Versions whose payloads differ only by what is
    /// required share one type (`CaseTransferred` is v1 and v2); the value's `eventKind` says
    /// which version it is.
    public var dataType: any EventData.Type {
        switch self {
        case .caseOpened: CaseOpened.self
        case .practitionerAllocated: PractitionerAllocated.self
        case .riskReassessed: RiskReassessed.self
        case .interventionReferred: InterventionReferred.self
        case .complianceFailureRecorded: ComplianceFailureRecorded.self
        case .enforcementActionTaken: EnforcementActionTaken.self
        case .caseTransferred, .caseTransferredV2: CaseTransferred.self
        case .caseClosed: CaseClosed.self
        case .referralAccepted: ReferralAccepted.self
        case .referralDeclined: ReferralDeclined.self
        case .interventionStarted: InterventionStarted.self
        case .appointmentAttended: AppointmentAttended.self
        case .appointmentMissed: AppointmentMissed.self
        case .unpaidWorkHoursLogged: UnpaidWorkHoursLogged.self
        case .curfewViolationDetected: CurfewViolationDetected.self
        case .treatmentSessionRecorded: TreatmentSessionRecorded.self
        case .interventionCompleted: InterventionCompleted.self
        case .interventionEndedEarly: InterventionEndedEarly.self
        case .contractAwarded: ContractAwarded.self
        case .contractVaried: ContractVaried.self
        case .contractEnded: ContractEnded.self
        case .localPrioritySet: LocalPrioritySet.self
        case .provenReoffenceRecorded: ProvenReoffenceRecorded.self
        }
    }

    /// The result of looking up a CloudEvents `type` string in the catalogue.
    public enum Lookup: Sendable, Hashable {
        /// A known type and version.
        case known(EventKind)
        /// A known type name whose version the catalogue does not have; carries the known versions.
        case unknownVersion(knownVersions: [Int])
        /// A type the catalogue does not know at all.
        case unknownType
    }

    private static let byType: [String: EventKind] = {
        var map: [String: EventKind] = [:]
        for kind in EventKind.allCases { map[kind.rawValue] = kind }
        return map
    }()

    private static let versionsByBase: [String: [Int]] = {
        var map: [String: [Int]] = [:]
        for kind in EventKind.allCases {
            map[kind.typeBase, default: []].append(kind.version)
        }
        return map
    }()

    /// The type without its `.vN` suffix, e.g. `org.accord.probation.case-opened`.
    public var typeBase: String { String(rawValue.dropLast(".v\(version)".count)) }

    /// Looks up a CloudEvents `type`, distinguishing unknown versions of known types.
    public static func lookup(type: String) -> Lookup {
        if let kind = byType[type] { return .known(kind) }
        if let dot = type.lastIndex(of: "."), type[type.index(after: dot)...].hasPrefix("v"),
           let versions = versionsByBase[String(type[..<dot])] {
            return .unknownVersion(knownVersions: versions.sorted())
        }
        return .unknownType
    }

    /// Looks up a CloudEvents `type`; nil unless both type and version are known.
    public init?(type: String) {
        guard let kind = EventKind.byType[type] else { return nil }
        self = kind
    }

    /// One catalogue row in a machine-readable form (used to check schemas and AsyncAPI).
    public var catalogueEntry: [String: String] {
        [
            "type": type, "name": name, "family": family, "version": String(version),
            "owner": owner.rawValue, "topic": topic.name, "schemaPath": schemaPath,
            "dataschema": dataschema, "subjectKind": subjectKind.rawValue,
        ]
    }
}
