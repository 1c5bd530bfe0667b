import AccordEvents

/// A probation office (one probation agency) and the areas whose cases it holds.
public struct ProbationOffice: Sendable, Hashable {
    /// The agency id, e.g. `nps-london` (source `urn:accord:probation:nps-london`).
    public var id: String
    /// Area codes it covers, e.g. `london-north`; at least one.
    public var areas: [String]
    /// Relative share of new cases opened by this office (> 0).
    public var weight: Double

    /// Creates an office.
    public init(id: String, areas: [String], weight: Double) {
        self.id = id
        self.areas = areas
        self.weight = weight
    }
}

/// A police and crime commissioner: awards contracts, sets local priorities and publishes
/// police outcomes for its areas.
public struct Commissioner: Sendable, Hashable {
    /// The agency id, e.g. `pcc-london`.
    public var id: String
    /// Area codes it commissions for; at least one.
    public var areas: [String]

    /// Creates a commissioner.
    public init(id: String, areas: [String]) {
        self.id = id
        self.areas = areas
    }
}

/// An intervention provider that can be awarded contracts.
public struct Provider: Sendable, Hashable {
    /// The agency id, e.g. `ace-payback`; also the `providerId` in payloads.
    public var id: String
    /// The intervention types it delivers.
    public var interventionTypes: [InterventionType]
    /// Areas it operates in.
    public var areas: [String]
    /// The highest risk level it is cleared to work with.
    public var maxRiskLevel: RiskLevel
    /// Relative preference of probation when more than one cleared contract fits (> 0).
    public var preference: Double

    /// Creates a provider.
    public init(id: String, interventionTypes: [InterventionType], areas: [String], maxRiskLevel: RiskLevel,
                preference: Double = 1) {
        self.id = id
        self.interventionTypes = interventionTypes
        self.areas = areas
        self.maxRiskLevel = maxRiskLevel
        self.preference = preference
    }
}

/// The service-level thresholds the simulation assumes when it estimates which accountability
/// flags its plan should raise. Contract-specific limits come from the contracts themselves.
public struct FlagThresholds: Sendable, Hashable {
    /// A case still without a practitioner this many days after opening is flagged.
    public var unallocatedAfterDays: Int
    /// An unacceptable absence or curfew violation without an enforcement decision after this many days is flagged.
    public var enforcementDecisionDays: Int
    /// A contract needs at least this many finished interventions before its completion rate is judged.
    public var minimumOutcomesForCompletionRate: Int

    /// Creates thresholds (defaults: 5 days to allocate, 10 days to decide on enforcement, 10 outcomes).
    public init(unallocatedAfterDays: Int = 5, enforcementDecisionDays: Int = 10, minimumOutcomesForCompletionRate: Int = 10) {
        self.unallocatedAfterDays = unallocatedAfterDays
        self.enforcementDecisionDays = enforcementDecisionDays
        self.minimumOutcomesForCompletionRate = minimumOutcomesForCompletionRate
    }
}

/// Everything that shapes a simulated partnership caseload. The defaults describe one year
/// from 2025-04-01 of about 2,000 cases across two probation offices, two commissioners and
/// five providers.
public struct SimulationConfig: Sendable, Hashable {
    /// Number of cases opened during the period (0...200,000).
    public var cases: Int
    /// The seed: the same seed and config always give the same plan, byte for byte.
    public var seed: UInt64
    /// First day of the simulated period; contracts are awarded on it.
    public var start: CalendarDate
    /// Length of the period in days (1...3,660); nothing is planned on or after `start + days`.
    public var days: Int
    /// The probation offices.
    public var probationOffices: [ProbationOffice]
    /// The commissioners; every area of every office must be covered by one.
    public var commissioners: [Commissioner]
    /// The providers contracts are awarded to.
    public var providers: [Provider]
    /// How many provider events are recorded against referrals that were never made.
    public var activitiesWithoutReferral: Int
    /// Whether one contract (the first drug-treatment contract of the least-cleared provider)
    /// performs poorly: slower responses and many early endings, below its completion service level.
    public var underperformingContract: Bool
    /// Thresholds used to estimate the flags the plan should raise.
    public var thresholds: FlagThresholds

    /// Which office holds each area's cases (the first office that lists an area), as an
    /// `EventUpcaster` needs it to read `case-transferred.v1` events of this world.
    public var areaOffices: AreaOffices {
        var map: [String: String] = [:]
        for office in probationOffices {
            for area in office.areas where map[area] == nil { map[area] = office.id }
        }
        // A validated configuration has only codes and agency ids; anything else maps nothing.
        return (try? AreaOffices(map)) ?? .none
    }

    /// 2025-04-01, the default start.
    public static let defaultStart = CalendarDate(year: 2025, month: 4, day: 1) ?? EventSamples.defaultDate

    /// Default offices: `nps-london` (london-north, london-south; 65 % of cases) and
    /// `nps-midlands` (west-midlands; 35 %).
    public static let defaultProbationOffices = [
        ProbationOffice(id: "nps-london", areas: ["london-north", "london-south"], weight: 0.65),
        ProbationOffice(id: "nps-midlands", areas: ["west-midlands"], weight: 0.35),
    ]

    /// Default commissioners: `pcc-london` and `pcc-west`.
    public static let defaultCommissioners = [
        Commissioner(id: "pcc-london", areas: ["london-north", "london-south"]),
        Commissioner(id: "pcc-west", areas: ["west-midlands"]),
    ]

