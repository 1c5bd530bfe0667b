import AccordEvents
import AccordSimulation

/// Agency submissions from the seeded simulation, scaled to a target number of events.
public struct WorkloadPlan: Sendable {
    /// The submissions, in time order: the first `events` of the simulated period.
    public let submissions: [Submission]
    /// Cases the simulation opened (some may fall after the cut).
    public let simulatedCases: Int
    /// The simulation's configuration.
    public let config: SimulationConfig

    /// The largest case count the simulation accepts.
    public static let maximumCases = 200_000

    /// Plans at least `events` submissions with `seed` and keeps the first `events` of them in time
    /// order. `configure` may change the simulated world (agencies, areas); it gets the case count.
    public static func make(events: Int, seed: UInt64,
                            configure: @Sendable (Int) -> SimulationConfig = { SimulationConfig(cases: $0) }) throws -> WorkloadPlan {
        guard events >= 1 else { throw BenchError("the workload needs at least one event, got \(events)") }
        let pilotCases = 400
        var pilotConfig = configure(pilotCases)
        pilotConfig.seed = seed
        let pilot = try Simulation(config: pilotConfig).plan().count
        let perCase = max(1.0, Double(pilot) / Double(pilotCases))
        var cases = min(maximumCases, Int((Double(events) / perCase * 1.03).rounded(.up)) + 10)
        for _ in 0..<4 {
            var config = configure(cases)
            config.seed = seed
            let all = try Simulation(config: config).plan()
            if all.count >= events {
                return WorkloadPlan(submissions: Array(all.prefix(events)), simulatedCases: cases, config: config)
            }
            guard cases < maximumCases else {
                throw BenchError("the simulation plans at most \(all.count) events (\(maximumCases) cases); ask for fewer events")
            }
            cases = min(maximumCases, Int((Double(cases) * Double(events) / Double(max(1, all.count)) * 1.05).rounded(.up)) + 10)
        }
        throw BenchError("the simulation did not reach \(events) events")
    }
}
