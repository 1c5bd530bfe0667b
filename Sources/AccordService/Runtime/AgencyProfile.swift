import AccordEvents

/// What distinguishes the three agency services: the agency kind and its defaults.
public struct AgencyProfile: Sendable, Hashable {
    /// The agency kind the service publishes as.
    public let kind: AgencyKind
    /// The executable's name, e.g. `probation-service`.
    public let serviceName: String
    /// Default agency id (the sample sources of `EventSamples`).
    public let defaultAgencyId: String
    /// Default HTTP port.
    public let defaultPort: Int

    /// The probation service: `nps-london` on port 8081.
    public static let probation = AgencyProfile(kind: .probation, serviceName: "probation-service",
                                                defaultAgencyId: "nps-london", defaultPort: 8081)
    /// The intervention provider service: `ace-payback` on port 8082.
    public static let interventions = AgencyProfile(kind: .interventions, serviceName: "interventions-service",
                                                    defaultAgencyId: "ace-payback", defaultPort: 8082)
    /// The commissioner service: `pcc-west` on port 8083.
    public static let commissioner = AgencyProfile(kind: .commissioner, serviceName: "commissioner-service",
                                                   defaultAgencyId: "pcc-west", defaultPort: 8083)

    /// The profile of an agency kind.
    public static func of(_ kind: AgencyKind) -> AgencyProfile {
        switch kind {
        case .probation: .probation
        case .interventions: .interventions
        case .commissioner: .commissioner
        }
    }

    /// The topics this agency kind publishes to (the commissioner owns two).
    public var ownTopics: [AccordTopic] { AccordTopic.all.filter { $0.owner == kind } }

    /// The topics the service's reactions consume: every agency topic, its own included (its own
    /// events older than this process come back from there; the topic is not read to restart).
    public var reactionTopics: [AccordTopic] { AccordTopic.all.filter { $0.owner != nil } }

    /// The other agencies' topics.
    public var otherTopics: [AccordTopic] { AccordTopic.all.filter { $0.owner != nil && $0.owner != kind } }
}
