/// How long a curfew requirement lasts: a number of months or until a date.
public enum CurfewDuration: Sendable, Hashable {
    /// A number of months, 1...24.
    case months(Int)
    /// Until (and including) the given date.
    case until(CalendarDate)
}

/// One requirement of a court order or licence, written in JSON as an object with a `kind`
/// discriminator, e.g. `{"kind":"unpaid-work","hours":120}`.
public enum Requirement: Sendable, Hashable, Codable {
    /// Unpaid work (community payback) for a number of hours, > 0 and ≤ 300.
    case unpaidWork(hours: Double)
    /// A curfew of `hoursPerDay` (> 0, ≤ 24) for a number of months or until an end date.
    case curfew(hoursPerDay: Double, duration: CurfewDuration)
    /// Drug rehabilitation requirement.
    case drugTreatment
    /// Alcohol treatment requirement.
    case alcoholTreatment
    /// An accredited programme, named (1–100 characters).
    case accreditedProgramme(programme: String)

    /// The `kind` discriminator code.
    public var kind: String {
        switch self {
        case .unpaidWork: "unpaid-work"
        case .curfew: "curfew"
        case .drugTreatment: "drug-treatment"
        case .alcoholTreatment: "alcohol-treatment"
        case .accreditedProgramme: "accredited-programme"
        }
    }

    /// The intervention type that delivers this requirement.
    public var interventionType: InterventionType {
        switch self {
        case .unpaidWork: .unpaidWork
        case .curfew: .curfewMonitoring
        case .drugTreatment: .drugTreatment
        case .alcoholTreatment: .alcoholTreatment
        case .accreditedProgramme: .accreditedProgramme
        }
    }

    private enum Keys: String, CodingKey {
        case kind, hours, hoursPerDay, months, endDate, programme
    }

    static let kinds = ["unpaid-work", "curfew", "drug-treatment", "alcohol-treatment", "accredited-programme"]

    /// Decodes from the discriminated JSON object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "unpaid-work":
            self = .unpaidWork(hours: try c.decode(Double.self, forKey: .hours))
        case "curfew":
            let perDay = try c.decode(Double.self, forKey: .hoursPerDay)
            let months = try c.decodeIntegerIfPresent(Int.self, forKey: .months)
            let end = try c.decodeIfPresent(CalendarDate.self, forKey: .endDate)
            switch (months, end) {
            case let (m?, nil): self = .curfew(hoursPerDay: perDay, duration: .months(m))
            case let (nil, e?): self = .curfew(hoursPerDay: perDay, duration: .until(e))
            default:
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath,
                    debugDescription: "a curfew needs exactly one of months, endDate"))
            }
        case "drug-treatment": self = .drugTreatment
        case "alcohol-treatment": self = .alcoholTreatment
        case "accredited-programme":
            self = .accreditedProgramme(programme: try c.decode(String.self, forKey: .programme))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: c,
                debugDescription: "\"\(kind.prefix(40))\" is not one of \(Requirement.kinds.joined(separator: ", "))")
        }
    }

    /// Encodes as the discriminated JSON object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .unpaidWork(let hours):
            try c.encode(hours, forKey: .hours)
        case .curfew(let perDay, let duration):
            try c.encode(perDay, forKey: .hoursPerDay)
            switch duration {
            case .months(let m): try c.encode(m, forKey: .months)
            case .until(let d): try c.encode(d, forKey: .endDate)
            }
        case .drugTreatment, .alcoholTreatment:
            break
        case .accreditedProgramme(let programme):
            try c.encode(programme, forKey: .programme)
        }
    }

    func validate(_ check: Check) throws(EventError) {
        switch self {
        case .unpaidWork(let hours):
            try check.number(hours, "hours", above: 0, atMost: 300)
        case .curfew(let perDay, let duration):
            try check.number(perDay, "hoursPerDay", above: 0, atMost: 24)
            if case .months(let m) = duration { try check.integer(m, "months", atLeast: 1, atMost: 24) }
        case .drugTreatment, .alcoholTreatment:
            break
        case .accreditedProgramme(let programme):
            try check.text(programme, "programme", max: 100)
        }
    }
}
