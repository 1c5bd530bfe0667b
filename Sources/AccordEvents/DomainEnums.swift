/// A closed set of string codes in an event payload. Decoding an unknown code fails with a
/// message that lists the allowed codes, at the field's path.
public protocol CatalogueCode: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String {}

extension CatalogueCode {
    /// Decodes from a JSON string that must be one of the allowed codes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let allowed = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(raw.prefix(40))\" is not one of \(allowed)")
        }
        self = value
    }

    /// Encodes as its JSON string code.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Risk of serious harm level (also the highest level a provider is cleared for).
public enum RiskLevel: String, CatalogueCode, Comparable {
    /// Low risk.
    case low
    /// Medium risk.
    case medium
    /// High risk.
    case high
    /// Very high risk.
    case veryHigh = "very-high"

    /// Position on the scale, low = 0.
    public var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .veryHigh: 3
        }
    }

    /// Orders levels from low to very high.
    public static func < (lhs: RiskLevel, rhs: RiskLevel) -> Bool { lhs.rank < rhs.rank }
}

/// The legal basis of a probation case.
public enum OrderType: String, CatalogueCode {
    /// A community order.
    case communityOrder = "community-order"
    /// A suspended sentence order.
    case suspendedSentenceOrder = "suspended-sentence-order"
    /// A licence after release from custody.
    case licence
}

/// The kind of intervention a contract buys and a referral asks for.
public enum InterventionType: String, CatalogueCode {
    /// Community payback (unpaid work).
    case unpaidWork = "unpaid-work"
    /// Electronic curfew monitoring.
    case curfewMonitoring = "curfew-monitoring"
    /// Drug rehabilitation / treatment.
    case drugTreatment = "drug-treatment"
    /// Alcohol treatment.
    case alcoholTreatment = "alcohol-treatment"
    /// An accredited behaviour programme.
    case accreditedProgramme = "accredited-programme"
}

/// The kind of compliance failure probation recorded.
public enum ComplianceFailureKind: String, CatalogueCode {
    /// An appointment missed without acceptable reason.
    case missedAppointment = "missed-appointment"
    /// A curfew violation.
    case curfewViolation = "curfew-violation"
    /// Any other failure to comply.
    case other
}

/// Enforcement action taken by probation.
public enum EnforcementAction: String, CatalogueCode {
    /// A formal warning.
    case warning
    /// Breach proceedings returned to court.
    case breach
    /// Recall to custody (licence cases).
    case recall
}

/// How a case closed.
public enum CaseOutcome: String, CatalogueCode {
    /// The order or licence was completed.
    case completed
    /// The order was revoked by a court.
    case revoked
    /// The case was terminated (e.g. transferred out of scope, death).
    case terminated
}

/// The outcome a payment-by-results share of the price is paid on.
public enum OutcomeMetric: String, CatalogueCode {
    /// Paid when the intervention is completed.
    case completion
    /// Paid when no proven reoffence is recorded in the measurement period.
    case noProvenReoffence = "no-proven-reoffence"
}

/// Currency of a contract price. Only pounds sterling are used.
public enum Currency: String, CatalogueCode {
    /// Pound sterling; minor unit is the penny.
    case gbp = "GBP"
}
