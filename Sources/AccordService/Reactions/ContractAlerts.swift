import AccordEvents
import AccordProjection

/// A contract of this commissioner that is falling below one of its service levels.
public struct ContractAlert: Sendable, Hashable, Codable {
    /// The contract.
    public var contractId: String
    /// The provider holding the contract, if known.
    public var providerId: String?
    /// The accountability flag, e.g. `contract-below-service-level`.
    public var flag: String
    /// Which service level is missed, e.g. `minimumCompletionRate`, if the source says.
    public var serviceLevel: String?
    /// Since when (RFC 3339), if known.
    public var since: String?
    /// A human explanation with the figures.
    public var detail: String

    /// Creates an alert.
    public init(contractId: String, providerId: String? = nil, flag: String, serviceLevel: String? = nil,
                since: String? = nil, detail: String) {
        self.contractId = contractId
        self.providerId = providerId
        self.flag = flag
        self.serviceLevel = serviceLevel
        self.since = since
        self.detail = detail
    }
}

/// Where the commissioner service gets its contract alerts from. The computation belongs to the
/// pure projection in `AccordProjection` (a view fed with every consumed event);
/// this protocol is the seam between the service runtime and that projection.
public protocol ContractAlertSource: ReactionModel {
    /// The alerts for contracts of `commissionerId` as of `asOf`.
    /// Throws ``ContractAlertsUnavailable`` when no projection is connected.
    func alerts(commissionerId: String, asOf: Timestamp) throws -> [ContractAlert]
}

/// Thrown by a ``ContractAlertSource`` that cannot answer (for example, no projection connected).
public struct ContractAlertsUnavailable: Error, Sendable, CustomStringConvertible {
    /// Why.
    public var reason: String

    /// Creates the error.
    public init(reason: String) {
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}

/// A placeholder ``ContractAlertSource`` that ignores events and reports that no projection is connected.
public struct UnconnectedContractAlertSource: ContractAlertSource {
    /// Creates the placeholder.
    public init() {}

    /// Ignores the events.
    public func apply(_ events: [IncomingEvent]) {}

    /// Always throws ``ContractAlertsUnavailable``.
    public func alerts(commissionerId: String, asOf: Timestamp) throws -> [ContractAlert] {
        throw ContractAlertsUnavailable(reason: "contract alerts need the AccordProjection adapter, which is not connected yet")
    }
}
