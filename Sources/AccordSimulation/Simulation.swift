import AccordEvents
import Foundation

/// A seeded, realistic partnership caseload played as agency submissions.
///
/// Pure: no I/O and no clock. The same `SimulationConfig` (including the seed) always gives
/// the same plan, byte for byte; a different seed gives a different one.
///
/// The world: commissioners award contracts on the first day (one per provider, intervention
/// type and area) and set local priorities; probation opens cases through the period (court
/// orders and licences with requirements, about 20 % high or very-high risk), allocates
/// practitioners, reassesses risk and refers each requirement to a matching contract; providers
/// accept or decline, start, deliver (appointments, unpaid work hours, curfew monitoring,
/// treatment sessions) and complete or end early; probation records compliance failures and
/// takes enforcement action (warning, breach, recall), transfers and closes cases; the
/// commissioners publish proven reoffences. A share of everything happens late or not at all,
/// so the accountability view has flags to raise (see `SimulationSummary.expectedFlags`).
public struct Simulation: Sendable {
    /// The configuration.
    public let config: SimulationConfig
    /// The contracts awarded on the first day, in id order.
    public let contracts: [SimulatedContract]

    /// Creates a simulation; throws when the configuration is not usable.
    public init(config: SimulationConfig = SimulationConfig()) throws(SimulationConfigError) {
        try config.validate()
        self.config = config
        self.contracts = Simulation.awardContracts(config)
    }

    /// The planned submissions, sorted by time (stable for equal times).
    public func plan() -> [Submission] { run().submissions }

    /// The planned submissions with a summary of what was planned.
    public func run() -> SimulationPlan {
        var planner = Planner(config: config, contracts: contracts)
        return planner.run()
    }

    private static func awardContracts(_ config: SimulationConfig) -> [SimulatedContract] {
        var rng = SplitMix64.stream(seed: config.seed, 0)
        var out: [SimulatedContract] = []
        var underperformerChosen = !config.underperformingContract
        // The least-cleared provider's first drug-treatment contract underperforms.
        let weakest = config.providers.filter { $0.interventionTypes.contains(.drugTreatment) }
            .min { $0.maxRiskLevel < $1.maxRiskLevel }?.id
        for commissioner in config.commissioners {
            for area in commissioner.areas {
                for type in InterventionType.allCases {
                    for provider in config.providers
                    where provider.areas.contains(area) && provider.interventionTypes.contains(type) {
                        let index = out.count
                        let under = !underperformerChosen && type == .drugTreatment && provider.id == weakest
                        if under { underperformerChosen = true }
                        let pounds = rng.int(Domain.priceRange(type))
                        out.append(SimulatedContract(
                            index: index, contractId: "CT-" + pad(index + 1, 4), commissionerId: commissioner.id,
                            providerId: provider.id, interventionType: type, area: area,
                            maxRiskLevel: provider.maxRiskLevel, serviceLevels: Domain.serviceLevels(type),
                            paymentByResults: Domain.paymentByResults(type),
                            price: Money(amountMinor: pounds / 1000 * 1000 * 100), preference: provider.preference,
                            underperforming: under))
                    }
                }
            }
        }
        return out
    }
}

/// The result of a simulation run.
public struct SimulationPlan: Sendable {
    /// Every submission, sorted by time (stable for equal times).
    public let submissions: [Submission]
    /// What was planned.
    public let summary: SimulationSummary
}

/// Zero-padded decimal text.
func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    let count = digits.utf8.count
    return count >= width ? digits : String(repeating: "0", count: width - count) + digits
}

/// One planned event before sorting; `sec` is seconds since the Unix epoch.
struct Pending {
    var sec: Int64
    var agency: AgencyKind
    var agencyId: String
    var payload: EventPayload
    var id: UUID
    var correlationId: String?
    var causationId: UUID?
    /// Index of the referral the event belongs to within its case, or -1.
    var referral: Int = -1
    /// Whether the event ends the referral's delivery (completed or ended early).
    var terminal: Bool = false
}

/// Seconds-based calendar helpers over the simulated period.
struct Period {
    static let day: Int64 = 86_400
    static let hour: Int64 = 3_600
    let startSec: Int64
    let endSec: Int64
    let days: Int

    init(_ config: SimulationConfig) {
        startSec = config.startTime.secondsSinceEpoch
        endSec = config.endTime.secondsSinceEpoch
        days = config.days
    }

    func dayStart(_ sec: Int64) -> Int64 { floorDiv(sec, Period.day) * Period.day }

    /// 0 = Monday … 6 = Sunday.
    func weekday(_ sec: Int64) -> Int {
        let days = floorDiv(sec, Period.day)
        return Int(((days + 3) % 7 + 7) % 7)
    }

    func hourOfDay(_ sec: Int64) -> Int { Int((sec - dayStart(sec)) / Period.hour) }

    /// A weekday office time (09:00–16:59) `minDays...maxDays` days after `sec`, strictly after `sec`.
    func office(after sec: Int64, days range: ClosedRange<Int>, _ rng: inout SplitMix64) -> Int64 {
        var day = dayStart(sec) + Int64(rng.int(range)) * Period.day
        while weekday(day) >= 5 { day += Period.day }
        var t = day + 9 * Period.hour + Int64(rng.int(0...479)) * 60
        if t <= sec { t = sec + Int64(rng.int(15...120)) * 60 }
        return t
    }

    /// A daytime (08:00–17:59) instant `range` days after `sec`, any day of the week, strictly after `sec`.
    func daytime(after sec: Int64, days range: ClosedRange<Int>, _ rng: inout SplitMix64) -> Int64 {
        let day = dayStart(sec) + Int64(rng.int(range)) * Period.day
        var t = day + 8 * Period.hour + Int64(rng.int(0...599)) * 60
        if t <= sec { t = sec + Int64(rng.int(10...90)) * 60 }
        return t
    }

    /// Moves an instant outside 08:00–17:59 back to 17:xx of the same or previous day when that
    /// stays after `floor`; otherwise leaves it.
    func businessHours(_ t: Int64, after floor: Int64) -> Int64 {
        let h = hourOfDay(t)
        if h >= 8 && h < 18 { return t }
        let minuteOfHour = (t % Period.hour + Period.hour) % Period.hour
        let base = h >= 18 ? dayStart(t) : dayStart(t) - Period.day
        let candidate = base + 17 * Period.hour + minuteOfHour
        return candidate > floor ? candidate : t
    }

    func timestamp(_ sec: Int64) -> Timestamp {
        Timestamp(secondsSinceEpoch: sec) ?? Timestamp(startOf: SimulationConfig.defaultStart)
    }

    func date(_ sec: Int64) -> CalendarDate { timestamp(sec).utcDate }

    func sec(of date: CalendarDate) -> Int64 { Int64(date.daysSinceEpoch) * Period.day }

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }
}

/// Deterministic ids: a version-8 UUID from a stream's 128 random bits.
struct IdSource {
    var rng: SplitMix64

    init(seed: UInt64, stream: UInt64) {
        rng = SplitMix64.stream(seed: seed ^ 0x5EED_1D5E_ED1D_5EED, stream)
    }

    mutating func next() -> UUID {
        let a = rng.next(), b = rng.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
