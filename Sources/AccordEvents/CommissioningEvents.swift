/// Events published by commissioners on `commissioning.events.v1`, keyed by contract id
/// (by area code for `LocalPrioritySet`).
public enum CommissioningEvent: Sendable, Hashable {
    /// See `ContractAwarded`.
    case contractAwarded(ContractAwarded)
    /// See `ContractVaried`.
    case contractVaried(ContractVaried)
    /// See `ContractEnded`.
    case contractEnded(ContractEnded)
    /// See `LocalPrioritySet`.
    case localPrioritySet(LocalPrioritySet)

    /// The wrapped payload.
    public var data: any EventData {
        switch self {
        case .contractAwarded(let d): d
        case .contractVaried(let d): d
        case .contractEnded(let d): d
        case .localPrioritySet(let d): d
        }
    }
}

/// A commissioner awarded a contract to a provider (`org.accord.commissioning.contract-awarded.v1`).
public struct ContractAwarded: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.contractAwarded
    /// The contract's id.
    public var contractId: String
    /// The awarding commissioner.
    public var commissionerId: String
    /// The provider awarded.
    public var providerId: String
    /// What the contract buys.
    public var interventionType: InterventionType
    /// The area code it covers.
    public var area: String
    /// First day of the contract period.
    public var periodStart: CalendarDate
    /// Last day of the contract period.
    public var periodEnd: CalendarDate
    /// The contract price.
    public var price: Money
    /// Payment-by-results terms.
    public var paymentByResults: PaymentByResults
    /// Declared service levels.
    public var serviceLevels: ServiceLevels
    /// The highest risk level the provider is cleared to work with.
    public var maxRiskLevel: RiskLevel

    /// Creates the payload.
    public init(contractId: String, commissionerId: String, providerId: String, interventionType: InterventionType,
                area: String, periodStart: CalendarDate, periodEnd: CalendarDate, price: Money,
                paymentByResults: PaymentByResults, serviceLevels: ServiceLevels, maxRiskLevel: RiskLevel) {
        self.contractId = contractId
        self.commissionerId = commissionerId
        self.providerId = providerId
        self.interventionType = interventionType
        self.area = area
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.price = price
        self.paymentByResults = paymentByResults
        self.serviceLevels = serviceLevels
        self.maxRiskLevel = maxRiskLevel
    }

    /// The contract id.
    public var subjectId: String { contractId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .commissioning(.contractAwarded(self)) }

    /// Checks ids, area, price, fractions and day counts.
    public func validate() throws(EventError) {
        let check = Check()
        try check.identifier(contractId, "contractId")
        try check.identifier(commissionerId, "commissionerId")
        try check.identifier(providerId, "providerId")
        try check.code(area, "area")
        try price.validate(check.child("price"))
        try paymentByResults.validate(check.child("paymentByResults"))
        try serviceLevels.validate(check.child("serviceLevels"))
    }
}

/// A contract's terms were varied; only the changed terms are present, at least one
/// (`org.accord.commissioning.contract-varied.v1`).
public struct ContractVaried: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.contractVaried
    /// The contract varied.
    public var contractId: String
    /// Why (1–500 characters), optional.
    public var reason: String?
    /// New last day of the period.
    public var periodEnd: CalendarDate?
    /// New price.
    public var price: Money?
    /// New payment-by-results terms.
    public var paymentByResults: PaymentByResults?
    /// New service levels.
    public var serviceLevels: ServiceLevels?
    /// New highest risk level the provider is cleared for.
    public var maxRiskLevel: RiskLevel?

    /// Creates the payload.
    public init(contractId: String, reason: String? = nil, periodEnd: CalendarDate? = nil, price: Money? = nil,
                paymentByResults: PaymentByResults? = nil, serviceLevels: ServiceLevels? = nil,
                maxRiskLevel: RiskLevel? = nil) {
        self.contractId = contractId
        self.reason = reason
        self.periodEnd = periodEnd
        self.price = price
        self.paymentByResults = paymentByResults
        self.serviceLevels = serviceLevels
        self.maxRiskLevel = maxRiskLevel
    }

    /// The contract id.
    public var subjectId: String { contractId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .commissioning(.contractVaried(self)) }

    /// Checks the id, that at least one term changed, and each changed term's rules.
    public func validate() throws(EventError) {
        let check = Check()
        try check.identifier(contractId, "contractId")
        if let reason { try check.text(reason, "reason") }
        guard periodEnd != nil || price != nil || paymentByResults != nil || serviceLevels != nil
                || maxRiskLevel != nil else {
            throw EventError(.missingAttribute, field: "data",
                             "a variation needs at least one of periodEnd, price, paymentByResults, serviceLevels, maxRiskLevel")
        }
        try price?.validate(check.child("price"))
        try paymentByResults?.validate(check.child("paymentByResults"))
        try serviceLevels?.validate(check.child("serviceLevels"))
    }
}

/// A contract ended (`org.accord.commissioning.contract-ended.v1`).
public struct ContractEnded: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.contractEnded
    /// The contract ended.
    public var contractId: String
    /// Why (1–500 characters).
    public var reason: String

    /// Creates the payload.
    public init(contractId: String, reason: String) {
        self.contractId = contractId
        self.reason = reason
    }

    /// The contract id.
    public var subjectId: String { contractId }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .commissioning(.contractEnded(self)) }

    /// Checks the id and reason text.
    public func validate() throws(EventError) {
        let check = Check()
        try check.identifier(contractId, "contractId")
        try check.text(reason, "reason")
    }
}

/// A commissioner set a local priority for an area (`org.accord.commissioning.local-priority-set.v1`).
/// Its subject and key are the area code.
public struct LocalPrioritySet: EventData {
    /// Catalogue entry.
    public static let kind = EventKind.localPrioritySet
    /// The area code.
    public var area: String
    /// The commissioner setting it.
    public var commissionerId: String
    /// The priority, as a code such as `domestic-abuse` or `knife-crime`.
    public var priority: String

    /// Creates the payload.
    public init(area: String, commissionerId: String, priority: String) {
        self.area = area
        self.commissionerId = commissionerId
        self.priority = priority
    }

    /// The area code.
    public var subjectId: String { area }
    /// Wrapped as `EventPayload`.
    public var payload: EventPayload { .commissioning(.localPrioritySet(self)) }

    /// Checks the codes and id.
    public func validate() throws(EventError) {
        let check = Check()
        try check.code(area, "area")
        try check.identifier(commissionerId, "commissionerId")
        try check.code(priority, "priority")
    }
}
