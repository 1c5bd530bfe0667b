import AccordEvents

/// A count for one key (risk level, order type, rule, ...).
public struct KeyCount: Codable, Sendable, Hashable {
    /// The key, e.g. `high` or `community-order`.
    public var key: String
    /// How many.
    public var count: Int

    /// Creates a count.
    public init(key: String, count: Int) {
        self.key = key
        self.count = count
    }
}

/// Open flags for one accountable agency.
public struct AgencyFlagCount: Codable, Sendable, Hashable {
    /// The agency's source URN.
    public var accountable: String
    /// Its kind.
    public var kind: AgencyKind
    /// Open flags.
    public var count: Int

    /// Creates a count.
    public init(accountable: String, kind: AgencyKind, count: Int) {
        self.accountable = accountable
        self.kind = kind
        self.count = count
    }
}

/// A contract covering the area.
public struct AreaContract: Codable, Sendable, Hashable {
    /// The contract id.
    public var contractId: String
    /// The provider.
    public var providerId: String
    /// What it buys.
    public var interventionType: InterventionType
    /// Active or ended.
    public var status: ContractStatus

    /// Creates an entry.
    public init(contractId: String, providerId: String, interventionType: InterventionType, status: ContractStatus) {
        self.contractId = contractId
        self.providerId = providerId
        self.interventionType = interventionType
        self.status = status
    }
}

/// The latest setting of one local priority.
public struct LocalPriorityEntry: Codable, Sendable, Hashable {
    /// The priority code.
    public var priority: String
    /// The commissioner that set it.
    public var commissionerId: String
    /// When last set.
    public var setAt: Timestamp
    /// The event.
    public var eventId: String
}

/// A commissioner's summary of one area at `asOf`.
public struct AreaSummary: Codable, Sendable, Hashable {
    /// The area code.
    public var area: String
    /// The instant described.
    public var asOf: Timestamp
    /// Open cases currently in the area (after transfers).
    public var casesOpen: Int
    /// Closed cases whose last area was this one.
    public var casesClosed: Int
    /// Open cases by current risk level.
    public var openCasesByRiskLevel: [KeyCount]
    /// Open cases by order type.
    public var openCasesByOrderType: [KeyCount]
    /// Open cases with no practitioner allocated.
    public var unallocatedCases: [String]
    /// Open flags in the area by rule.
    public var openFlagsByRule: [KeyCount]
    /// Open flags in the area by accountable agency.
    public var openFlagsByAgency: [AgencyFlagCount]
    /// Contracts covering the area.
    public var contracts: [AreaContract]
    /// Local priorities set for the area (latest setting of each).
    public var localPriorities: [LocalPriorityEntry]
    /// Proven reoffences recorded for cases currently in the area.
    public var provenReoffences: Int
}
