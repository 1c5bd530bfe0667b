import AccordEvents

/// A contract's terms as awarded and then varied.
public struct ContractTerms: Codable, Sendable, Equatable {
    /// The awarding commissioner.
    public var commissionerId: String
    /// The provider.
    public var providerId: String
    /// What the contract buys.
    public var interventionType: InterventionType
    /// The area covered.
    public var area: String
    /// First day of the period.
    public var periodStart: CalendarDate
    /// Last day of the period.
    public var periodEnd: CalendarDate
    /// The price.
    public var price: Money
    /// Payment-by-results terms.
    public var paymentByResults: PaymentByResults
    /// Declared service levels.
    public var serviceLevels: ServiceLevels
    /// Highest risk level the provider is cleared for.
    public var maxRiskLevel: RiskLevel

    init(_ a: ContractAwarded) {
        commissionerId = a.commissionerId
        providerId = a.providerId
        interventionType = a.interventionType
        area = a.area
        periodStart = a.periodStart
        periodEnd = a.periodEnd
        price = a.price
        paymentByResults = a.paymentByResults
        serviceLevels = a.serviceLevels
        maxRiskLevel = a.maxRiskLevel
    }
}

/// One variation of a contract.
public struct ContractVariationEntry: Codable, Sendable, Equatable {
    /// When it was varied.
    public var at: Timestamp
    /// Why, if given.
    public var reason: String?
    /// The terms changed: `periodEnd`, `price`, `paymentByResults`, `serviceLevels`, `maxRiskLevel`.
    public var changed: [String]
    /// False when the variation precedes the award in the view and so could not be applied.
    public var applied: Bool
    /// The event.
    public var eventId: String
}

/// The fold of one contract's visible events.
struct ContractFold: Sendable {
    let contractId: String
    var awardedAt: Timestamp?
    var awardEventId: String?
    var commissionerSource: String?
    /// Terms in force from each instant, oldest first.
    var versions: [(at: Timestamp, terms: ContractTerms)] = []
    var variations: [ContractVariationEntry] = []
    var ended: (at: Timestamp, reason: String, eventId: String)?

    init(contractId: String, events: [RecordedEvent]) {
        self.contractId = contractId
        for recorded in events {
            let e = recorded.event
            guard case .commissioning(let c) = e.payload else { continue }
            switch c {
            case .contractAwarded(let d):
                if awardedAt == nil {
                    awardedAt = e.time
                    awardEventId = e.idString
                    commissionerSource = e.source.urn
                }
                versions.append((e.time, ContractTerms(d)))
            case .contractVaried(let d):
                var changed: [String] = []
                if d.periodEnd != nil { changed.append("periodEnd") }
                if d.price != nil { changed.append("price") }
                if d.paymentByResults != nil { changed.append("paymentByResults") }
                if d.serviceLevels != nil { changed.append("serviceLevels") }
                if d.maxRiskLevel != nil { changed.append("maxRiskLevel") }
                if var terms = versions.last?.terms {
                    if let v = d.periodEnd { terms.periodEnd = v }
                    if let v = d.price { terms.price = v }
                    if let v = d.paymentByResults { terms.paymentByResults = v }
                    if let v = d.serviceLevels { terms.serviceLevels = v }
                    if let v = d.maxRiskLevel { terms.maxRiskLevel = v }
                    versions.append((e.time, terms))
                    variations.append(ContractVariationEntry(at: e.time, reason: d.reason, changed: changed, applied: true, eventId: e.idString))
                } else {
                    variations.append(ContractVariationEntry(at: e.time, reason: d.reason, changed: changed, applied: false, eventId: e.idString))
                }
            case .contractEnded(let d):
                if ended == nil { ended = (e.time, d.reason, e.idString) }
            case .localPrioritySet:
                break
            }
        }
    }

    /// The terms in force at `t`; before the award, the terms as awarded.
    func terms(at t: Timestamp) -> ContractTerms? {
        var found = versions.first?.terms
        for version in versions {
            if version.at > t { break }
            found = version.terms
        }
        return found
    }

    /// The latest terms.
    var currentTerms: ContractTerms? { versions.last?.terms }
}
