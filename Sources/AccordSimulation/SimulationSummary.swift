import AccordEvents
import AccordProjection

/// Completion performance of one contract over the simulated period.
public struct ContractOutcome: Sendable, Hashable {
    /// The contract id.
    public let contractId: String
    /// The provider.
    public let providerId: String
    /// What it buys.
    public let interventionType: InterventionType
    /// The area.
    public let area: String
    /// Interventions completed within the period.
    public let completed: Int
    /// Interventions ended early within the period.
    public let endedEarly: Int
    /// The contract's declared minimum completion rate.
    public let minimumCompletionRate: Double

    /// completed / (completed + ended early), or nil before any ended.
    public var completionRate: Double? {
        completed + endedEarly == 0 ? nil : Double(completed) / Double(completed + endedEarly)
    }

    /// Whether at least `minimumOutcomes` interventions ended and the completion rate is below the minimum.
    public func isBelowServiceLevel(minimumOutcomes: Int) -> Bool {
        guard let rate = completionRate, completed + endedEarly >= minimumOutcomes else { return false }
        return rate < minimumCompletionRate
    }
}

/// What a simulation planned: counts by kind and agency and the flags it should provoke.
public struct SimulationSummary: Sendable, Hashable, CustomStringConvertible {
    /// Number of submissions.
    public let submissions: Int
    /// Cases opened within the period.
    public let cases: Int
    /// Contracts awarded.
    public let contracts: Int
    /// Submissions by event kind.
    public let byKind: [EventKind: Int]
    /// Submissions by `<agency kind>:<agency id>`, e.g. `probation:nps-london`.
    public let byAgency: [String: Int]
    /// Submissions by agency kind (which service receives them).
    public let byService: [AgencyKind: Int]
    /// Rough number of times each flag should be raised during the period (a flag later
    /// resolved still counts). Estimated with `thresholds` and the contracts' service levels.
    /// Every rule in ``provokedFlags`` has an entry (zero when not provoked).
    public let expectedFlags: [FlagRule: Int]
    /// Completion performance per contract.
    public let contractOutcomes: [ContractOutcome]
    /// The thresholds used for the estimate.
    public let thresholds: FlagThresholds
    /// Time of the first submission.
    public let first: Timestamp?
    /// Time of the last submission.
    public let last: Timestamp?

    /// The flag rules the simulation deliberately provokes, in report order (every rule except
    /// `sequence-gap`: submissions go through the services, which number them without gaps; only
    /// `Simulation.delivered`, the events as published straight to the topics, skips numbers).
    /// The projector decides what it actually raises.
    public static let provokedFlags: [FlagRule] = [
        .caseUnallocated, .referralUnanswered, .interventionNotStarted, .enforcementDecisionOverdue,
        .activityWithoutReferral, .riskNotCleared, .contractBelowServiceLevel,
    ]

    init(submissions list: [Submission], cases: Int, contracts: [SimulatedContract], tally: Tally,
         thresholds: FlagThresholds) {
        submissions = list.count
        var kinds: [EventKind: Int] = [:]
        var agencies: [String: Int] = [:]
        var services: [AgencyKind: Int] = [:]
        for s in list {
            kinds[s.type, default: 0] += 1
            agencies["\(s.agency.rawValue):\(s.agencyId)", default: 0] += 1
            services[s.agency, default: 0] += 1
        }
        byKind = kinds
        byAgency = agencies
        byService = services
        self.cases = kinds[.caseOpened] ?? 0
        self.contracts = contracts.count
        self.thresholds = thresholds
        first = list.first?.time
        last = list.last?.time
        let outcomes = contracts.map {
            ContractOutcome(contractId: $0.contractId, providerId: $0.providerId, interventionType: $0.interventionType,
                            area: $0.area, completed: tally.completedByContract[$0.index] ?? 0,
                            endedEarly: tally.endedEarlyByContract[$0.index] ?? 0,
                            minimumCompletionRate: $0.serviceLevels.minimumCompletionRate)
        }
        contractOutcomes = outcomes
        var flags = tally.flags
        let minimum = thresholds.minimumOutcomesForCompletionRate
        flags[.contractBelowServiceLevel] = outcomes.filter { $0.isBelowServiceLevel(minimumOutcomes: minimum) }.count
        for flag in Self.provokedFlags where flags[flag] == nil { flags[flag] = 0 }
        expectedFlags = flags
    }

    /// A plain-text report: totals, counts by service, agency and kind, expected flags and
    /// contracts below their completion service level.
    public var description: String {
        var lines: [String] = []
        lines.append("\(submissions) submissions, \(cases) cases, \(contracts) contracts"
                     + (first.flatMap { f in last.map { " from \(f) to \($0)" } } ?? ""))
        lines.append("by service:")
        for kind in AgencyKind.allCases { lines.append("  \(kind.rawValue): \(byService[kind] ?? 0)") }
        lines.append("by agency:")
        for (agency, n) in byAgency.sorted(by: { $0.key < $1.key }) { lines.append("  \(agency): \(n)") }
        lines.append("by kind:")
        for kind in EventKind.allCases where (byKind[kind] ?? 0) > 0 {
            lines.append("  \(kind.name): \(byKind[kind] ?? 0)")
        }
        lines.append("expected flags (allocation \(thresholds.unallocatedAfterDays) d, enforcement decision \(thresholds.enforcementDecisionDays) d, contract service levels):")
        for flag in Self.provokedFlags { lines.append("  \(flag.rawValue): \(expectedFlags[flag] ?? 0)") }
        let minimum = thresholds.minimumOutcomesForCompletionRate
        for c in contractOutcomes where c.isBelowServiceLevel(minimumOutcomes: minimum) {
            let rate = Int(((c.completionRate ?? 0) * 100).rounded())
            lines.append("  below service level: \(c.contractId) \(c.providerId) \(c.interventionType.rawValue) \(c.area): completion \(rate) % < \(Int((c.minimumCompletionRate * 100).rounded())) %")
        }
        return lines.joined(separator: "\n")
    }
}
