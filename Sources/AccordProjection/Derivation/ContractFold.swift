import AccordEvents

/// A contract's terms as awarded and then varied.
public struct ContractTerms: Codable, Sendable, Equatable, Hashable {
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

    /// The provider's source URN.
    public var providerURN: String { providerURNString(providerId) }

    /// The start of the day after the period's last day: the instant the contract lapses.
    public var periodOver: Timestamp? { periodEnd.adding(days: 1).map { Timestamp(startOf: $0) } }
}

/// One variation of a contract.
public struct ContractVariationEntry: Codable, Sendable, Equatable, Hashable {
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

/// The fold of one contract's visible facts (award, variations, end), in canonical order.
public struct ContractFold: Sendable, Hashable {
    /// The contract id.
    public let contractId: String
    /// When first awarded.
    public var awardedAt: Timestamp?
    /// The awarding event.
    public var awardEventId: String?
    /// The awarding commissioner's source URN.
    public var commissionerSource: String?
    /// Terms in force from each instant, oldest first.
    public var versions: [ContractVersion] = []
    /// Every variation, oldest first.
    public var variations: [ContractVariationEntry] = []
    /// The first contract-ended event.
    public var ended: (at: Timestamp, reason: String, eventId: String)?
    /// Latest event time.
    public var lastEventAt: Timestamp?

    /// Folds `facts` (canonical order; non-commissioning facts are ignored).
    public init(contractId: String, facts: [Fact]) {
        self.contractId = contractId
        for fact in facts {
            guard case .commissioning(let c) = fact.payload else { continue }
            lastEventAt = fact.time
            let id = fact.eventId
            switch c {
            case .contractAwarded(let d):
                if awardedAt == nil {
                    awardedAt = fact.time
                    awardEventId = id
                    commissionerSource = fact.source.urn
                }
                versions.append(ContractVersion(at: fact.time, terms: ContractTerms(d), eventId: id))
            case .contractVaried(let d):
                var changed: [String] = []
                if d.periodEnd != nil { changed.append("periodEnd") }
                if d.price != nil { changed.append("price") }
                if d.paymentByResults != nil { changed.append("paymentByResults") }
                if d.serviceLevels != nil { changed.append("serviceLevels") }
                if d.maxRiskLevel != nil { changed.append("maxRiskLevel") }
                let applied = !versions.isEmpty
                if var terms = versions.last?.terms {
                    if let v = d.periodEnd { terms.periodEnd = v }
                    if let v = d.price { terms.price = v }
                    if let v = d.paymentByResults { terms.paymentByResults = v }
                    if let v = d.serviceLevels { terms.serviceLevels = v }
                    if let v = d.maxRiskLevel { terms.maxRiskLevel = v }
                    versions.append(ContractVersion(at: fact.time, terms: terms, eventId: id))
                }
                variations.append(ContractVariationEntry(at: fact.time, reason: d.reason, changed: changed,
                                                         applied: applied, eventId: id))
            case .contractEnded(let d):
                if ended == nil { ended = (fact.time, d.reason, id) }
            case .localPrioritySet:
                break
            }
        }
    }

    /// The terms in force at `t`: the latest version at or before it; nil before the award.
    public func terms(at t: Timestamp) -> ContractTerms? {
        var found: ContractTerms?
        for version in versions {
            if version.at > t { break }
            found = version.terms
        }
        return found
    }

    /// The latest terms.
    public var currentTerms: ContractTerms? { versions.last?.terms }

    /// When the contract stopped being in force: the contract-ended event, or the first instant
    /// past the period of the terms in force then (the start of the day after the period's last
    /// day), whichever comes first; nil while in force. A variation made after the period lapsed
    /// does not revive it.
    public var endedAt: Timestamp? {
        earliest(ended?.at, lapsedAt)
    }

    /// The first instant at or after the period end of the terms in force at that instant.
    public var lapsedAt: Timestamp? { lapse?.at }

    /// When the period lapsed, with the award or variation that set the period end then in force
    /// (the event a flag resolved by the lapse names).
    public var lapse: (at: Timestamp, eventId: String)? {
        for (i, version) in versions.enumerated() {
            guard let over = version.terms.periodOver else { continue }
            let candidate = max(over, version.at)
            if i + 1 == versions.count || candidate < versions[i + 1].at { return (candidate, version.eventId) }
        }
        return nil
    }

    /// The event that ended the contract: the contract-ended event, or the award or variation
    /// whose period end lapsed; nil while in force.
    public var endingEventId: String? {
        guard let endedAt else { return nil }
        if let ended, ended.at == endedAt { return ended.eventId }
        return lapse?.eventId
    }

    /// Why it stopped: the ended event's reason or the period end.
    public var endReason: String? {
        guard let endedAt else { return nil }
        if let ended, ended.at == endedAt { return ended.reason }
        return terms(at: endedAt).map { "contract period ended \($0.periodEnd)" } ?? "contract period ended"
    }

    /// Equality and hashing over the fields (tuples are not Hashable).
    public static func == (a: ContractFold, b: ContractFold) -> Bool {
        a.contractId == b.contractId && a.versions == b.versions && a.variations == b.variations
            && a.ended?.at == b.ended?.at && a.ended?.eventId == b.ended?.eventId && a.awardEventId == b.awardEventId
    }

    /// Hashes the identifying fields.
    public func hash(into h: inout Hasher) {
        h.combine(contractId)
        h.combine(versions)
        h.combine(ended?.eventId)
    }
}

/// Terms in force from an instant.
public struct ContractVersion: Sendable, Hashable {
    /// From when.
    public var at: Timestamp
    /// The terms.
    public var terms: ContractTerms
    /// The award or variation that set them.
    public var eventId: String
}

/// The source URN of a provider named in a payload.
func providerURNString(_ providerId: String) -> String { "urn:accord:interventions:\(providerId)" }