    /// Default providers: `ace-payback` (unpaid work, cleared to high), `safe-hours` (curfew
    /// monitoring), `clearpath` (drug & alcohol treatment, cleared to medium only),
    /// `renew-recovery` (drug & alcohol treatment, cleared to very high) and `mindset`
    /// (accredited programmes).
    public static let defaultProviders = [
        Provider(id: "ace-payback", interventionTypes: [.unpaidWork],
                 areas: ["london-north", "london-south", "west-midlands"], maxRiskLevel: .high),
        Provider(id: "safe-hours", interventionTypes: [.curfewMonitoring],
                 areas: ["london-north", "london-south", "west-midlands"], maxRiskLevel: .veryHigh),
        Provider(id: "clearpath", interventionTypes: [.drugTreatment, .alcoholTreatment],
                 areas: ["london-north", "london-south", "west-midlands"], maxRiskLevel: .medium, preference: 2),
        Provider(id: "renew-recovery", interventionTypes: [.drugTreatment, .alcoholTreatment],
                 areas: ["london-north", "london-south", "west-midlands"], maxRiskLevel: .veryHigh),
        Provider(id: "mindset", interventionTypes: [.accreditedProgramme],
                 areas: ["london-north", "london-south", "west-midlands"], maxRiskLevel: .veryHigh),
    ]

    /// Creates a configuration; every argument has a realistic default.
    public init(cases: Int = 2_000, seed: UInt64 = 2025, start: CalendarDate = SimulationConfig.defaultStart,
                days: Int = 365, probationOffices: [ProbationOffice] = SimulationConfig.defaultProbationOffices,
                commissioners: [Commissioner] = SimulationConfig.defaultCommissioners,
                providers: [Provider] = SimulationConfig.defaultProviders,
                activitiesWithoutReferral: Int = 6, underperformingContract: Bool = true,
                thresholds: FlagThresholds = FlagThresholds()) {
        self.cases = cases
        self.seed = seed
        self.start = start
        self.days = days
        self.probationOffices = probationOffices
        self.commissioners = commissioners
        self.providers = providers
        self.activitiesWithoutReferral = activitiesWithoutReferral
        self.underperformingContract = underperformingContract
        self.thresholds = thresholds
    }

    /// The first instant of the period (midnight UTC of `start`).
    public var startTime: Timestamp { Timestamp(startOf: start) }

    /// The first instant after the period.
    public var endTime: Timestamp {
        Timestamp(startOf: start.adding(days: days) ?? start)
    }
}

/// Why a `SimulationConfig` cannot be simulated.
public struct SimulationConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the setting.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

extension SimulationConfig {
    /// Checks every setting; the first problem found is thrown.
    public func validate() throws(SimulationConfigError) {
        guard (0...200_000).contains(cases) else { throw SimulationConfigError("cases must be 0...200000, got \(cases)") }
        guard (1...3_660).contains(days) else { throw SimulationConfigError("days must be 1...3660, got \(days)") }
        guard (1900...9000).contains(start.year) else {
            throw SimulationConfigError("start must be in years 1900...9000, got \(start)")
        }
        guard (0...1_000).contains(activitiesWithoutReferral) else {
            throw SimulationConfigError("activitiesWithoutReferral must be 0...1000, got \(activitiesWithoutReferral)")
        }
        guard !probationOffices.isEmpty else { throw SimulationConfigError("at least one probation office is needed") }
        guard !providers.isEmpty else { throw SimulationConfigError("at least one provider is needed") }
        var coveredAreas: Set<String> = []
        for commissioner in commissioners {
            try Self.checkAgencyId(commissioner.id, "commissioner")
            guard !commissioner.areas.isEmpty else { throw SimulationConfigError("commissioner \(commissioner.id) covers no area") }
            for area in commissioner.areas {
                try Self.checkArea(area)
                coveredAreas.insert(area)
            }
        }
        for office in probationOffices {
            try Self.checkAgencyId(office.id, "probation office")
            guard !office.areas.isEmpty else { throw SimulationConfigError("probation office \(office.id) covers no area") }
            guard office.weight > 0, office.weight.isFinite else {
                throw SimulationConfigError("probation office \(office.id) needs a positive weight")
            }
            for area in office.areas {
                try Self.checkArea(area)
                guard coveredAreas.contains(area) else {
                    throw SimulationConfigError("area \(area) of \(office.id) has no commissioner")
                }
            }
        }
        for provider in providers {
            try Self.checkAgencyId(provider.id, "provider")
            guard provider.preference > 0, provider.preference.isFinite else {
                throw SimulationConfigError("provider \(provider.id) needs a positive preference")
            }
        }
        guard thresholds.unallocatedAfterDays >= 0, thresholds.enforcementDecisionDays >= 0,
              thresholds.minimumOutcomesForCompletionRate >= 1 else {
            throw SimulationConfigError("thresholds must be non-negative (minimum outcomes ≥ 1)")
        }
    }

    private static func checkAgencyId(_ id: String, _ what: String) throws(SimulationConfigError) {
        guard EventSource(kind: .probation, agencyId: id) != nil else {
            throw SimulationConfigError("\(what) id \"\(id)\" must match ^[a-z0-9][a-z0-9-]{0,62}$")
        }
    }

    private static func checkArea(_ area: String) throws(SimulationConfigError) {
        let ok = LocalPrioritySet(area: area, commissionerId: "x", priority: "x")
        do { try ok.validate() } catch {
            throw SimulationConfigError("area \"\(area)\" must match ^[a-z][a-z0-9-]{0,47}$")
        }
    }
}
