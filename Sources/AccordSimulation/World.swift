import AccordEvents

/// A contract the simulation awards at the start of the period.
public struct SimulatedContract: Sendable, Hashable {
    /// Position in `Simulation.contracts`.
    public let index: Int
    /// `CT-0001`, `CT-0002`, …
    public let contractId: String
    /// The awarding commissioner's agency id.
    public let commissionerId: String
    /// The provider's agency id.
    public let providerId: String
    /// What the contract buys.
    public let interventionType: InterventionType
    /// The area covered.
    public let area: String
    /// The highest risk level the provider is cleared for.
    public let maxRiskLevel: RiskLevel
    /// Declared service levels.
    public let serviceLevels: ServiceLevels
    /// Payment-by-results terms.
    public let paymentByResults: PaymentByResults
    /// The price.
    public let price: Money
    /// Probation's relative preference when several cleared contracts fit.
    let preference: Double
    /// Whether this is the contract planned to fall below its service levels.
    public let underperforming: Bool
}

/// Fixed domain parameters of the simulated world: service levels, prices and rates.
enum Domain {
    static func serviceLevels(_ type: InterventionType) -> ServiceLevels {
        switch type {
        case .unpaidWork: ServiceLevels(referralResponseDays: 5, startWithinDays: 10, minimumCompletionRate: 0.65)
        case .curfewMonitoring: ServiceLevels(referralResponseDays: 1, startWithinDays: 2, minimumCompletionRate: 0.7)
        case .drugTreatment: ServiceLevels(referralResponseDays: 5, startWithinDays: 15, minimumCompletionRate: 0.45)
        case .alcoholTreatment: ServiceLevels(referralResponseDays: 5, startWithinDays: 15, minimumCompletionRate: 0.5)
        case .accreditedProgramme: ServiceLevels(referralResponseDays: 10, startWithinDays: 28, minimumCompletionRate: 0.55)
        }
    }

    static func paymentByResults(_ type: InterventionType) -> PaymentByResults {
        switch type {
        case .unpaidWork: PaymentByResults(outcomePaymentShare: 0.1, outcomeMetric: .completion)
        case .curfewMonitoring: PaymentByResults(outcomePaymentShare: 0.05, outcomeMetric: .completion)
        case .drugTreatment: PaymentByResults(outcomePaymentShare: 0.3, outcomeMetric: .noProvenReoffence)
        case .alcoholTreatment: PaymentByResults(outcomePaymentShare: 0.25, outcomeMetric: .noProvenReoffence)
        case .accreditedProgramme: PaymentByResults(outcomePaymentShare: 0.2, outcomeMetric: .completion)
        }
    }

    /// Price range in whole pounds.
    static func priceRange(_ type: InterventionType) -> ClosedRange<Int> {
        switch type {
        case .unpaidWork: 900_000...1_600_000
        case .curfewMonitoring: 400_000...800_000
        case .drugTreatment: 700_000...1_300_000
        case .alcoholTreatment: 350_000...700_000
        case .accreditedProgramme: 500_000...900_000
        }
    }

    /// Probability an intervention that started ends early for reasons other than enforcement.
    static func endedEarlyRate(_ type: InterventionType) -> Double {
        switch type {
        case .unpaidWork: 0.08
        case .curfewMonitoring: 0.05
        case .drugTreatment: 0.18
        case .alcoholTreatment: 0.16
        case .accreditedProgramme: 0.14
        }
    }

    static func endedEarlyReasons(_ type: InterventionType) -> [String] {
        switch type {
        case .unpaidWork: ["Medically unfit for unpaid work", "Moved out of the area", "Hours converted by the court"]
        case .curfewMonitoring: ["Curfew address no longer available", "Curfew requirement removed by the court"]
        case .drugTreatment: ["Disengaged from treatment", "Transferred to residential rehabilitation", "Moved out of the area"]
        case .alcoholTreatment: ["Disengaged from treatment", "Moved out of the area"]
        case .accreditedProgramme: ["Deselected from the programme", "Moved out of the area", "Work commitments prevent attendance"]
        }
    }

    static let declineReasons = [
        "No capacity in the area this quarter",
        "Assessed as unsuitable for this intervention",
        "Person's address is outside the delivery area",
    ]

    static let acceptableAbsences = [
        "Evidenced illness", "Hospital appointment", "Family emergency, evidenced", "Work shift agreed in advance",
    ]

    static let unacceptableAbsences = [
        "No reason given", "Failed to attend without explanation", "Said they forgot", "Arrived too late to take part",
    ]

    static let programmes = [("Thinking Skills Programme", 19), ("Building Better Relationships", 24), ("Resolve", 24)]

    static let reassessmentReasons = [
        "Scheduled review", "New information from police", "Change in personal circumstances",
        "Review following non-compliance", "Progress in treatment",
    ]

    static let offenceCategories = [
        "theft", "violence-against-the-person", "drug-offences", "criminal-damage", "public-order", "burglary",
        "motoring-offences",
    ]

    static let priorities = ["domestic-abuse", "knife-crime", "drug-related-reoffending", "violence-against-women-and-girls",
                             "acquisitive-crime"]
}
