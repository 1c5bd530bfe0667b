/// The kinds of partner agency that publish events into Accord.
public enum AgencyKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Offender management: the probation service that holds the case.
    case probation
    /// Intervention providers: unpaid work, curfew monitoring, treatment, programmes.
    case interventions
    /// Police and crime commissioners: contracts, local priorities and police outcomes.
    case commissioner
}

/// The CloudEvents `source` of an Accord event: a URN `urn:accord:<kind>:<agency-id>`
/// such as `urn:accord:probation:nps-london`, naming one agency of one kind.
public struct EventSource: Sendable, Hashable, CustomStringConvertible {
    /// The kind of agency.
    public let kind: AgencyKind
    /// The agency's identifier within its kind: lower-case letters, digits and `-`, 1–63 characters.
    public let agencyId: String

    /// Creates a source, or returns nil when `agencyId` does not match `^[a-z0-9][a-z0-9-]{0,62}$`.
    public init?(kind: AgencyKind, agencyId: String) {
        guard Patterns.isAgencyId(agencyId) else { return nil }
        self.kind = kind
        self.agencyId = agencyId
    }

    /// Parses `urn:accord:<kind>:<agency-id>`; returns nil for any other text.
    public init?(urn: String) {
        let prefix = "urn:accord:"
        guard urn.hasPrefix(prefix) else { return nil }
        let rest = urn.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":"),
              let kind = AgencyKind(rawValue: String(rest[..<colon])) else { return nil }
        self.init(kind: kind, agencyId: String(rest[rest.index(after: colon)...]))
    }

    /// The URN text, e.g. `urn:accord:interventions:ace-payback`.
    public var urn: String { "urn:accord:\(kind.rawValue):\(agencyId)" }

    /// Same as `urn`.
    public var description: String { urn }
}
