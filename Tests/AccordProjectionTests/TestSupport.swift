import AccordEvents
import AccordProjection
import AccordTestSupport
import Foundation
import Testing

let probationSource = EventSamples.probationSource
let providerSource = EventSamples.interventionsSource  // urn:accord:interventions:ace-payback
let commissionerSource = EventSamples.commissionerSource

/// A state built from events, to look at as of several instants.
struct Scenario {
    var state: ProjectionState

    func at(_ asOf: Timestamp, knownAt: Timestamp? = nil) -> ScenarioView {
        ScenarioView(state: state, asOf: asOf, knownAt: knownAt)
    }
}

/// The view of a scenario at one instant.
struct ScenarioView {
    let state: ProjectionState
    let asOf: Timestamp
    let knownAt: Timestamp?

    func then(_ body: (ScenarioView) throws -> Void) rethrows { try body(self) }

    func flags(_ rule: FlagRule? = nil, openOnly: Bool = false) -> [Flag] {
        state.flags(asOf: asOf, knownAt: knownAt, filter: FlagFilter(rule: rule, openOnly: openOnly))
    }
    func caseView(_ caseId: String = "X000001") -> CaseView? { state.caseView(caseId, asOf: asOf, knownAt: knownAt) }
    func timeline(_ caseId: String = "X000001") -> [TimelineEntry] { state.timeline(caseId, asOf: asOf, knownAt: knownAt) }
    func contract(_ id: String = "CT-0001") -> ContractPerformance? { state.contractPerformance(id, asOf: asOf, knownAt: knownAt) }
    func area(_ area: String = "london-north") -> AreaSummary { state.areaSummary(area, asOf: asOf, knownAt: knownAt) }
    var digest: String { state.digest(asOf: asOf, knownAt: knownAt) }
}

/// Applies events in order; each is recorded at its own event time unless `recordedAt` says otherwise.
func given(_ events: [AccordEvent], rules: ProjectionRules = .defaults,
           recordedAt: (AccordEvent) -> Timestamp = { $0.time }) -> Scenario {
    var state = ProjectionState(rules: rules)
    for e in events { state.apply(e, recordedAt: recordedAt(e)) }
    return Scenario(state: state)
}

/// A seeded SplitMix64 generator (deterministic across runs and platforms).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
